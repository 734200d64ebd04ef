"""lifelong.toml: typed sections validated on load, so a bad value fails before anything runs.

Each section is a dataclass whose fields carry their help text; ``__post_init__`` checks values
and names the key at fault. ``load_config`` rejects unknown keys and wrong types the same way.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

from ..devices import check_device, check_dtype, check_quantization
from ..errors import ConfigError
from ..files import atomic_write
from .moved_keys import migrate_keys


def _help(text, default):
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": text})
    return field(default=default, metadata={"help": text})


def _check(ok: bool, key: str, message: str, value) -> None:
    if not ok:
        raise ConfigError(f"{key} {message}, got {value!r}")


@dataclass
class ModelsConfig:
    generator: str = _help("Causal LM: 'smollm2' (bundled), an HF model id or a local path", "smollm2")
    embedder: str = _help(
        "Sentence encoder: 'all-minilm-l6-v2' (bundled), an HF id or a local path", "all-minilm-l6-v2"
    )
    device: str = _help("Where models run and train: auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps", "auto")
    dtype: str = _help("Weights' precision: auto (bfloat16 on a GPU that has it, else float32), float32, bfloat16 "
                       "or float16", "auto")
    quantization: str = _help("Load the generator's linear layers in fewer bits with bitsandbytes and train LoRA "
                              "on top (QLoRA): none, 8bit or 4bit", "none")

    def __post_init__(self):
        check_device(self.device)
        check_dtype(self.dtype)
        check_quantization(self.quantization)


@dataclass
class GenerationConfig:
    max_new_tokens: int = _help("Most tokens generated per answer", 128)
    temperature: float = _help("0 decodes greedily; above 0 samples", 0.0)
    top_p: float = _help("Nucleus sampling mass when sampling", 1.0)
    system_prompt: str = _help(
        "System message of the chat task",
        "You are a helpful assistant. Answer briefly. When context is given, use it and cite "
        "the sources as [n].",
    )

    def __post_init__(self):
        _check(self.max_new_tokens > 0, "generation.max_new_tokens", "must be > 0", self.max_new_tokens)
        _check(self.temperature >= 0, "generation.temperature", "must be >= 0", self.temperature)
        _check(0 < self.top_p <= 1, "generation.top_p", "must be in (0, 1]", self.top_p)


@dataclass
class RetrievalConfig:
    retriever: str = _help("Registered retriever plugin", "faiss")
    top_k: int = _help("Chunks put into the prompt", 3)

    def __post_init__(self):
        _check(self.top_k > 0, "retrieval.top_k", "must be > 0", self.top_k)


@dataclass
class LearningConfig:
    strategy: str = _help("Continual-learning strategy: replay, naive, joint or ewc", "replay")
    buffer: str = _help("Replay-buffer policy: reservoir, balanced or recency", "reservoir")
    buffer_size: int = _help("Most examples the replay buffer keeps per task", 500)
    replay_ratio: float = _help("Replayed examples per new example in a run", 1.0)
    seed: int = _help("Seed for sampling and training; the same seed repeats a run", 0)
    holdout_fraction: float = _help("Share of new examples kept out of training for the gate", 0.2)
    tolerance: float = _help("Largest drop of the score on an earlier cycle's data that still promotes", 0.05)
    probe_tolerance: float = _help(
        "Largest relative rise of the probe perplexity (generic text) that still promotes", 0.25
    )
    behaviour_tolerance: float = _help(
        "Largest share of the behaviour probe's general questions that the parent answered right and "
        "the candidate may get wrong, and still be promoted", 0.05
    )
    objective: str = _help(
        "How feedback is learned (learning/objectives.py): sft (answers to give: corrections, thumbs-up), "
        "dpo (also preference pairs), kto (also ratings, thumbs-down included) or auto (each kind by its own)", "sft"
    )
    preference_beta: float = _help(
        "DPO/KTO strength: how far from the starting model a preference may move the answers' log-probabilities "
        "(TRL's beta)", 0.1
    )
    min_new: int = _help("New examples needed before a scheduled run starts", 10)
    gate: bool = _help("Promote only candidates that pass the evaluation gate (off: always, for benchmarks)", True)
    threads: int = _help(
        "CPU threads a learning cycle uses (torch, BLAS, tokenizers); 0: the cores no other process is using "
        "when the cycle starts", 0)
    micro_batch_size: int = _help(
        "Most examples per forward pass of one training process: a larger batch is split and its gradients "
        "accumulated, the same step in less memory (0: a whole batch per pass)", 0
    )

    def __post_init__(self):
        for key in ("buffer_size", "min_new"):
            value = getattr(self, key)
            _check(value > 0, f"learning.{key}", "must be > 0", value)
        from ..learning.objectives import OBJECTIVES

        _check(self.objective in OBJECTIVES, "learning.objective", f"must be one of {', '.join(OBJECTIVES)}", self.objective)
        _check(self.preference_beta > 0, "learning.preference_beta", "must be > 0", self.preference_beta)
        _check(self.micro_batch_size >= 0, "learning.micro_batch_size", "must be >= 0", self.micro_batch_size)
        _check(0 <= self.threads <= 1024, "learning.threads", "must be from 0 (the free cores) to 1024", self.threads)
        _check(self.replay_ratio >= 0, "learning.replay_ratio", "must be >= 0", self.replay_ratio)
        _check(0 <= self.holdout_fraction < 1, "learning.holdout_fraction", "must be in [0, 1)", self.holdout_fraction)
        _check(0 <= self.tolerance <= 1, "learning.tolerance", "must be in [0, 1]", self.tolerance)
        _check(self.probe_tolerance >= 0, "learning.probe_tolerance", "must be >= 0", self.probe_tolerance)
        _check(0 <= self.behaviour_tolerance <= 1, "learning.behaviour_tolerance", "must be in [0, 1]", self.behaviour_tolerance)


def check_database_url(url: str, key: str) -> None:
    """A database URL must be PostgreSQL's; the SQLite file needs none."""
    _check(urlsplit(url).scheme in ("postgresql", "postgres") and "://" in url, key,
           "must be a postgresql://user@host/db URL, or left out for the workspace's SQLite file",
           url if "@" not in url else f"{url.split('://')[0]}://...@{url.split('@')[-1]}")


@dataclass
class MemoryConfig:
    database: str = _help(
        "Shared PostgreSQL database (postgresql://user@host/db) for several replicas; empty: the "
        "workspace's SQLite file. LIFELONG_DATABASE_URL overrides it", "")
    adapters: str = _help(
        "Folder every replica reads and the learner writes adapters to (a shared mount, the same "
        "path on each machine); empty: the workspace's adapters folder", "")

    def __post_init__(self):
        if self.database:
            check_database_url(self.database, "memory.database")


@dataclass
class PluginsConfig:
    modules: list = _help("Extra plugin modules to load: names of installed modules (a .py file is loaded with "
                          "lifelong --plugin FILE or LIFELONG_PLUGINS, never from a workspace's config)", [])
    # The [plugins.NAME] tables: each plugin's options, checked against its own dataclass by the
    # plugin host once the plugins are loaded (this module cannot know them).
    options: dict = field(default_factory=dict, metadata={"tables": True})

    def __post_init__(self):
        for item in self.modules:
            _check(isinstance(item, str) and item, "plugins.modules", "must be a list of module names", self.modules)
            # A workspace folder may come from an imported archive: code in it is never run.
            _check(not item.endswith(".py"), "plugins.modules",
                   f"names installed modules only (a workspace's own files may come from an imported archive); "
                   f"load a plugin file with 'lifelong --plugin {item}' or LIFELONG_PLUGINS={item}", item)


@dataclass
class Config:
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    models: ModelsConfig = field(default_factory=ModelsConfig)
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    learning: LearningConfig = field(default_factory=LearningConfig)
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    # Task instances: name -> {"plugin": ..., plugin options}; validated by the task plugin.
    tasks: dict = _help("Task instances, e.g. [tasks.intent] plugin = 'classify'", {})

    def __post_init__(self):
        for name, options in self.tasks.items():
            _check(isinstance(options, dict), f"tasks.{name}", "must be a table", options)
            plugin = options.get("plugin")
            _check(isinstance(plugin, str) and plugin, f"tasks.{name}.plugin", "must name a task plugin", plugin)

    def task_options(self, name: str) -> dict:
        """Options of task instance ``name``; ``chat`` exists even when not configured."""
        if name in self.tasks:
            return dict(self.tasks[name])
        if name == "chat":
            return {"plugin": "chat"}
        return {}


def _type_ok(value, annotation) -> bool:
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _build(cls, data: dict, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix or 'config'} must be a table, got {data!r}")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in known:
            raise ConfigError(
                f"unknown key {prefix}{key!s}; known keys: {', '.join(sorted(known))}"
            )
    kwargs = {}
    for key, value in data.items():
        annotation = hints[key]
        if dataclasses.is_dataclass(annotation):
            kwargs[key] = _build(annotation, value, f"{prefix}{key}.")
            continue
        if isinstance(annotation, types.GenericAlias):
            annotation = annotation.__origin__
        if isinstance(annotation, types.UnionType):  # "float | None": an optional setting
            members = [a for a in annotation.__args__ if a is not type(None)]
            annotation = members[0] if len(members) == 1 else annotation
        if not _type_ok(value, annotation):
            raise ConfigError(
                f"{prefix}{key} must be of type {annotation.__name__}, got {value!r}"
            )
        if annotation is float:
            try:
                value = float(value)
            except OverflowError:  # an integer past the float range
                value = math.inf
            if not math.isfinite(value):
                raise ConfigError(f"{prefix}{key} must be a finite number, got {data[key]!r}")
        kwargs[key] = value
    return cls(**kwargs)


def options_from_dict(cls, data: dict, prefix: str):
    """A plugin's options dataclass from ``data``, checked like lifelong.toml: unknown keys,
    wrong types and non-finite numbers are a ConfigError naming ``prefix`` + the key; so is an
    error ``__post_init__`` raises that names the key alone."""
    try:
        return _build(cls, data, prefix)
    except ConfigError as exc:
        if prefix in str(exc):
            raise
        raise ConfigError(f"{prefix}{exc}") from None


def config_from_dict(data: dict, source: str = "lifelong.toml") -> Config:
    data = migrate_keys(data, source)
    plugins = data.get("plugins", {})
    if isinstance(plugins, dict):  # [plugins.NAME] tables are kept for the plugin host to check
        tables = {k: v for k, v in plugins.items() if isinstance(v, dict)}
        data = {**data, "plugins": {k: v for k, v in plugins.items() if k not in tables}}
    config = _build(Config, data, "")
    if isinstance(plugins, dict):
        config.plugins.options = tables
    return config


def load_config(path: Path) -> Config:
    """Read and validate ``path``; a missing file means the defaults."""
    if not path.exists():
        return Config()
    if not path.is_file():
        raise ConfigError(f"{path}: not a file; move it away for the defaults")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # TOMLDecodeError, or an integer too long to convert
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the file or delete it for the defaults") from None
    try:
        return config_from_dict(data, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def config_to_dict(config: Config) -> dict:
    data = dataclasses.asdict(config)
    data["plugins"] = {"modules": data["plugins"]["modules"], **data["plugins"]["options"]}
    return data


def save_config(config: Config, path: Path) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    text = tomli_w.dumps(config_to_dict(config))
    with atomic_write(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def describe(cls=Config, prefix="", instance=None) -> list[tuple[str, object, str]]:
    """(key, value, help) for every setting of ``instance`` (default: the defaults), for
    ``lifelong config``."""
    rows = []
    instance = cls() if instance is None else instance
    for f in dataclasses.fields(cls):
        value = getattr(instance, f.name)
        if f.metadata.get("tables"):
            continue
        if dataclasses.is_dataclass(value):
            rows.extend(describe(type(value), f"{prefix}{f.name}.", value))
        else:
            rows.append((f"{prefix}{f.name}", value, f.metadata.get("help", "")))
    return rows

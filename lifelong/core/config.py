"""lifelong.toml: typed sections validated on load, so a bad value fails before anything runs.

Each section is an ``Options`` dataclass (lifelong/options.py) whose fields carry their help text
and rules; ``load_config`` rejects unknown keys, wrong types and broken rules, naming the key.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import tomli_w

from ..devices import DTYPES, QUANTIZATIONS, check_device
from ..errors import ConfigError
from ..files import atomic_write
from ..learning.objectives import OBJECTIVES
from ..options import Options, option, options_from_dict
from .moved_keys import migrate_keys


def _check(ok: bool, key: str, message: str, value) -> None:
    if not ok:
        raise ConfigError(f"{key} {message}, got {value!r}")


@dataclass
class ModelsConfig(Options):
    generator: str = option("smollm2", "Causal LM: 'smollm2' (bundled), an HF model id or a local path")
    embedder: str = option("all-minilm-l6-v2", "Sentence encoder: 'all-minilm-l6-v2' (bundled), an HF id or a local path")
    device: str = option("auto", "Where models run and train: auto (CUDA, then Apple MPS, then CPU), cpu, cuda, cuda:N or mps")
    dtype: str = option("auto", "Weights' precision: auto (bfloat16 on a GPU that has it, else float32), float32, "
                                "bfloat16 or float16", choices=DTYPES)
    quantization: str = option("none", "Load the generator's linear layers in fewer bits with bitsandbytes and train "
                                       "LoRA on top (QLoRA): none, 8bit or 4bit", choices=QUANTIZATIONS)

    def __post_init__(self):
        super().__post_init__()
        check_device(self.device)


@dataclass
class GenerationConfig(Options):
    max_new_tokens: int = option(128, "Most tokens generated per answer", above=0)
    temperature: float = option(0.0, "0 decodes greedily; above 0 samples", at_least=0)
    top_p: float = option(1.0, "Nucleus sampling mass when sampling", above=0, at_most=1)
    system_prompt: str = option(
        "You are a helpful assistant. Answer briefly. When context is given, use it and cite the sources as [n].",
        "System message of the chat task")


@dataclass
class RetrievalConfig(Options):
    retriever: str = option("faiss", "Registered retriever plugin")
    top_k: int = option(3, "Chunks put into the prompt", above=0)


@dataclass
class LearningConfig(Options):
    strategy: str = option("replay", "Continual-learning strategy: replay, naive, joint or ewc")
    buffer: str = option("reservoir", "Replay-buffer policy: reservoir, balanced or recency")
    buffer_size: int = option(500, "Most examples the replay buffer keeps per task", above=0)
    replay_ratio: float = option(
        5.0, "Replayed examples per new example in a run (the chat task trains a replayed question alone, a new one "
             "under 4 rewordings too: 5 replayed cost about what 1 new does, and rehearse 5 earlier facts)", at_least=0)
    seed: int = option(0, "Seed for sampling and training; the same seed repeats a run")
    holdout_fraction: float = option(0.2, "Share of new examples kept out of training for the gate", at_least=0, below=1)
    tolerance: float = option(0.05, "Largest drop of the score on an earlier cycle's data that still promotes",
                              at_least=0, at_most=1)
    probe_tolerance: float = option(0.25, "Largest relative rise of the probe perplexity (generic text) that still "
                                          "promotes", at_least=0)
    behaviour_tolerance: float = option(
        0.05, "Largest share of the behaviour probe's general questions that the parent answered right and the "
              "candidate may get wrong, and still be promoted", at_least=0, at_most=1)
    objective: str = option(
        "sft", "How feedback is learned (learning/objectives.py): sft (answers to give: corrections, thumbs-up), "
               "dpo (also preference pairs), kto (also ratings, thumbs-down included) or auto (each kind by its own)",
        choices=OBJECTIVES)
    preference_beta: float = option(
        0.1, "DPO/KTO strength: how far from the starting model a preference may move the answers' log-probabilities "
             "(TRL's beta)", above=0)
    min_new: int = option(10, "New examples needed before a scheduled run starts", above=0)
    max_new: int = option(
        40, "Most new examples one run learns, the oldest first; the others wait for the next run, so a run's cost "
            "stays bounded when refused runs leave their examples pending (0: every pending example)", at_least=0)
    gate: bool = option(True, "Promote only candidates that pass the evaluation gate (off: always, for benchmarks)")
    threads: int = option(
        0, "CPU threads a learning cycle uses (torch, BLAS, tokenizers); 0: the cores no other process is using when "
           "the cycle starts", at_least=0, at_most=1024)
    micro_batch_size: int = option(
        0, "Most examples per forward pass of one training process: a larger batch is split and its gradients "
           "accumulated, the same step in less memory (0: a whole batch per pass)", at_least=0)


def check_database_url(url: str, key: str) -> None:
    """A database URL must be PostgreSQL's; the SQLite file needs none."""
    _check(urlsplit(url).scheme in ("postgresql", "postgres") and "://" in url, key,
           "must be a postgresql://user@host/db URL, or left out for the workspace's SQLite file",
           url if "@" not in url else f"{url.split('://')[0]}://...@{url.split('@')[-1]}")


@dataclass
class MemoryConfig(Options):
    database: str = option(
        "", "Shared PostgreSQL database (postgresql://user@host/db) for several replicas; empty: the "
            "workspace's SQLite file. LIFELONG_DATABASE_URL overrides it")
    adapters: str = option(
        "", "Folder every replica reads and the learner writes adapters to (a shared mount, the same "
            "path on each machine); empty: the workspace's adapters folder")

    def __post_init__(self):
        super().__post_init__()
        if self.database:
            check_database_url(self.database, "memory.database")


@dataclass
class PluginsConfig(Options):
    modules: list = option([], "Extra plugin modules to load: names of installed modules (a .py file is loaded with "
                               "lifelong --plugin FILE or LIFELONG_PLUGINS, never from a workspace's config)")
    # The [plugins.NAME] tables: each plugin's options, checked against its own dataclass by the
    # plugin host once the plugins are loaded (this module cannot know them).
    options: dict = field(default_factory=dict, metadata={"tables": True})

    def __post_init__(self):
        super().__post_init__()
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
    tasks: dict = option({}, "Task instances, e.g. [tasks.intent] plugin = 'classify'")

    def __post_init__(self):
        _check(isinstance(self.tasks, dict), "tasks", "must be a table of tables ([tasks.NAME])", self.tasks)
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


def config_from_dict(data: dict, source: str = "lifelong.toml") -> Config:
    data = migrate_keys(data, source)
    plugins = data.get("plugins", {})
    if isinstance(plugins, dict):  # [plugins.NAME] tables are kept for the plugin host to check
        tables = {k: v for k, v in plugins.items() if isinstance(v, dict)}
        data = {**data, "plugins": {k: v for k, v in plugins.items() if k not in tables}}
    config = options_from_dict(Config, data, "")
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

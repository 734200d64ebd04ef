"""Settings that moved from the core sections of lifelong.toml to the ``[plugins.NAME]`` table
of the plugin that reads them, or to the ``[tasks.NAME]`` table of the task they configure, so
that an older lifelong.toml keeps working.

A moved key set to anything but its old default is read under its new name, with a warning,
once per file and key, that names the new key. One left at its old default is dropped without
a word: every lifelong.toml written before the move lists all keys with their defaults, and
warning about settings nobody chose would be noise."""

from __future__ import annotations

import copy
import logging

from ..errors import ConfigError

log = logging.getLogger("lifelong")

# old key: (new key, the old default)
MOVED = {
    "plugins": ("plugins.modules", []),
    "models.threads": ("plugins.hf_models.threads", 0),
    "retrieval.chunk_size": ("plugins.retrieval.chunk_size", 200),
    "retrieval.chunk_overlap": ("plugins.retrieval.chunk_overlap", 30),
    "retrieval.mode": ("plugins.retrieval.mode", "hybrid"),
    "retrieval.approximate_above": ("plugins.retrieval.approximate_above", 200_000),
    "retrieval.json_text_field": ("plugins.retrieval.json_text_field", "text"),
    "retrieval.csv_column": ("plugins.retrieval.csv_column", "text"),
    "retrieval.max_file_mb": ("plugins.retrieval.max_file_mb", 50.0),
    "retrieval.correction_match": ("plugins.corrections.min_similarity", 0.8),
    "privacy.redact_pii": ("plugins.pii.redact", True),
    "learning.ewc_lambda": ("plugins.strategies.ewc_lambda", 1000.0),
    # The chat task's training options: [learning], then [plugins.chat], now its own [tasks.chat].
    **{f"{section}.{key}": (f"tasks.chat.{key}", default) for section in ("learning", "plugins.chat") for key, default in (
        ("peft", "lora"), ("lora_r", 16), ("lora_targets", "mlp"), ("epochs", 3), ("learning_rate", 1e-3), ("batch_size", 4))},
}
RETIRED_SECTIONS = ("privacy",)  # sections left with no key of their own

_warned: set[tuple[str, str]] = set()


def migrate_keys(data: dict, source: str) -> dict:
    """``data`` (parsed lifelong.toml) with each moved key under its new name; ``source`` names
    the file in warnings and errors."""
    data = copy.deepcopy(data)
    emptied = []
    for old, (new, default) in MOVED.items():
        *section, key = old.split(".")
        table = data
        for part in section:
            table = table.get(part) if isinstance(table, dict) else None
        if not isinstance(table, dict) or key not in table:
            continue
        if old == "plugins" and not isinstance(table[key], list):
            continue  # already the [plugins] table
        value = table.pop(key)
        if section and not table:
            emptied.append(section)
        if type(value) is type(default) and value == default:
            continue
        *path, new_key = new.split(".")
        target = data
        for part in path:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{source}: {'.'.join(path)} must be a table, got {target!r}")
        if path[0] == "tasks":
            target.setdefault("plugin", path[1])  # the task named after its plugin, as chat is
        if new_key in target:
            raise ConfigError(f"{source}: both {old} and {new} are set; {old} is the old name of {new}: delete it")
        target[new_key] = value
        if (source, old) not in _warned:
            _warned.add((source, old))
            log.warning("%s: %s is now %s; move it there (it is read as that meanwhile)", source, old, new)
    for section in [*emptied, *([s] for s in RETIRED_SECTIONS)]:
        *parents, last = section
        table = data
        for part in parents:
            table = table.get(part, {})
        if table.get(last) == {}:
            del table[last]
    return data

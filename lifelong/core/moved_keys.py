"""Settings that moved from the core sections of lifelong.toml to the ``[plugins.NAME]`` table
of the plugin that reads them, so that an older lifelong.toml keeps working.

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
    "learning.peft": ("plugins.chat.peft", "lora"),
    "learning.lora_r": ("plugins.chat.lora_r", 16),
    "learning.lora_targets": ("plugins.chat.lora_targets", "mlp"),
    "learning.epochs": ("plugins.chat.epochs", 3),
    "learning.learning_rate": ("plugins.chat.learning_rate", 1e-3),
    "learning.batch_size": ("plugins.chat.batch_size", 4),
}
RETIRED_SECTIONS = ("privacy",)  # sections left with no key of their own

_warned: set[tuple[str, str]] = set()


def migrate_keys(data: dict, source: str) -> dict:
    """``data`` (parsed lifelong.toml) with each moved key under its new name; ``source`` names
    the file in warnings and errors."""
    data = copy.deepcopy(data)
    for old, (new, default) in MOVED.items():
        *section, key = old.split(".")
        table = data.get(section[0], None) if section else data
        if not isinstance(table, dict) or key not in table:
            continue
        if old == "plugins" and not isinstance(table[key], list):
            continue  # already the [plugins] table
        value = table.pop(key)
        if type(value) is type(default) and value == default:
            continue
        *path, new_key = new.split(".")
        target = data
        for part in path:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ConfigError(f"{source}: {'.'.join(path)} must be a table, got {target!r}")
        if new_key in target:
            raise ConfigError(f"{source}: both {old} and {new} are set; {old} is the old name of {new}: delete it")
        target[new_key] = value
        if (source, old) not in _warned:
            _warned.add((source, old))
            log.warning("%s: %s is now %s; move it there (it is read as that meanwhile)", source, old, new)
    for section in RETIRED_SECTIONS:
        if data.get(section) == {}:
            del data[section]
    return data

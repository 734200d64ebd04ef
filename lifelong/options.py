"""One way to declare and check options, for lifelong.toml's sections and every plugin's and
task's options: a dataclass subclassing ``Options`` whose fields are declared with ``option``.

    @dataclass
    class MyOptions(Options):
        mode: str = option("fast", "How it runs: fast or careful", choices=("fast", "careful"))
        rate: float = option(0.5, "Share of items kept", at_least=0, at_most=1)

Creating one checks every field's type (an int is taken where a float is declared; ``X | None``
also takes None) and the rules ``option`` declared, and fails with a ConfigError naming the key,
the rule and the value. A rule that relates two fields goes in the subclass's own
``__post_init__``, after ``super().__post_init__()``."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import field
from functools import cache

from .errors import ConfigError


def option(default, help: str, *, choices: tuple | None = None, at_least=None, above=None, at_most=None, below=None):
    """A field of an ``Options`` dataclass: its default, its help text (``lifelong config``
    shows it) and the rules its value must meet."""
    rules = {"help": help, "choices": choices, "at_least": at_least, "above": above, "at_most": at_most, "below": below}
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=rules)
    return field(default=default, metadata=rules)


class Options:
    """Base of every options dataclass: ``__post_init__`` checks the fields (module docstring)."""

    def __post_init__(self):
        check_fields(self)


def check_fields(options) -> None:
    """Check each field of the dataclass instance ``options`` against its declared type and the
    rules of ``option``; a float field given an int becomes a float."""
    hints = _hints(type(options))
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        kind = hints[f.name]
        if dataclasses.is_dataclass(kind):
            continue  # a section of lifelong.toml: checked when it was built
        kind, optional = _unwrap(kind)
        if value is None and optional:
            continue
        if not _type_ok(value, kind):
            raise ConfigError(f"{f.name} must be of type {kind.__name__}, got {value!r}")
        if kind is float:
            try:
                number = float(value)
            except OverflowError:  # an integer past the float range
                number = math.inf
            if not math.isfinite(number):
                raise ConfigError(f"{f.name} must be a finite number, got {value!r}")
            object.__setattr__(options, f.name, number)
            value = number
        broken = _broken_rule(value, f.metadata, kind)
        if broken:
            raise ConfigError(f"{f.name} must be {broken}, got {value!r}")


@cache
def _hints(cls) -> dict:
    return typing.get_type_hints(cls)


def _unwrap(kind) -> tuple[type, bool]:
    """(the type a value must have, whether None is also taken) for an annotation."""
    optional = False
    if isinstance(kind, types.UnionType):  # "float | None": an optional setting
        members = [a for a in kind.__args__ if a is not type(None)]
        optional = len(members) < len(kind.__args__)
        kind = members[0] if len(members) == 1 else object
    if isinstance(kind, types.GenericAlias):
        kind = kind.__origin__
    return kind, optional


def _type_ok(value, kind) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind)


def _broken_rule(value, rules, kind) -> str | None:
    """What ``value`` must be, when it breaks one of ``rules``; else None."""
    choices = rules.get("choices")
    if choices and value not in choices:
        return one_of(choices)
    low, high = rules.get("at_least"), rules.get("at_most")
    above, below = rules.get("above"), rules.get("below")
    if all(bound is None for bound in (low, high, above, below)):
        return None
    if ((low is None or value >= low) and (above is None or value > above)
            and (high is None or value <= high) and (below is None or value < below)):
        return None
    if low is not None and high is not None:
        return f"{'an integer' if kind is int else 'a number'} from {low} to {high}"
    lower = f"[{low}" if low is not None else f"({above}" if above is not None else None
    upper = f"{high}]" if high is not None else f"{below})" if below is not None else None
    if lower and upper:
        return f"in {lower}, {upper}"
    if lower:
        return f">= {low}" if low is not None else f"> {above}"
    return f"<= {high}" if high is not None else f"< {below}"


def one_of(choices) -> str:
    """``choices`` as a sentence says them: "a, b or c"."""
    names = [str(c) for c in choices]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def options_from_dict(cls, data: dict, prefix: str):
    """The options dataclass ``cls`` from ``data`` (a TOML table), every error a ConfigError
    naming ``prefix`` + the key: unknown keys, wrong types, broken rules, nested sections. A
    dataclass that does not subclass ``Options`` gets its types checked all the same."""
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a table, got {data!r}")
    hints = _hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(str(key) for key in data if key not in known)
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]}; known keys: {', '.join(sorted(known))}")
    values = {key: options_from_dict(hints[key], value, f"{prefix}{key}.") if dataclasses.is_dataclass(hints[key]) else value
              for key, value in data.items()}
    try:
        options = cls(**values)
        if not isinstance(options, Options):
            check_fields(options)
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(message if message.startswith(prefix) else f"{prefix}{message}") from None
    return options

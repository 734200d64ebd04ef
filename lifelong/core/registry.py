"""What each plugin registered, by kind, so a duplicate name is refused with both plugins named.

A plugin may register an object or a ``"module:attribute"`` string, imported on first use: a
plugin whose implementation needs torch registers it that way, so that the CLI's help and
``lifelong plugins`` start without it."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass

from ..errors import NotFoundError, PluginError

KINDS = ("tasks", "retrievers", "learners", "buffers", "models")


@dataclass(frozen=True)
class Registration:
    kind: str
    name: str
    obj: object
    plugin: str


class Registry:
    def __init__(self):
        self._items: dict[str, dict[str, Registration]] = {kind: {} for kind in KINDS}
        self.hint = ""  # appended to "unknown ..." errors: why a name may be missing

    def add(self, kind: str, name: str, obj: object, plugin: str) -> None:
        if not isinstance(name, str) or not name:
            raise PluginError(f"plugin {plugin!r} registered a {kind[:-1]} without a name; pass register(name, obj)")
        if isinstance(obj, str) and ":" not in obj:
            raise PluginError(f"plugin {plugin!r} registered {kind[:-1]} {name!r} as {obj!r}; register an object "
                              "or a 'module:attribute' string")
        existing = self._items[kind].get(name)
        if existing is not None:
            raise PluginError(
                f"plugin {plugin!r} registers {kind[:-1]} {name!r}, already registered by plugin "
                f"{existing.plugin!r}; rename one, or leave one out with LIFELONG_LOAD_PLUGINS"
            )
        self._items[kind][name] = Registration(kind, name, obj, plugin)

    def get(self, kind: str, name: str):
        registration = self._items[kind].get(name)
        if registration is None:
            known = ", ".join(sorted(self._items[kind])) or "none"
            hint = f"; {self.hint}" if self.hint else ""
            raise NotFoundError(f"unknown {kind[:-1]} {name!r}; registered: {known}{hint}")
        if isinstance(registration.obj, str):
            registration = Registration(kind, name, _import(registration), registration.plugin)
            self._items[kind][name] = registration
        return registration.obj

    def names(self, kind: str) -> list[str]:
        return sorted(self._items[kind])

    def by_plugin(self, plugin: str) -> dict[str, list[str]]:
        return {
            kind: sorted(r.name for r in items.values() if r.plugin == plugin)
            for kind, items in self._items.items()
            if any(r.plugin == plugin for r in items.values())
        }


def _import(registration: Registration):
    module, _, attribute = registration.obj.partition(":")
    try:
        return getattr(importlib.import_module(module), attribute)
    except Exception as exc:
        if os.environ.get("LIFELONG_RAISE_ERRORS"):
            raise
        raise PluginError(
            f"plugin {registration.plugin!r} registered {registration.kind[:-1]} {registration.name!r} as "
            f"{registration.obj!r}, which failed to import: {type(exc).__name__}: {exc} "
            "(LIFELONG_RAISE_ERRORS=1 shows the traceback)"
        ) from exc

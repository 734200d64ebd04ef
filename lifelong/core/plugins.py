"""Loading plugins: the built-ins, the ``lifelong`` entry-point group, then the modules named in
the workspace config, all through the same path. ``LIFELONG_LOAD_PLUGINS`` (comma-separated
plugin names) picks exactly which load; an empty value loads none."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

import pluggy

from . import hookspecs
from ..errors import PluginError
from .registry import KINDS, Registry

ENTRY_POINT_GROUP = "lifelong"

# Built-ins, loaded exactly as a third-party plugin would be: name -> module.
DEFAULT_PLUGINS = {
    "hf_models": "lifelong.plugins.hf_models",
    "retrieval": "lifelong.plugins.retrieval",
    "chat": "lifelong.plugins.chat",
    "classify": "lifelong.plugins.classify",
    "corrections": "lifelong.plugins.corrections",
    "buffers": "lifelong.plugins.buffers",
    "strategies": "lifelong.plugins.strategies",
    "pii": "lifelong.plugins.pii",
}


@dataclass
class PluginInfo:
    name: str
    source: str  # built-in | entry point (dist version) | config
    module: str
    hooks: list[str] = field(default_factory=list)
    registers: dict[str, list[str]] = field(default_factory=dict)


class PluginHost:
    """The pluggy manager plus the registry filled by the registration hooks."""

    def __init__(self, config_plugins: list[str] = (), base_dir: Path | None = None):
        self.pm = pluggy.PluginManager("lifelong")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.info: dict[str, PluginInfo] = {}
        allow = _allow_list()
        for name, module in DEFAULT_PLUGINS.items():
            if allow is None or name in allow:
                self._load(name, module, "built-in", lambda m=module: importlib.import_module(m))
        for dist, ep in _entry_points():
            if allow is None or ep.name in allow:
                self._load(ep.name, ep.value, f"entry point ({dist.name} {dist.version})", ep.load)
        for spec in config_plugins:
            name = Path(spec).stem if spec.endswith(".py") else spec
            if allow is None or name in allow or spec in allow:
                self._load(name, spec, "config", lambda s=spec: _import_spec(s, base_dir))
        if allow is not None:
            self.registry.hint = _allow_list_hint(allow, self.info)
        self._collect_registrations()

    @property
    def hook(self):
        return self.pm.hook

    def _load(self, name, module, source, importer):
        if name in self.info:
            raise PluginError(
                f"two plugins are named {name!r} ({self.info[name].source} and {source}); "
                "uninstall or rename one"
            )
        try:
            plugin = importer()
            self.pm.register(plugin, name=name)
        except Exception as exc:
            if os.environ.get("LIFELONG_RAISE_ERRORS"):
                raise
            raise PluginError(
                f"plugin {name!r} ({source}, {module}) failed to load: {type(exc).__name__}: {exc}; "
                "fix or uninstall it, or leave it out with LIFELONG_LOAD_PLUGINS "
                "(LIFELONG_RAISE_ERRORS=1 shows the traceback)"
            ) from exc
        hooks = sorted(h.name for h in self.pm.get_hookcallers(plugin) or [])
        self.info[name] = PluginInfo(name, source, module, hooks)

    def _collect_registrations(self):
        for kind in KINDS:
            caller = getattr(self.pm.hook, f"register_{kind}")
            for impl in caller.get_hookimpls():
                plugin_name = self.pm.get_name(impl.plugin)

                def register(name, obj, _kind=kind, _plugin=plugin_name):
                    self.registry.add(_kind, name, obj, _plugin)

                impl.function(*[{"register": register}[arg] for arg in impl.argnames])
        for name, info in self.info.items():
            info.registers = self.registry.by_plugin(name)

    def add_commands(self, cli) -> None:
        """Run ``register_commands`` on the CLI and record which plugin added what."""
        for impl in self.pm.hook.register_commands.get_hookimpls():
            before = {c.name or c.callback.__name__ for c in cli.registered_commands}
            impl.function(*[{"cli": cli}[arg] for arg in impl.argnames])
            after = {c.name or c.callback.__name__ for c in cli.registered_commands}
            info = self.info[self.pm.get_name(impl.plugin)]
            if after - before:
                info.registers["commands"] = sorted(after - before)


def _allow_list() -> set[str] | None:
    value = os.environ.get("LIFELONG_LOAD_PLUGINS")
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def _allow_list_hint(allow: set[str], loaded) -> str:
    """Why a name may be unknown: LIFELONG_LOAD_PLUGINS left its plugin out, or names one that
    does not exist (a typo)."""
    hint = f"LIFELONG_LOAD_PLUGINS={os.environ['LIFELONG_LOAD_PLUGINS']!r} loads only: {', '.join(sorted(loaded)) or 'no plugin'}"
    missing = sorted(allow - set(loaded))
    if missing:
        hint += f"; it names plugins that are not installed: {', '.join(missing)}"
    return hint + f" (built-ins: {', '.join(DEFAULT_PLUGINS)})"


def _entry_points():
    seen = set()
    for dist in importlib.metadata.distributions():
        for ep in dist.entry_points:
            if ep.group == ENTRY_POINT_GROUP and ep.name not in seen:
                seen.add(ep.name)
                yield dist, ep


def _import_spec(spec: str, base_dir: Path | None):
    if not spec.endswith(".py"):
        return importlib.import_module(spec)
    path = Path(spec)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.exists():
        raise FileNotFoundError(f"no such file {path}")
    module_spec = importlib.util.spec_from_file_location(f"lifelong_plugin_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module

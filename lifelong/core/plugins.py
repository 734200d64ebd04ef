"""Loading plugins: the built-ins, the ``lifelong`` entry-point group, the installed modules named
in the workspace config, then the plugins the user names for the process (``LIFELONG_PLUGINS``,
``lifelong --plugin``: module names or .py files), all through the same path.
``LIFELONG_LOAD_PLUGINS`` (comma-separated plugin names) picks exactly which load; an empty
value loads none.

A workspace's config never loads a file: a workspace may be an archive someone else exported
(``lifelong import``), and importing data must not run code shipped with it."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pluggy

from . import hookspecs
from ..errors import ConfigError, PluginError
from ..options import options_from_dict
from .registry import KINDS, Registry

ENTRY_POINT_GROUP = "lifelong"

# Built-ins, loaded exactly as a third-party plugin would be: name -> module.
DEFAULT_PLUGINS = {
    "hf_models": "lifelong.plugins.hf_models",
    "retrieval": "lifelong.plugins.retrieval",
    "chat": "lifelong.plugins.chat",
    "classify": "lifelong.plugins.classify",
    "corrections": "lifelong.plugins.chat.corrections",
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

    def __init__(self, config_plugins: list[str] = (), options: dict | None = None):
        """``options``: the ``[plugins.NAME]`` tables of lifelong.toml, checked here against
        each plugin's options dataclass (None: no workspace, nothing to check)."""
        self.pm = pluggy.PluginManager("lifelong")
        self.pm.add_hookspecs(hookspecs)
        self.registry = Registry()
        self.info: dict[str, PluginInfo] = {}
        allow = _allow_list()
        installed = set(DEFAULT_PLUGINS)  # loaded or not: LIFELONG_LOAD_PLUGINS may leave some out
        for name, module in DEFAULT_PLUGINS.items():
            if allow is None or name in allow:
                self._load(name, module, "built-in", lambda m=module: importlib.import_module(m))
        for dist, ep in _entry_points():
            installed.add(ep.name)
            if allow is None or ep.name in allow:
                self._load(ep.name, ep.value, f"entry point ({dist.name} {dist.version})", ep.load)
        for spec, source in [*((s, "config") for s in config_plugins), *((s, "LIFELONG_PLUGINS") for s in user_plugins())]:
            name = Path(spec).stem if spec.endswith(".py") else spec
            installed.add(name)
            if allow is None or name in allow or spec in allow:
                self._load(name, spec, source, lambda s=spec, c=source == "config": _import_spec(s, installed_only=c))
        if allow is not None:
            self.registry.hint = _allow_list_hint(allow, self.info)
        self._collect_registrations()
        self.migrations = self._collect_migrations()
        self.options = self._checked_options(options or {}, installed)

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
        if any(impl.plugin is plugin and (impl.hookwrapper or impl.wrapper)
               for impl in self.pm.hook.before_ask.get_hookimpls()):
            self.pm.unregister(plugin)
            raise PluginError(f"plugin {name!r} ({source}) implements before_ask as a wrapper; the agent calls each "
                              "before_ask itself to record which plugin answered: make it a plain implementation")
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

    def first_answer(self, **kwargs) -> tuple[str | None, object]:
        """(plugin, answer) of the first ``before_ask`` implementation that answers, in
        pluggy's call order (tryfirst/trylast honoured), or (None, None): called one by one so
        the log can say which plugin answered."""
        for impl in reversed(self.pm.hook.before_ask.get_hookimpls()):
            answer = impl.function(*(kwargs[name] for name in impl.argnames))
            if answer is not None:
                return self.pm.get_name(impl.plugin), answer
        return None, None

    def _impls(self, hook: str):
        """(plugin name, implementation) of each plugin implementing ``hook``."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            yield self.pm.get_name(impl.plugin), impl

    def _collect_migrations(self) -> dict[str, list[tuple[str, object, object]]]:
        found = {}
        for plugin, impl in self._impls("register_migrations"):
            found[plugin] = []

            def register(name, migration, postgresql=None, _plugin=plugin):
                if (not isinstance(name, str) or not name or not callable(migration)
                        or not (postgresql is None or callable(postgresql) or isinstance(postgresql, str))):
                    raise PluginError(f"plugin {_plugin!r} registered migration {name!r} badly; pass "
                                      "register(name, function, postgresql=SQL text or function)")
                if any(name == known for known, *_ in found[_plugin]):
                    raise PluginError(f"plugin {_plugin!r} registers migration {name!r} twice; give each its own name")
                found[_plugin].append((name, migration, postgresql))

            impl.function(*[{"register": register}[arg] for arg in impl.argnames])
        return found

    def _checked_options(self, tables: dict, installed: set[str]) -> dict[str, object]:
        """Each loaded plugin's options, built from its ``[plugins.NAME]`` table. A table of a
        plugin that is not installed (a typo) or takes no options is an error; that of one
        LIFELONG_LOAD_PLUGINS leaves out is not read."""
        classes = {}
        for plugin, impl in self._impls("plugin_options"):
            cls = impl.function()
            if not dataclasses.is_dataclass(cls) or not isinstance(cls, type):
                raise PluginError(f"plugin {plugin!r}: plugin_options returned {cls!r}, not a dataclass")
            classes[plugin] = cls
        for name in tables:
            if name not in installed:
                raise ConfigError(f"plugins.{name}: there is no plugin {name!r} (installed: {', '.join(sorted(installed))}); "
                                  "fix the table's name or delete it")
            if name in self.info and name not in classes:
                raise ConfigError(f"plugins.{name}: plugin {name!r} takes no options; delete the table")
        return {plugin: options_from_dict(cls, tables.get(plugin, {}), f"plugins.{plugin}.")
                for plugin, cls in classes.items()}

    def task_settings(self, config) -> dict:
        """Each configured task's options (``chat`` always), built as the task builds them, for
        the tasks whose plugin is loaded and declares them (``Task.settings_class``)."""
        found = {}
        for name in {"chat": None, **config.tasks}:
            options = config.task_options(name)
            if options.get("plugin") not in self.registry.names("tasks"):
                continue  # the task names the missing plugin when it is used
            declared = self.registry.get("tasks", options["plugin"]).settings_class
            if declared is not None:
                found[name] = options_from_dict(declared, {k: v for k, v in options.items() if k != "plugin"}, f"tasks.{name}.")
        return found

    def options_of(self, cls):
        """The options of the plugin whose ``plugin_options`` returned ``cls``."""
        for options in self.options.values():
            if type(options) is cls:
                return options
        raise PluginError(f"no loaded plugin declares the options {cls.__name__}; return it from a plugin_options hook")

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


def user_plugins() -> list[str]:
    """The plugins the user loads for this process: ``LIFELONG_PLUGINS`` (what ``lifelong
    --plugin`` sets), comma-separated module names or .py files (relative to the current folder)."""
    return [spec.strip() for spec in os.environ.get("LIFELONG_PLUGINS", "").split(",") if spec.strip()]


def _import_spec(spec: str, installed_only: bool = False):
    """``installed_only`` (a module a workspace's config names): not from the current folder,
    which Python searches first under ``python -c`` and ``-m`` and may be an imported workspace."""
    if not spec.endswith(".py"):
        if not installed_only:
            return importlib.import_module(spec)
        here = {"", ".", os.getcwd()}
        saved = sys.path[:]
        sys.path[:] = [p for p in sys.path if p not in here]
        try:
            return importlib.import_module(spec)
        finally:
            sys.path[:] = saved
    path = Path(spec).expanduser().absolute()
    if not path.exists():
        raise FileNotFoundError(f"no such file {path}")
    name = f"lifelong_plugin_{path.stem}"
    module_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(module_spec)
    # In sys.modules while it runs, as an import would be: @dataclass (an options class, say)
    # looks its module up there.
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module

"""lifelong: a plugin-based platform for agents that keep learning after they ship."""

from .core.agent import Agent
from .core.errors import ConfigError, InputError, LifelongError, NotFoundError, PluginError
from .core.hookspecs import hookimpl

__all__ = ["Agent", "hookimpl", "LifelongError", "ConfigError", "PluginError", "NotFoundError", "InputError"]

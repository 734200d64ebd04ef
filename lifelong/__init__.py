"""lifelong: a plugin-based platform for agents that keep learning after they ship."""

import os

# Never reach the network at run time: a model name that is not installed must fail at once
# with a clear error, not after minutes of Hugging Face Hub retries. Set before any HF import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from .core.agent import Agent  # noqa: E402
from .core.errors import ConfigError, InputError, LifelongError, NotFoundError, PluginError
from .core.hookspecs import hookimpl

__all__ = ["Agent", "hookimpl", "LifelongError", "ConfigError", "PluginError", "NotFoundError", "InputError"]

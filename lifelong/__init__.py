"""lifelong: a plugin-based platform for agents that keep learning after they ship."""

# Nothing lifelong loads reaches the network, but the Hugging Face offline switches are set where
# a model loads (lifelong.models.work_offline) and by the CLI, not here: importing lifelong leaves
# a host program's own use of the Hub as it was.
from .api import *  # noqa: F401,F403  the extension API, also importable as lifelong.api
from .api import __all__ as _api
from .core.agent import Agent

__all__ = ["Agent", *_api]

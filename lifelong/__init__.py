"""lifelong: a plugin-based platform for agents that keep learning after they ship."""

import os

# Never reach the network at run time: a model name that is not installed must fail at once
# with a clear error, not after minutes of Hugging Face Hub retries. Set before any HF import.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from .api import *  # noqa: E402,F401,F403  the extension API, also importable as lifelong.api
from .api import __all__ as _api
from .core.agent import Agent  # noqa: E402

__all__ = ["Agent", *_api]

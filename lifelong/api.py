"""The public extension API: everything a plugin imports from lifelong, and nothing else is
promised. The hooks are in ``lifelong.core.hookspecs``; docs/plugins.md shows each in use."""

from .errors import ConfigError, InputError, LifelongError, NotFoundError, PluginError, StorageError
from .core.config import options_from_dict
from .core.hookspecs import hookimpl
from .core.models import ModelLoader, TextEmbedder, TextGenerator
from .core.retriever import Hit, IngestReport, Retriever
from .core.strategy import Plan, Strategy
from .core.task import Answer, GenerationOptions, LearnableTask, Reply, ReplyStream, Task
from .learning.artefacts import ArtefactStore, digest
from .memory.replay import ReplayBuffer, select_replayed
from .models import load_embedder, load_generator

__all__ = [
    "hookimpl", "options_from_dict",
    # tasks
    "Task", "LearnableTask", "Answer", "Reply", "ReplyStream", "GenerationOptions",
    # retrieval
    "Retriever", "Hit", "IngestReport",
    # continual learning
    "Strategy", "Plan", "ReplayBuffer", "select_replayed", "ArtefactStore", "digest",
    # models
    "ModelLoader", "TextGenerator", "TextEmbedder", "load_generator", "load_embedder",
    # errors
    "LifelongError", "ConfigError", "InputError", "NotFoundError", "PluginError", "StorageError",
]

"""The public extension API: everything a plugin imports from lifelong, and nothing else is
promised; the built-in plugins import nothing else either (tests/test_layers.py). The hooks are
in ``lifelong.core.hookspecs``; docs/plugins.md shows each in use.

What needs torch (the training loops, EWC's Fisher information, the causal-LM and preference
helpers) loads on first use, so importing this module stays cheap for a CLI that only answers."""

import importlib

from .errors import ConfigError, InputError, LifelongError, NotFoundError, PluginError, StorageError
from .files import atomic_write, not_a_regular_file
from .validation import check_text, printable
from .options import Options, option, options_from_dict
from .core.hookspecs import hookimpl
from .core.models import ModelLoader, TextEmbedder, TextGenerator
from .core.retriever import Hit, IngestReport, Retriever
from .core.strategy import Plan, Strategy
from .core.task import Answer, GenerationOptions, LearnableTask, Provenance, Reply, ReplyStream, Task
from .learning.artefacts import ArtefactStore, digest
from .learning.behaviour import answered_right, behaviour_verdict, lost_questions, probe_questions
from .learning.evaluation import classification_report
from .learning.gate import ALL_LABELS, CONFUSED_WITH, KNOWN_LABELS, PAIRS, PER_LABEL
from .learning.objectives import preference_pairs, to_give
from .memory.db import dialect, serialize, utcnow, write_transaction
from .memory.replay import ReplayBuffer, select_replayed
from .models import load_embedder, load_generator
from .models.bundled import BUNDLED_EMBEDDER, BUNDLED_GENERATOR

# name -> (module, attribute; None: the module itself), imported on first use.
_ON_FIRST_USE = {
    "LoopSettings": ("lifelong.learning.loop", "LoopSettings"),
    "fit": ("lifelong.learning.loop", "fit"),
    "device_of": ("lifelong.learning.loop", "device_of"),
    "diagonal_fisher": ("lifelong.learning.fisher", "diagonal_fisher"),
    "causal_lm": ("lifelong.learning.causal_lm", None),
    "preference": ("lifelong.learning.preference", None),
}


def __dir__():
    return sorted([*globals(), *_ON_FIRST_USE])


def __getattr__(name: str):
    if name not in _ON_FIRST_USE:
        raise AttributeError(f"module 'lifelong.api' has no attribute {name!r}")
    module, attribute = _ON_FIRST_USE[name]
    found = importlib.import_module(module)
    return found if attribute is None else getattr(found, attribute)


__all__ = [
    "hookimpl", "Options", "option", "options_from_dict",
    # tasks
    "Task", "LearnableTask", "Answer", "Provenance", "Reply", "ReplyStream", "GenerationOptions",
    # retrieval
    "Retriever", "Hit", "IngestReport",
    # continual learning
    "Strategy", "Plan", "ReplayBuffer", "select_replayed", "ArtefactStore", "digest",
    # training and assessing (and, loaded on first use, not by `import *`: _ON_FIRST_USE)
    "preference_pairs", "to_give", "classification_report",
    "answered_right", "behaviour_verdict", "lost_questions", "probe_questions",
    # the gate's score keys (lifelong.learning.gate)
    "ALL_LABELS", "CONFUSED_WITH", "KNOWN_LABELS", "PAIRS", "PER_LABEL",
    # storage of a plugin's own tables and files
    "write_transaction", "utcnow", "dialect", "serialize", "atomic_write", "not_a_regular_file", "check_text", "printable",
    # models
    "ModelLoader", "TextGenerator", "TextEmbedder", "load_generator", "load_embedder",
    "BUNDLED_GENERATOR", "BUNDLED_EMBEDDER",
    # errors
    "LifelongError", "ConfigError", "InputError", "NotFoundError", "PluginError", "StorageError",
]

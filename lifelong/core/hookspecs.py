"""The whole plugin contract of lifelong.

A plugin is a module (or object) with functions decorated by ``lifelong.hookimpl`` whose names
match the hooks below. An implementation may take any subset of a hook's arguments, so adding
an argument to a hook later does not break existing plugins. Every hook is listed with an
example in docs/plugins.md (a test keeps the two in step).
"""

import pluggy

hookspec = pluggy.HookspecMarker("lifelong")
hookimpl = pluggy.HookimplMarker("lifelong")


# --- Registration hooks: called once when the plugin manager is built. -----------------------
# Each receives ``register(name, factory)``; the host records which plugin supplied the name and
# refuses a name that another plugin already registered.


@hookspec
def register_tasks(register):
    """Register task types (``chat``, ``classify``...): a subclass of ``lifelong.core.task.Task``,
    called with ``(name, options, agent)`` for each task instance named in the config."""


@hookspec
def register_retrievers(register):
    """Register knowledge retrievers: a class called with ``(agent)`` that provides
    ``ingest(paths)``, ``search(query, k, mode)``, ``add_text(text, source)`` and ``forget(doc)``."""


@hookspec
def register_learners(register):
    """Register continual-learning strategies (``replay``, ``naive``...): a class called with
    ``(agent, task, buffer)`` whose ``plan(new, parent_path, rng)`` returns what a run trains on
    and whose ``after_cycle(new, model, adapter_path)`` runs once a candidate is promoted."""


@hookspec
def register_buffers(register):
    """Register replay-buffer policies (what is kept): a ``lifelong.memory.ReplayBuffer``
    subclass."""


@hookspec
def register_models(register):
    """Register model loaders: ``register(name, loader)`` where ``loader(spec, config)`` returns a
    generator or an embedder for a model spec such as ``smollm2`` or an HF id or path."""


@hookspec
def register_commands(cli):
    """Add sub-commands to the ``lifelong`` CLI: ``cli`` is the root ``typer.Typer``."""


# --- Agent events: called around each interaction, feedback and learning run. ----------------


@hookspec(firstresult=True)
def before_ask(agent, task, text):
    """Called before the model answers ``text`` for ``task``. Return a string (or a dict with
    ``answer`` and optional ``sources`` and ``model_version``) to answer without the model: a
    cache, a guardrail, a stored correction. The first non-None answer wins and later
    implementations are not called. Return None to let the model answer."""


@hookspec
def after_ask(agent, task, reply):
    """Called after an interaction has been answered and logged, with the ``Reply``."""


@hookspec
def before_log(agent, record):
    """Called with each record (a dict) before it is written to SQLite: an interaction, a piece
    of feedback, or a training example (from feedback or an import). Change its text fields in
    place, for example to mask personal data."""


@hookspec
def on_feedback(agent, interaction, feedback):
    """Called after feedback (a rating and/or a correction) has been stored."""


@hookspec
def before_learn(agent, task, examples):
    """Called before a learning run trains on ``examples`` (new plus replayed)."""


@hookspec
def after_learn(agent, task, report):
    """Called after a learning run, promoted or not, with its ``LearningReport``."""

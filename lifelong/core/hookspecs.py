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
    """Register task types (``chat``, ``classify``...): ``register(name, cls)`` with a subclass of
    ``lifelong.Task``, or of ``lifelong.LearnableTask`` for a task that learns, created as
    ``cls(name, options, agent)`` for each task instance configured with ``plugin = name``."""


@hookspec
def register_retrievers(register):
    """Register knowledge retrievers: ``register(name, cls)`` with a subclass of
    ``lifelong.Retriever``, created as ``cls(agent)`` when ``[retrieval] retriever = name``."""


@hookspec
def register_learners(register):
    """Register continual-learning strategies (``replay``, ``naive``...): ``register(name, cls)``
    with a subclass of ``lifelong.Strategy``, created as ``cls(agent, task, buffer)`` for each
    run when ``[learning] strategy = name``."""


@hookspec
def register_buffers(register):
    """Register replay-buffer policies (what is kept): ``register(name, cls)`` with a subclass
    of ``lifelong.ReplayBuffer`` implementing ``keep(stored, new)``, picked by
    ``[learning] buffer = name``."""


@hookspec
def register_models(register):
    """Register model loaders: ``register(name, loader)`` where ``loader(agent)`` (a
    ``lifelong.ModelLoader``) returns a ``lifelong.TextGenerator`` or ``lifelong.TextEmbedder``,
    loaded when ``[models] generator`` or ``embedder`` is ``name``."""


@hookspec
def register_migrations(register):
    """Register this plugin's schema migrations: ``register(name, migration, postgresql=...)``
    where ``migration(db)`` changes the workspace's ``sqlite_utils.Database``, and
    ``postgresql`` (SQL text, or a function of a ``PostgresDatabase``) makes the same change on
    PostgreSQL (``[memory] database``); a plugin without it works on SQLite only. They run in
    the order registered, each once per database, when an agent opens it with the plugin
    loaded, and are recorded under the plugin's name. Never change one that shipped: register
    a new one. A migration of a table that may already exist must leave it as it is
    (``if_not_exists``)."""


@hookspec(firstresult=True)
def load_model(agent, kind, spec):
    """Load the model that ``[models] generator`` or ``embedder`` names when no registered name
    matches: ``kind`` is ``"generator"`` or ``"embedder"``, ``spec`` the configured value (an
    HF id, a path...). Return a ``TextGenerator`` or ``TextEmbedder``, or None to leave it to
    another plugin; the first non-None answer wins. The built-in ``hf_models`` plugin loads HF
    ids and local paths."""


@hookspec
def plugin_options():
    """Return the dataclass of this plugin's options, read from ``[plugins.NAME]`` in
    lifelong.toml (NAME: the plugin's name) and checked when an agent opens the workspace as
    ``options_from_dict`` checks them: its fields' ``metadata["help"]`` is shown by
    ``lifelong config``, and ``__post_init__`` raises ``ConfigError`` for a bad value. The
    plugin reads them with ``agent.plugin_options(cls)``."""


@hookspec
def register_commands(cli):
    """Add sub-commands to the ``lifelong`` CLI: ``cli`` is the root ``typer.Typer``."""


# --- Agent events: called around each interaction, feedback and learning run. ----------------


@hookspec(firstresult=True)
def before_ask(agent, task, text):
    """Called before the model answers ``text`` for ``task``. Return a string (or a dict with
    ``answer`` and optional ``sources``, ``model_version``, ``answered_by`` and ``provenance``,
    a ``Provenance`` of the stored data the answer repeats) to answer without the model: a
    cache, a guardrail, a stored correction. The first non-None answer wins and later
    implementations are not called. Return None to let the model answer. Not a wrapper: the
    agent calls each implementation itself to record which plugin answered."""


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

"""Agent: a workspace with its plugins loaded, the entry point of the embedded Python API."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import time

from ..memory import InteractionLog, open_database, write_transaction
from ..memory.examples import ExampleStore, heldout
from ..memory.lineage import Lineage
from ..memory.runs import LearningRuns
from ..memory.versions import ModelVersions
from .conversation import Conversation, new_conversation_id
from ..errors import ConfigError, InputError, NotFoundError, PluginError
from .config import check_database_url
from ..validation import MAX_QUESTION_CHARS, check_question, check_subject, check_text, printable
from .plugins import PluginHost
from .retriever import IngestReport, Retriever
from .task import Answer, GenerationOptions, LearnableTask, Provenance, Reply, ReplyStream, Task
from .workspace import Workspace


class Agent:
    """``Agent.open(path)`` binds to a workspace (created on first use) and loads its plugins."""

    #: The ``rating`` filters ``interactions`` takes.
    RATINGS = InteractionLog.RATINGS

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.config = workspace.load_config()
        try:
            self.plugins = PluginHost(self.config.plugins.modules, self.config.plugins.options)
            self.plugins.task_settings(self.config)  # a bad task option fails here, not at the first question
        except ConfigError as exc:
            raise ConfigError(f"{workspace.config_path}: {exc}") from None
        self._db = open_database(self.database, self.plugins.migrations)
        self._log = InteractionLog(self._db, before_log=self._before_log)
        self._examples = ExampleStore(self._db, before_store=self._before_log)
        self._versions = ModelVersions(self._db, root=workspace.path)
        self._runs = LearningRuns(self._db)
        self._lineage = Lineage(self._db)
        self._tasks: dict[str, Task] = {}
        self._background = None  # background_learner(), made on first use
        from .learner import close_dead_runs_of_all_tasks  # the learner uses the agent: imported late

        close_dead_runs_of_all_tasks(self)

    @classmethod
    def open(cls, path: Path | str | None = None) -> "Agent":
        return cls(Workspace.resolve(path))

    @property
    def db(self):
        """The database handle, for a plugin's own tables (``register_migrations``); the core's
        tables are read and written through the agent's methods."""
        return self._db

    @property
    def database(self) -> Path | str:
        """Where the memory is: $LIFELONG_DATABASE_URL, else ``[memory] database``, else the
        workspace's SQLite file."""
        url = os.environ.get("LIFELONG_DATABASE_URL")
        if url is not None:
            check_database_url(url, "LIFELONG_DATABASE_URL")
            return url
        return self.config.memory.database or self.workspace.db_path

    @property
    def adapters_dir(self) -> Path:
        """Where learning runs save adapters: ``[memory] adapters`` (shared by the replicas of
        one database), else the workspace's folder."""
        return Path(self.config.memory.adapters).expanduser() if self.config.memory.adapters else self.workspace.adapters_dir

    @property
    def model_cache(self) -> Path:
        """De-quantised model weights, shared by every workspace of the user."""
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifelong" / "models"
        return Path(os.environ.get("LIFELONG_MODEL_CACHE") or default)

    @property
    def artefact_cache(self) -> Path:
        """What learning computes from the base model alone (its answers to the package's probe
        and distillation prompts), shared by every workspace of the user (plugins/chat/served.py)."""
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifelong" / "artefacts"
        return Path(os.environ.get("LIFELONG_ARTEFACT_CACHE") or default)

    def plugin_options(self, cls):
        """The options of the plugin that declared the dataclass ``cls`` (its ``plugin_options``
        hook), as ``[plugins.NAME]`` in lifelong.toml set them."""
        return self.plugins.options_of(cls)

    def _model(self, kind: str, spec: str):
        """A registered model loader by name, else the first plugin whose ``load_model`` loads
        ``spec`` (the built-in hf_models: an HF id or a local path)."""
        if spec in self.plugins.registry.names("models"):
            return self.plugins.registry.get("models", spec)(self)
        model = self.plugins.hook.load_model(agent=self, kind=kind, spec=spec)
        if model is None:
            hint = f"; {self.plugins.registry.hint}" if self.plugins.registry.hint else ""
            raise ConfigError(f"models.{kind} {spec!r}: no plugin loads it (registered models: "
                              f"{', '.join(self.plugins.registry.names('models')) or 'none'}){hint}")
        return model

    @cached_property
    def embedder(self):
        return self._model("embedder", self.config.models.embedder)

    @cached_property
    def generator(self):
        return self._model("generator", self.config.models.generator)

    def adapter_for(self, task: str) -> tuple[tuple[str, str] | None, str]:
        """((adapter name, path) or None, version label) of the task's active model."""
        active = self._versions.serving(task)
        if active is None:
            return None, "base"
        return (f"v{active['number']}", active["adapter_path"]), f"v{active['number']}"

    @cached_property
    def retriever(self) -> Retriever:
        name = self.config.retrieval.retriever
        retriever = self.plugins.registry.get("retrievers", name)(self)
        if not isinstance(retriever, Retriever):
            raise PluginError(f"retriever {name!r} is a {type(retriever).__name__}, not a lifelong.Retriever; "
                              "subclass lifelong.api.Retriever")
        return retriever

    # --- knowledge -----------------------------------------------------------------------------

    def ingest(self, paths, progress=None, follow_links: bool = False) -> IngestReport:
        """Add files and folders to the knowledge base; returns an IngestReport (``skipped``
        lists each file left out, with the reason). ``follow_links``: also the files a folder's
        symbolic links lead to outside it."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        if follow_links:
            return self.retriever.ingest(paths, progress=progress, follow_links=True)
        return self.retriever.ingest(paths, progress=progress)

    def search(self, query: str, k: int | None = None, mode: str | None = None):
        """Chunks for ``query`` (mode: dense, keyword or hybrid), best first."""
        return self.retriever.search(query, k=k, mode=mode)

    def forget(self, document: str) -> int:
        """Remove a document and its vectors; returns how many chunks went."""
        removed = self.retriever.forget(document)
        with write_transaction(self._db):
            self._lineage.forget_document(document)
        return removed

    def add_text(self, text: str, source: str, origin: str = "agent", interactions: list[int] = ()) -> int:
        """Store text the agent wrote (a correction, a summary) in the knowledge base under the
        name ``source``; ``interactions``: the ids of the interactions it was written from, so
        that erasing them removes it. Returns how many chunks were added."""
        for interaction_id in interactions:
            self._log.get(interaction_id)
        added = self.retriever.add_text(text, source, origin)
        with write_transaction(self._db):
            self._lineage.record_document(source, list(interactions))
        return added

    def documents(self) -> list[dict]:
        """The documents in the knowledge base: ``path``, ``origin``, ``chunks``, ``ingested_at``."""
        return self.retriever.documents()

    # --- tasks, asking and feedback ---------------------------------------------------------------

    def task(self, name: str) -> Task:
        """The task instance ``name`` from lifelong.toml (``chat`` always exists)."""
        if name not in self._tasks:
            options = self.config.task_options(name)
            if not options:
                known = ", ".join(sorted({"chat", *self.config.tasks})) or "none"
                raise NotFoundError(f"unknown task {name!r}; configured tasks: {known} (add one with 'lifelong tasks add')")
            try:
                cls = self.plugins.registry.get("tasks", options["plugin"])
            except NotFoundError as exc:  # named by the task the user asked for, not only by its type
                raise ConfigError(f"task {name!r}: {str(exc).replace('unknown task', 'unknown task type', 1)}; fix "
                                  f"[tasks.{name}] plugin in lifelong.toml, or install the plugin that registers it") from None
            self._tasks[name] = _checked_task(cls(name, {k: v for k, v in options.items() if k != "plugin"}, self))
        return self._tasks[name]

    def add_task(self, name: str, plugin: str, **options) -> Task:
        """Configure a task instance (saved to lifelong.toml), e.g.
        ``agent.add_task("intent", plugin="classify", threshold=0.4)``."""
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"task name {name!r} must be a word of letters, digits and underscores")
        if name in self.config.tasks or name == "chat":
            raise InputError(f"task {name!r} exists already; edit lifelong.toml to change it")
        cls = self.plugins.registry.get("tasks", plugin)
        task = _checked_task(cls(name, dict(options), self))  # validates the options before anything is saved
        config = self.workspace.load_config()
        config.tasks[name] = {"plugin": plugin, **options}
        self.workspace.save_config(config)
        self.config.tasks[name] = {"plugin": plugin, **options}
        self._tasks[name] = task
        return task

    def tasks(self) -> dict[str, dict]:
        """Configured task instances with their options (``chat`` always)."""
        return {"chat": self.config.task_options("chat"), **self.config.tasks}

    def check_task_name(self, name: str | None) -> None:
        """A NotFoundError unless ``name`` (None: every task) is configured or has a history."""
        if name is None or name in self.tasks() or self._versions.list(name) or self._runs.list(name):
            return
        raise NotFoundError(f"no task {name!r}; the tasks are {', '.join(self.tasks())} (see 'lifelong tasks')")

    def evaluate(self, task: str, rows) -> dict:
        """Score the task's active model on rows of ``text`` and ``label``: accuracy, macro_f1,
        per_label, confusions and out_of_scope_recall (classification tasks)."""
        task_obj = self.task(task)
        parsed = [_example_row(i, row) for i, row in enumerate(rows, 1)]
        if not parsed:
            raise InputError("no rows to evaluate")
        return task_obj.evaluate_rows(parsed)

    def ask(self, text: str, task: str = "chat", retrieval: bool = True, history: list[dict] | None = None,
            conversation: str | None = None, generation: GenerationOptions | None = None,
            user: str | None = None) -> Reply:
        """Answer ``text`` with task ``task``; logged before it returns, failures included.
        ``history``: the conversation's earlier turns as ``{"role", "content"}`` messages, oldest
        first; ``conversation``: the id that groups its turns in the log (new when None).
        ``Agent.conversation()`` keeps both for you. ``generation``: decoding settings of this
        answer (max_tokens, temperature, top_p, stop) for tasks that generate text. ``user``:
        who asked (any id of yours), so that ``lineage`` and ``forget_user`` find their data."""
        started = time.perf_counter()
        conversation = conversation or new_conversation_id()
        user = check_subject(user)  # before anything is logged: the log must not hold a bad one
        try:
            history = _checked_history(history)
            task_obj, hits, hooked = self._prepare(text, task, retrieval, history)
            answer = hooked or task_obj.answer(text, hits, **self._context(task_obj, history, generation))
        except Exception as exc:
            self._log_failure(task, text, exc, started, conversation, user=user)
            raise
        return self._finish(task, text, answer, started, conversation, user)

    def stream(self, text: str, task: str = "chat", retrieval: bool = True, history: list[dict] | None = None,
               conversation: str | None = None, generation: GenerationOptions | None = None,
               user: str | None = None) -> ReplyStream:
        """The answer in pieces: iterate the ReplyStream; the interaction is logged when it ends,
        and then ``stream.reply`` is the logged Reply."""
        return ReplyStream(self._stream(text, task, retrieval, history, conversation, generation, user))

    def _stream(self, text, task, retrieval, history, conversation, generation, user):
        started = time.perf_counter()
        conversation = conversation or new_conversation_id()
        pieces = []
        user = check_subject(user)
        try:
            history = _checked_history(history)
            task_obj, hits, hooked = self._prepare(text, task, retrieval, history)
            if hooked:
                pieces.append(hooked.text)
                yield hooked.text
                answer = hooked
            else:
                stream = task_obj.stream(text, hits, **self._context(task_obj, history, generation))
                while True:
                    try:
                        piece = next(stream)
                    except StopIteration as done:
                        answer = done.value
                        break
                    pieces.append(piece)
                    yield piece
        except GeneratorExit:
            # The reader went away (an HTTP client disconnected): keep what was generated.
            self._log_failure(task, text, "the reader stopped before the end", started, conversation,
                              "".join(pieces) or None, "cancelled", user)
            raise
        except Exception as exc:
            self._log_failure(task, text, exc, started, conversation, output="".join(pieces) or None, user=user)
            raise
        return self._finish(task, text, answer, started, conversation, user)

    def conversation(self, task: str = "chat", retrieval: bool = True, user: str | None = None) -> "Conversation":
        """A conversation whose turns see the earlier ones: ``conv.ask(text)``, ``conv.stream(text)``."""
        return Conversation(self, task, retrieval, user=user)

    @staticmethod
    def _context(task_obj, history, generation) -> dict:
        context = {"history": history} if task_obj.uses_history else {}
        if task_obj.generates:
            context["generation"] = generation or GenerationOptions()
        return context

    def _prepare(self, text, task, retrieval, history):
        check_question(text)
        task_obj = self.task(task)
        plugin, hooked = self.plugins.first_answer(agent=self, task=task, text=text)
        if hooked is not None:
            return task_obj, [], _hooked_answer(plugin, hooked)
        hits = []
        if retrieval and task_obj.uses_retrieval and not self.retriever.is_empty():
            hits = self.search(task_obj.search_query(text, history), k=self.config.retrieval.top_k)
        return task_obj, hits, None

    def _finish(self, task, text, answer: Answer, started, conversation, user) -> Reply:
        # Counted here only when the generator is loaded: a correction must not wait for a model
        # to load just to count (the HTTP API counts what is left when it reports usage).
        if answer.prompt_tokens is None and "generator" in vars(self) and self.task(task).generates:
            answer.prompt_tokens, answer.completion_tokens = self.count_usage(text, answer.text)
        latency = (time.perf_counter() - started) * 1000
        interaction_id = self._log.log_interaction(
            task=task, input=text, output=answer.text, sources=answer.sources, model_version=answer.model_version,
            latency_ms=latency, prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens,
            answered_by=answer.answered_by, grounding=answer.grounding, conversation=conversation,
            confidence=answer.confidence, subject=user, provenance=self._provenance(task, answer),
        )
        reply = Reply(interaction_id, answer.text, answer.sources, answer.model_version, latency, answer.confidence,
                      answer.answered_by, conversation, answer.finish_reason)
        self.plugins.hook.after_ask(agent=self, task=task, reply=reply)
        return reply

    def count_usage(self, question: str, said: str) -> tuple[int, int]:
        """(prompt, completion) tokens of an answer that no model generated (a correction, a
        quoted sentence, another plugin's answer), counted as the generator would have: the
        question as its prompt and the answer as its completion."""
        count, asked = self.generator.count_tokens, {"role": "user", "content": question}
        # As a turn after the question: many chat templates refuse a conversation that does not
        # open with the user.
        answered = count([asked, {"role": "assistant", "content": said}]) - count([asked, {"role": "assistant", "content": ""}])
        return count([asked]), answered

    def _provenance(self, task: str, answer: Answer) -> list[tuple[str, str]]:
        """The rows of ``answer_provenance`` for ``answer``: the plugin that answered, or the
        version that generated it, and the stored data it repeats."""
        rows = []
        if isinstance(answer, _PluginAnswer):
            rows.append(("plugin", answer.plugin))
        else:
            version = self._versions.named(task, answer.model_version)
            rows += [("version", version["id"])] if version else []
            rows += [("document", s["document"]) for s in answer.sources if isinstance(s.get("document"), str)]
        given = answer.provenance
        return [*rows, *(("example", i) for i in given.examples), *(("interaction", i) for i in given.interactions),
                *(("document", d) for d in given.documents)]

    def _log_failure(self, task, text, exc, started, conversation, output=None, status="error", user=None):
        error = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        if isinstance(text, str) and len(text) > MAX_QUESTION_CHARS:  # refused for its length: its start is enough
            text = text[:MAX_QUESTION_CHARS] + f" [... {len(text) - MAX_QUESTION_CHARS:,} more characters not kept]"
        self._log.log_interaction(
            task=printable(str(task)), input=printable(text) if isinstance(text, str) else repr(text),
            output=output, status=status, error=printable(error),
            latency_ms=(time.perf_counter() - started) * 1000, conversation=conversation,
            subject=user,
        )

    def feedback(self, interaction_id: int, rating: int | None = None, correction: str | None = None) -> dict:
        """Rate (+1/-1) and/or correct an answer. A correction (or a good rating) becomes a
        training example of the task; for chat, the correction also answers the same question
        and its paraphrases at once (the ``corrections`` plugin), without entering the documents.
        A task that learns from preferences (``LearnableTask.objectives``) also keeps a bad rating,
        and the answer a correction replaced as the worse of a pair (learning/objectives.py)."""
        interaction = self._log.get(interaction_id)
        task = self.task(interaction["task"])
        objectives = getattr(task, "objectives", ())
        with write_transaction(self._db):
            record = self._log.record_feedback(interaction_id, rating, correction)
            target = task.example_target(interaction, rating, record["correction"])
            output, example = interaction["output"], None
            if record["correction"] and target is not None:
                replaced = output if "dpo" in objectives and output and output.strip() != target else None
                example = (target, "correction", replaced, None)
            elif rating == -1 and "kto" in objectives and output:
                example = (output, "rating", None, -1)
            elif target is not None:
                example = (target, "rating", None, rating if "kto" in objectives else None)
            record["example_id"] = self._add_example(task, interaction, *example) if example else None
        self.plugins.hook.on_feedback(agent=self, interaction=interaction, feedback=record)
        return record

    def prefer(self, interaction_id: int, chosen: str, rejected: str | None = None) -> dict:
        """Say that ``chosen`` answers the interaction's question better than ``rejected`` (by
        default the answer it was given): a preference pair the task learns by DPO (or KTO,
        ``[learning] objective``), for tasks that learn from preferences."""
        interaction = self._log.get(interaction_id)
        task = self.task(interaction["task"])
        if "dpo" not in getattr(task, "objectives", ()):
            raise InputError(f"task {task.name!r} ({type(task).__name__}) does not learn from preferences; "
                             "rate or correct its answers instead")
        rejected = interaction["output"] if rejected is None else rejected
        with write_transaction(self._db):
            record = self._log.record_preference(interaction_id, chosen, rejected)
            record["example_id"] = self._add_example(task, interaction, record["chosen"], "preference", record["rejected"], None)
        self.plugins.hook.on_feedback(agent=self, interaction=interaction, feedback=record)
        return record

    def _add_example(self, task, interaction, target, origin, rejected, rating) -> int | None:
        """A training example of ``task`` from feedback on ``interaction`` (not of a failed one)."""
        if interaction["status"] != "ok":
            return None
        fraction = self.config.learning.holdout_fraction if task.holds_out_examples else 0.0
        split = "heldout" if heldout(interaction["input"], fraction) else "train"
        return self._examples.add(task.name, interaction["input"], target, origin, split, interaction["id"], rejected, rating)

    def review_queue(self, limit: int = 20, task: str | None = None) -> list:
        """The answers most worth a person's time first (ReviewItem: interaction, reason, detail,
        similar); label them with ``feedback``."""
        from .review import ReviewQueue

        if task is not None:
            self.task(task)
        return ReviewQueue(self).items(limit, task)

    # --- learning ---------------------------------------------------------------------------------

    def import_examples(self, task: str, rows, origin: str = "import") -> int:
        """Add training examples to ``task`` from dicts with ``text`` (or ``input``/``question``)
        and ``label`` (or ``target``/``answer``); all or nothing, in one transaction."""
        task_obj = self.task(task)
        parsed = [_example_row(i, row) for i, row in enumerate(rows, 1)]
        if not parsed:
            raise InputError("no rows to import")
        fraction = self.config.learning.holdout_fraction if task_obj.holds_out_examples else 0.0
        with write_transaction(self._db):
            for text, label in parsed:
                split = "heldout" if heldout(text, fraction) else "train"
                self._examples.add(task, text, label, origin, split)
        return len(parsed)

    def learnable_task(self, task: str) -> LearnableTask:
        """The task instance ``name``; an InputError if it does not learn."""
        task_obj = self.task(task)
        if not isinstance(task_obj, LearnableTask):
            raise InputError(f"task {task!r} ({type(task_obj).__name__}) does not learn")
        return task_obj

    def check_learnable(self, task: str, strategy: str | None = None) -> None:
        """Raise at once if ``task`` does not exist or does not learn, or ``strategy`` is unknown."""
        self.learnable_task(task)
        self.plugins.registry.get("learners", strategy or self.config.learning.strategy)

    def learn(self, task: str | None = None, strategy: str | None = None, progress=None, processes: int = 1,
              accelerate_config: str | Path | None = None):
        """Run one learning cycle of ``task`` (default ``chat``) on its new examples plus replay;
        returns a LearningReport (promoted or not, with its metrics). ``processes`` > 1 trains
        data-parallel in that many processes on this machine (one per GPU, or sharing the
        CPU); ``accelerate_config``: an accelerate config file (DeepSpeed, FSDP, several
        machines), docs/deployment.md "Scaling out"."""
        from .launch import Launch
        from .learner import Learner

        launch = Launch(processes, Path(accelerate_config) if accelerate_config is not None else None)
        return Learner(self, launch).run(task or "chat", strategy, progress=progress)

    def join_learning(self, accelerate_config: str | Path, task: str = "chat", wait: float = 600.0) -> int:
        """Take part from this machine in a learning run over several machines that machine 0
        starts with ``learn(accelerate_config=...)``: ``accelerate_config`` is this machine's
        (machine_rank 1 or more); the workspace shares machine 0's database and adapters folder.
        Waits up to ``wait`` seconds for the run; returns its id (docs/deployment.md "Scaling out")."""
        from .launch import Launch
        from .learner import Learner

        return Learner(self, Launch(1, Path(accelerate_config))).join(task, wait)

    def rollback(self, task: str = "chat", with_knowledge: bool = False) -> tuple[dict | None, dict | None]:
        """Retire ``task``'s active version and serve its parent again (None: the base model).
        ``with_knowledge``: also bring the knowledge base back to the snapshot the parent was
        trained with (``Retriever.restore``). Returns (the parent, what the restore did)."""
        active = self._versions.active(task)
        if active is None:
            raise InputError(f"task {task!r} has no active adapter to roll back")
        snapshot = None
        if with_knowledge:  # checked before anything changes
            parent = self._versions.by_id(active["parent_id"]) if active["parent_id"] is not None else None
            snapshot = parent and parent["knowledge"]
            if snapshot is None:
                serves = f"v{parent['number']}" if parent else "the base model"
                raise InputError(f"{serves} of task {task!r} recorded no knowledge snapshot to restore; "
                                 "roll back without --with-knowledge")
        parent = self._versions.rollback(task)
        if snapshot is None:
            return parent, None
        restored = self.retriever.restore(snapshot)
        with write_transaction(self._db):
            for document in restored["removed"]:
                self._lineage.forget_document(document)
        return parent, restored

    # --- the memory, read: the stores themselves are private -----------------------------------

    def interaction(self, interaction_id: int) -> dict:
        """One logged interaction (NotFoundError when there is none)."""
        return self._log.get(interaction_id)

    def interactions(self, n: int = 20, task: str | None = None, *, version: str | None = None,
                     rating: str | None = None, text: str | None = None, since: str | None = None,
                     until: str | None = None, offset: int = 0) -> list[dict]:
        """The newest ``n`` interactions (of ``task``); with a filter (``version``, ``rating``:
        good / bad / corrected / unrated, ``text`` in the question or answer, ``since`` /
        ``until`` ISO dates) each also carries its latest ``rating`` and ``correction``."""
        if not any((version, rating, text, since, until, offset)):
            return self._log.recent(n, task)
        return self._log.filtered(task=task, version=version, rating=rating, text=text, since=since, until=until,
                                 limit=n, offset=offset)

    def feedback_of(self, interaction_id: int) -> list[dict]:
        """The feedback given on interaction ``interaction_id``, oldest first."""
        return self._log.feedback_for(interaction_id)

    def turns(self, conversation: str) -> list[dict]:
        """The interactions of ``conversation``, oldest first."""
        return self._log.turns(conversation)

    def conversation_of(self, question: str, answer: str) -> str | None:
        """The conversation whose turn asked ``question`` and was answered ``answer`` (the
        newest), so a client that resends a conversation's messages continues it."""
        return self._log.conversation_of(question, answer)

    def answer_labels(self) -> list[str]:
        """Every model version label answers were logged with (``v3``, ``base``, ``correction:7``...)."""
        return self._log.model_versions()

    def examples(self, task: str | None = None, n: int = 50) -> list[dict]:
        """The newest ``n`` training examples (of ``task``)."""
        return self._examples.newest(task, n)

    def pending_examples(self, task: str) -> list[dict]:
        """The examples of ``task`` no learning run has used yet."""
        return self._examples.pending(task)

    def learned_examples(self, task: str) -> list[dict]:
        """The examples of ``task`` earlier learning runs used."""
        return self._examples.learned(task)

    def versions(self, task: str | None = None) -> list[dict]:
        """The model versions (of ``task``), oldest first."""
        return self._versions.list(task)

    def version(self, number: int, task: str | None = None) -> dict:
        """Version ``number`` (v3: 3) of ``task`` (of the one task that has it when None)."""
        return self._versions.get(number, task)

    def active_version(self, task: str) -> dict | None:
        """The version ``task`` serves (None: the base model)."""
        return self._versions.active(task)

    def parent_adapter(self, adapter_path: str | Path) -> str | None:
        """The adapter folder of the version that the version in ``adapter_path`` was trained
        from (None: trained from the base model)."""
        version = self._versions.at(adapter_path)
        if version["parent_id"] is None:
            return None
        return self._versions.by_id(version["parent_id"])["adapter_path"]

    def replay_buffer(self, task: str, policy: str | None = None, max_size: int | None = None, seed: int | None = None,
                      group=None):
        """The replay buffer of ``task``: the registered buffer ``policy`` (default
        learning.buffer) over this workspace's database, as a learning run makes it."""
        config = self.config.learning
        cls = self.plugins.registry.get("buffers", policy or config.buffer)
        return cls(self._db, task, config.buffer_size if max_size is None else max_size,
                   config.seed if seed is None else seed, group=group)

    def promote(self, number: int, task: str | None = None) -> dict:
        """Make version ``number`` the active one of its task, whatever the gate said."""
        return self._versions.promote(self.version(number, task)["id"])

    def corrections(self, task: str) -> list[dict]:
        """The latest correction users gave for each question of ``task``, oldest first: example
        rows (``id``, ``input``: the question, ``target``: the correction, ...), read for a plugin
        that answers from them (the built-in ``corrections``)."""
        return self._examples.corrections(task)

    def provenance(self, interaction_id: int) -> list[dict]:
        """Who answered interaction ``interaction_id`` and from what, as ``{"kind", "ref"}`` rows:
        ``version`` (the adapter's id), ``plugin`` (a before_ask plugin's name), ``example``,
        ``interaction``, ``document`` (stored data the answer repeats)."""
        self._log.get(interaction_id)  # a missing one is NotFoundError, not an empty list
        return self._log.provenance(interaction_id)

    def learning_runs(self, task: str | None = None) -> list[dict]:
        """Every learning run (of ``task``), oldest first, as run records (core/runs.py): the
        same keys as ``learn(...).to_dict()``."""
        from .runs import from_stored

        return [from_stored(row) for row in self._runs.list(task)]

    def learn_in_background(self, task: str = "chat", every: float = 600.0, min_new: int | None = None,
                            strategy: str | None = None, on_report=None):
        """Re-fine-tune ``task`` whenever ``min_new`` (default learning.min_new) new examples
        have arrived, checking at once and then every ``every`` seconds, without blocking
        ``ask``; ``on_report(report)`` is called after each run. Returns a handle with
        ``stop()`` and the ``reports`` so far. Runs go through ``background_learner()``."""
        return self.background_learner().watch(task, every, min_new or self.config.learning.min_new, strategy, on_report)

    def background_learner(self):
        """This agent's one background learner (core/jobs.py): runs started on request and by
        ``learn_in_background`` queue for one thread with an agent of its own, at a lower
        priority; closed with this agent."""
        if self._background is None:
            from .jobs import BackgroundLearner

            self._background = BackgroundLearner(self, lambda: Agent(self.workspace))
        return self._background

    # --- lineage and erasure ---------------------------------------------------------------------

    def lineage_of(self, user: str | None = None, interaction: int | None = None) -> dict:
        """What depends on the interactions of ``user``, or on interaction ``interaction``: ids
        of interactions, feedback, examples, buffer entries ((task, example)), other answers
        that repeated the data and learning runs, document names, and versions ({"task",
        "version"})."""
        from .erasure import interactions_of, version_names

        found = self._lineage.dependants(interactions_of(self, user, interaction))
        return {**found, "versions": version_names(self, found["versions"])}

    def learned_from(self, version: int, task: str | None = None) -> list[dict]:
        """What version ``version`` (v3: 3) of ``task`` learned from: it and its ancestors,
        nearest first, each with the examples its run trained on (example, replayed, origin,
        interaction, subject)."""
        return self._lineage.learned_from(self.version(version, task)["id"])

    def forget_user(self, user: str, dry_run: bool = False):
        """Erase everything stored of ``user`` and derived from it, and retrain the adapters
        that learned from it (docs/security.md "Privacy and erasure"); returns an ErasureReport.
        ``dry_run``: only say what would go."""
        from .erasure import erase

        return erase(self, user=user, dry_run=dry_run)

    def forget_interaction(self, interaction: int, dry_run: bool = False):
        """``forget_user`` for one interaction."""
        from .erasure import erase

        return erase(self, interaction=interaction, dry_run=dry_run)

    def _before_log(self, record: dict) -> None:
        self.plugins.hook.before_log(agent=self, record=record)

    def close(self) -> None:
        if self._background is not None:
            self._background.close()
        self._db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclass
class _PluginAnswer(Answer):
    plugin: str = ""  # the before_ask plugin that gave it


def _hooked_answer(plugin: str, hooked) -> Answer:
    """A ``before_ask`` result (text, or a dict: docs/plugins.md) as the Answer to log."""
    if isinstance(hooked, str):
        hooked = {"answer": hooked}
    given = hooked.get("provenance") or Provenance()
    if isinstance(given, dict):
        given = Provenance(**{k: tuple(v) for k, v in given.items()})
    return _PluginAnswer(hooked["answer"], hooked.get("model_version", "before_ask"), sources=hooked.get("sources", []),
                         answered_by=hooked.get("answered_by", "before_ask"), provenance=given, plugin=plugin)


def _checked_task(task) -> Task:
    if not isinstance(task, Task):
        raise PluginError(f"task type {type(task).__name__} is not a lifelong.Task; subclass lifelong.api.Task")
    return task


def _checked_history(history) -> list[dict]:
    if history is None:
        return []
    if not isinstance(history, (list, tuple)):
        raise InputError(f"history must be a list of messages, got {type(history).__name__}")
    checked = []
    for i, message in enumerate(history, 1):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant") or not isinstance(message.get("content"), str):
            raise InputError(f"history message {i} must be {{'role': 'user' or 'assistant', 'content': text}}, got {message!r:.80}")
        checked.append({"role": message["role"], "content": message["content"]})
    return checked


_TEXT_KEYS = ("text", "input", "question")
# An example is a question or a short text with its answer or label; a longer text is a document.
MAX_EXAMPLE_CHARS = 20_000
_LABEL_KEYS = ("label", "target", "answer")


def _example_row(number: int, row) -> tuple[str, str]:
    if not isinstance(row, dict):
        raise InputError(f"row {number}: expected an object with 'text' and 'label', got {type(row).__name__}")
    text_key = next((k for k in _TEXT_KEYS if k in row), None)
    label_key = next((k for k in _LABEL_KEYS if k in row), None)
    if text_key is None or label_key is None:
        missing = "text" if text_key is None else "label"
        raise InputError(f"row {number}: missing column {missing!r} (columns: {', '.join(map(str, row))})")
    text, label = row[text_key], row[label_key]
    for name, value in ((text_key, text), (label_key, label)):
        if not isinstance(value, str):
            # Not the value itself: an integer of thousands of digits cannot even be printed.
            raise InputError(f"row {number}: {name!r} must be a string, got {type(value).__name__}")
        check_text(value, f"row {number}: {name!r}", fix="fix the row")
        if not value.strip():
            raise InputError(f"row {number}: {name!r} is empty")
        if len(value) > MAX_EXAMPLE_CHARS:
            raise InputError(f"row {number}: {name!r} is {len(value):,} characters; an example holds at most "
                             f"{MAX_EXAMPLE_CHARS:,} (ingest long texts as documents)")
    return text.strip(), label.strip()

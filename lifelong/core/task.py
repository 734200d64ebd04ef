"""What a task plugin provides: subclass ``Task`` (answers) or ``LearnableTask`` (answers and
learns from feedback), and register it with ``register_tasks``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Generator

from ..errors import InputError
from ..options import options_from_dict


@dataclass
class Reply:
    """One answered interaction, as returned by ``Agent.ask``."""

    id: int
    answer: str
    sources: list[dict] = field(default_factory=list)  # {chunk_id, document, score}
    model_version: str = ""
    latency_ms: float = 0.0
    confidence: float | None = None  # classification tasks
    #: Who wrote the answer: model (no documents), generate, extract, not_in_sources (chat),
    #: a ``before_ask`` plugin's name such as correction, or the task's own word.
    answered_by: str = "model"
    conversation: str = ""  # the conversation this turn belongs to
    finish_reason: str = "stop"  # "length" when the answer was cut at the token limit


class ReplyStream:
    """What ``Agent.stream`` returns: iterate it for the answer's pieces; once they have all
    come, ``reply`` is the logged ``Reply``. Nothing runs before the first piece is asked for;
    ``close()`` before the end (a reader that went away) logs what was generated so far."""

    def __init__(self, pieces: Generator[str, None, Reply]):
        self._pieces = pieces  # yields the pieces, returns the Reply
        self._reply: Reply | None = None

    def __iter__(self) -> "ReplyStream":
        return self

    def __next__(self) -> str:
        if self._reply is not None:
            raise StopIteration
        try:
            return next(self._pieces)
        except StopIteration as done:
            self._reply = done.value
            raise StopIteration from None

    def close(self) -> None:
        self._pieces.close()

    @property
    def reply(self) -> Reply:
        if self._reply is None:
            raise RuntimeError("the stream has not ended: read all its pieces before its reply")
        return self._reply


@dataclass
class GenerationOptions:
    """Per-request decoding settings (the OpenAI API's ``max_tokens``, ``temperature``,
    ``top_p``, ``stop``, and its system message as ``system``); None keeps the workspace's
    ``[generation]`` setting. Tasks that generate text (``Task.generates``) honour them; others
    have nothing to decode."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()
    system: str | None = None


@dataclass(frozen=True)
class Provenance:
    """What an answer repeats of stored data, beyond the adapter that generated it: the
    examples (a correction), the logged interactions and the knowledge documents it came from.
    The agent records it with the answer (table ``answer_provenance``); erasure blanks an answer
    whose provenance names erased data, and ``lineage_of`` lists it. A ``before_ask`` plugin
    that answers from user data says so here, or its answers survive ``forget --user``."""

    examples: tuple[int, ...] = ()
    interactions: tuple[int, ...] = ()
    documents: tuple[str, ...] = ()


@dataclass
class Answer:
    """A task's answer before it is logged. ``sources``: the chunks it was given or quotes
    (their documents are recorded as its provenance too)."""

    text: str
    model_version: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    confidence: float | None = None
    sources: list[dict] = field(default_factory=list)
    answered_by: str = "model"
    grounding: str | None = None  # why a generated answer was replaced, when it was
    finish_reason: str = "stop"  # "length" when generation ended at the token limit
    provenance: Provenance = field(default_factory=Provenance)


class Task(ABC):
    """Base class of task plugins: one instance per task configured in lifelong.toml, created as
    ``cls(name, options, agent)`` with ``options`` its ``[tasks.NAME]`` table (``plugin`` left
    out). A task declares that table with ``settings_class``."""

    #: The ``Options`` dataclass of the task's ``[tasks.NAME]`` table (lifelong.api.option): the
    #: task is created with ``settings`` built from it, a bad value a ConfigError naming the key,
    #: and ``lifelong config`` lists and sets its options. None: ``__init__`` checks ``options``.
    settings_class: type | None = None

    #: Whether retrieved chunks go into the model input.
    uses_retrieval = False
    #: Whether earlier turns of the conversation are passed as ``history``.
    uses_history = False
    #: Whether a correction answers the same question (and its paraphrases) at once.
    corrections_are_knowledge = False
    #: Whether some of the examples are held out of training for the evaluation gate.
    holds_out_examples = True
    #: Whether answers are generated text: such a task gets ``generation`` (GenerationOptions).
    generates = False
    #: How many earlier cycles the evaluation gate checks again in each run (0: every one). A task
    #: whose assessment is costly bounds it, so that a run does not cost more with every cycle
    #: before it: the latest earlier cycle is always checked, the older ones in turn.
    gate_earlier_cycles = 0

    def __init__(self, name: str, options: dict, agent):
        self.name = name
        self.options = options
        self.agent = agent
        if self.settings_class is not None:
            self.settings = options_from_dict(self.settings_class, options, f"tasks.{name}.")

    @abstractmethod
    def answer(self, text: str, hits: list, **context) -> Answer:
        """Answer ``text`` given the retrieved ``hits`` (empty when retrieval is off). A task with
        ``uses_history`` also gets ``history``: the earlier turns as chat messages, oldest first;
        one that ``generates`` gets ``generation``: the request's GenerationOptions."""

    @abstractmethod
    def score(self, prediction: str, target: str, input: str = "") -> float:
        """1.0 when ``prediction`` (the answer to ``input``) is right for ``target``, else 0.0
        (or anything in between)."""

    def stream(self, text: str, hits: list, **context) -> Generator[str, None, Answer]:
        """Yield the answer in pieces and return the Answer; by default, all at once."""
        answer = self.answer(text, hits, **context)
        yield answer.text
        return answer

    def search_query(self, text: str, history: list[dict]) -> str:
        """What the knowledge base is searched with for ``text``."""
        return text

    def example_target(self, interaction: dict, rating: int | None, correction: str | None) -> str | None:
        """The training target that feedback on ``interaction`` teaches, or None for nothing:
        by default the correction, or the answer when it was rated good."""
        if correction:
            return correction
        if rating == 1 and interaction.get("output"):
            return interaction["output"]
        return None

    def confidence_threshold(self) -> float | None:
        """The confidence below which answers are out of scope (classifiers), or None: the
        review queue puts answers near it first."""
        return None

    def evaluate_rows(self, rows: list[tuple[str, str]]) -> dict:
        """Score the active model on ``(text, label)`` rows (``lifelong evaluate``); a task that
        can be evaluated on labelled rows overrides this."""
        raise InputError(f"task {self.name!r} ({type(self).__name__}) cannot be evaluated on labelled rows")


class LearnableTask(Task):
    """A task that learns: the learner trains a candidate on new plus replayed examples, saves
    it, and promotes it only when ``assess`` shows the gate it forgot nothing."""

    #: The training objectives ``train`` handles (learning/objectives.py): "sft" learns the
    #: ``target`` of each example; a task that also names "dpo" gets pairs (``target`` chosen over
    #: ``rejected``) and, naming "kto", rated answers (``target`` with ``desirable``). Feedback
    #: that only these can learn (a thumbs-down, a preference) is stored for such tasks alone.
    objectives: tuple[str, ...] = ("sft",)

    @abstractmethod
    def train(self, examples: list[dict], parent_path: str | None, penalty: Callable | None = None,
              progress=None):
        """Train a candidate model on ``examples`` (rows with ``input``, ``target``, the
        ``objective`` to learn them by, one of ``objectives``, and ``replayed``: True for an
        example an earlier cycle learned, which the strategy replays), starting from the adapter at
        ``parent_path`` (None: the base model). ``penalty(model)``, when given, is a loss term to
        add (EWC); ``progress`` is a rich Progress or None."""

    @abstractmethod
    def save_adapter(self, model, path: Path) -> None:
        """Write what ``train`` returned into the folder ``path`` (it exists and is empty)."""

    @abstractmethod
    def assess(self, adapter_path: str | None, sets: dict) -> tuple[dict, dict | None]:
        """Score the model at ``adapter_path`` (None: the base model) on each cycle's examples:
        returns ``(scores, probes)``; ``scores`` maps each key of ``sets`` to a score in [0, 1]
        (plus the optional like-with-like scores named in ``lifelong.learning.gate``), and
        ``probes`` is None or ``{"perplexity": float, "behaviour": {question: bool}}``, plus an
        optional ``"report"``: other figures about the model, added to the run's metrics."""

    def load_trained(self, adapter_path: str):
        """The model saved at ``adapter_path`` by ``save_adapter``, as ``train`` returned it
        (trainable weights trainable): a run trained in several processes hands this to the
        strategy (EWC's importance) instead of ``train``'s return value. A task without it
        trains in one process only."""
        raise NotImplementedError

    def replay_group(self, example: dict):
        """What a balanced replay buffer gives equal room to: by default the cycle an example
        joined; a classifier gives each label its room."""
        return example["cycle"]

    def fisher(self, model, examples: list[dict]) -> dict:
        """Per-parameter importance for EWC (parameter name -> tensor of its shape). By default
        none: the ``ewc`` strategy then adds no penalty for this task."""
        return {}

"""What a task plugin provides. Subclass ``Task`` and register it with ``register_tasks``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generator


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


@dataclass
class GenerationOptions:
    """Per-request decoding settings (the OpenAI API's ``max_tokens``, ``temperature``,
    ``top_p``, ``stop``); None keeps the workspace's ``[generation]`` setting. Tasks that
    generate text (``Task.generates``) honour them; others have nothing to decode."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()


@dataclass
class Answer:
    """A task's answer before it is logged."""

    text: str
    model_version: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    confidence: float | None = None
    sources: list[dict] = field(default_factory=list)
    answered_by: str = "model"
    grounding: str | None = None  # why a generated answer was replaced, when it was
    finish_reason: str = "stop"  # "length" when generation ended at the token limit


def sources_of(hits) -> list[dict]:
    """How retrieved chunks are cited in a Reply and in the log."""
    return [{"chunk_id": h.chunk_id, "document": h.document, "score": round(h.score, 4)} for h in hits]


class Task:
    """Base class of task plugins: one instance per task configured in lifelong.toml."""

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

    def __init__(self, name: str, options: dict, agent):
        self.name = name
        self.options = options
        self.agent = agent

    def answer(self, text: str, hits: list, **context) -> Answer:
        """Answer ``text`` given the retrieved ``hits`` (empty when retrieval is off). A task with
        ``uses_history`` also gets ``history``: the earlier turns as chat messages, oldest first;
        one that ``generates`` gets ``generation``: the request's GenerationOptions."""
        raise NotImplementedError

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

    def score(self, prediction: str, target: str, input: str = "") -> float:
        """1.0 when ``prediction`` (the answer to ``input``) is right for ``target``, else 0.0
        (or anything in between)."""
        raise NotImplementedError

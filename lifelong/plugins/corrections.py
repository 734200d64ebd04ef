"""Corrections answer at once. A small model does not reliably copy an answer from its context
(benchmarks/agent.py measures it), so a question close enough to one a user corrected is
answered with the correction itself until fine-tuning has taught the model."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from lifelong import hookimpl
from lifelong.api import ConfigError
from lifelong.memory.examples import ExampleStore

_memories: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass
class CorrectionsOptions:
    min_similarity: float = field(default=0.8, metadata={
        "help": "Cosine similarity from which a stored correction answers a question directly (> 1: off)"})

    def __post_init__(self):
        if self.min_similarity < 0:
            raise ConfigError(f"min_similarity must be >= 0, got {self.min_similarity!r}")


class CorrectionMemory:
    """Embeddings of corrected questions, encoded once each."""

    def __init__(self, agent):
        self.agent = agent
        self.store = ExampleStore(agent.db)
        self._vectors: dict[int, np.ndarray] = {}

    def match(self, task: str, text: str) -> tuple[dict, float] | None:
        rows = self.store.corrections(task)
        if not rows:
            return None
        missing = [r for r in rows if r["id"] not in self._vectors]
        if missing:
            for row, vector in zip(missing, self.agent.embedder.encode([r["input"] for r in missing])):
                self._vectors[row["id"]] = vector
        matrix = np.stack([self._vectors[r["id"]] for r in rows])
        scores = matrix @ self.agent.embedder.encode([text])[0]
        best = int(np.argmax(scores))
        if scores[best] < self.agent.plugin_options(CorrectionsOptions).min_similarity:
            return None
        return rows[best], float(scores[best])


@hookimpl
def plugin_options():
    return CorrectionsOptions


@hookimpl
def before_ask(agent, task, text):
    if not agent.task(task).corrections_are_knowledge:
        return None
    memory = _memories.get(agent)
    if memory is None:
        memory = _memories[agent] = CorrectionMemory(agent)
    found = memory.match(task, text)
    if found is None:
        return None
    example, score = found
    return {
        "answer": example["target"],
        "sources": [{"document": f"correction:{example['interaction_id']}", "score": round(score, 4)}],
        "model_version": f"correction:{example['id']}",
        "answered_by": "correction",
    }

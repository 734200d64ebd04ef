"""Corrections answer at once. A small model does not reliably copy an answer from its context
(benchmarks/agent.py measures it), so a question that a user's correction answers is answered
with the correction itself until fine-tuning has taught the model.

A correction answers a question asked again in the same words (cosine of the questions), and a
question worded otherwise when the correction, read with the question it corrected, answers it
as a sentence of the documents would (chat/answerability.py): "Who runs Larkspur Outfitters?"
reaches "The CEO is Mira Okafor." given for "Who is the CEO of Larkspur?", and "Who founded
Larkspur?" does not (benchmarks/answerability.py measures both rates). A question worded otherwise
must also name a name the correction names (``_same_subject``): a general question never reaches
a correction about someone else."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

import numpy as np

from lifelong.api import Options, Provenance, hookimpl, option

from . import answerability
from .words import content_words

_memories: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


@dataclass
class CorrectionsOptions(Options):
    min_similarity: float = option(
        0.8, "Cosine similarity of the questions from which a stored correction answers a question directly (> 1: off)",
        at_least=0)
    # Chosen on the 30 dev corrections of benchmarks/answerability.py (--fit), the documents'
    # best sentence answering less likely: 0.75 of the rewordings reached, 0.78 of the unrelated
    # questions not (0.52 / 0.82 at 0.25; at 0.25 without comparing with the documents, with an
    # earlier answerability model, 0.57 / 0.63). Since a reworded question must name the
    # correction's subject, 0.50 of the test rewordings reach it (docs/figures.md).
    min_answerability: float = option(
        0.05, "The chance (0 to 1) that a correction answers a question worded otherwise, from which it does (> 1: off)",
        at_least=0)


# Corrections read for a question worded otherwise: those whose question, answer or both are
# nearest to it. Answerability is read per sentence in Python; the cosines of every correction
# are one matrix product, so an ask costs the same after a thousand corrections as after ten.
CANDIDATES = 8


class CorrectionMemory:
    """Embeddings of corrected questions and of their corrections, encoded once each."""

    def __init__(self, agent):
        self.agent = agent
        # By what was encoded, not by row id alone: SQLite may give an erased row's id to a new one.
        self._vectors: dict[tuple, np.ndarray] = {}  # its question, its answer, both
        self._matrix: tuple[list, np.ndarray] | None = None  # the keys it stacks, stacked

    def _cosines(self, rows: list[dict], text: str) -> np.ndarray:
        """Per row: the cosines of ``text`` to its question, its answer and both."""
        keys = [(r["id"], r["input"], r["target"]) for r in rows]
        missing = [(k, r) for k, r in zip(keys, rows) if k not in self._vectors]
        if missing:
            vectors = self.agent.embedder.encode([t for _, r in missing for t in _texts(r)])
            for n, (key, _) in enumerate(missing):
                self._vectors[key] = vectors[3 * n : 3 * n + 3]
        if self._matrix is None or self._matrix[0] != keys:
            self._vectors = {k: self._vectors[k] for k in keys}  # erased rows leave memory too
            self._matrix = (keys, np.stack([self._vectors[k] for k in keys]))
        return self._matrix[1] @ self.agent.embedder.encode([text])[0]

    def match(self, task: str, text: str) -> tuple[dict, float] | None:
        """The correction that answers ``text`` best, with its question's cosine to ``text``."""
        rows = self.agent.corrections(task)
        if not rows:
            return None
        cosines = self._cosines(rows, text)
        questions = cosines[:, 0]
        options = self.agent.plugin_options(CorrectionsOptions)
        best = int(np.argmax(questions))
        if questions[best] >= options.min_similarity:
            return rows[best], float(questions[best])
        nearest = np.argsort(-cosines.max(axis=1), kind="stable")[:CANDIDATES]
        asked = content_words(text)
        chances = {int(i): answerability.probability(answerability.features(
            text, rows[i]["target"], _texts(rows[i])[2], float(cosines[i, 1]), float(cosines[i, 2])))
            for i in nearest if _same_subject(asked, rows[i])}
        if not chances:
            return None
        best = max(chances, key=lambda i: (chances[i], -i))
        if chances[best] < options.min_answerability or self._documents_answer_better(task, text, chances[best]):
            return None
        return rows[best], float(questions[best])

    def _documents_answer_better(self, task: str, text: str, chance: float) -> bool:
        """Whether a sentence of the documents answers ``text`` at least as likely as the
        correction does: a question worded otherwise than the corrected one may be about
        something else the documents say ("When does the store open on Saturdays?" beside a
        correction of its address)."""
        chat = self.agent.task(task)
        if not hasattr(chat, "ground") or self.agent.retriever.is_empty():
            return False
        found = chat.ground(text, self.agent.search(chat.search_query(text, [])))
        best = found.evidence[0] if found.evidence else found.closest
        return best is not None and best.probability is not None and best.probability >= chance


# A capitalised word that does not open a sentence: a name (a person, a company, a street).
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]*")


def _same_subject(asked: set[str], row: dict) -> bool:
    """Whether a question worded otherwise than the corrected one is about the same thing: it
    names a name the correction or its question names, or, when they name none, shares half of
    the corrected question's words. Answerability alone, without documents to compare with,
    took "What is the capital of Ireland?" for a rewording of "In which city does Rael Gael
    live?" (9 of 40 general questions beside 100 corrections of made-up people)."""
    question, correction = row["input"], row["target"]
    names = content_words(" ".join(_NAME.findall(question.strip()) + _NAME.findall(correction.strip())))
    if names:
        return bool(asked & names)
    words = content_words(question)
    return bool(words) and len(asked & words) >= len(words) / 2


def _texts(row: dict) -> tuple[str, str, str]:
    """What a correction is compared with: its question, its answer, and both (the answer's
    paragraph, as answerability reads a sentence of the documents)."""
    return row["input"], row["target"], f"{row['input']} {row['target']}"


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
        # One name for a correction everywhere: its example's id, as model_version says.
        "sources": [{"document": f"correction:{example['id']}", "score": round(score, 4)}],
        "model_version": f"correction:{example['id']}",
        "answered_by": "correction",
        "provenance": Provenance(examples=(example["id"],)),
    }

"""Which questions a chat adapter answers: its scope.

A fine-tuned adapter answers the questions it was taught, their rewordings and the questions
most like them; every other question goes to the base model, as in SERAC's scope classifier
(Mitchell et al., 2022) and GRACE's deferral radius (Hartvigsen et al., 2023). Fine-tuning a
135M model on a few facts moves answers to unrelated questions ("What colour is grass?" ->
"teal", the taught logo colour) however the recipe is tuned (docs/figures.md, benchmarks/learn.py); with
a scope, unrelated questions are answered by weights no cycle touched.

The scope is the embeddings (the agent's embedder, unit length) of every question the adapter's
lineage trained on: a cycle's taught questions with their paraphrases, plus its parent's scope.
A question is in scope when its cosine to one of them reaches the task's ``adapter_scope``;
MiniLM puts rewordings of a question at 0.79 and above, and general questions at 0.46 and below,
of the questions taught in ``benchmarks/data`` (``benchmarks/learn.py`` prints both). The
default, 0.7, also keeps out most uncorrected questions about the same documents (11 of 13 in
``benchmarks/answers.py``): an adapter answers those worse than the base model.

A rating or a preference judges *how* the agent answers (concisely, politely, without
evasion), which is meant to reach every question, not only the rated ones. So an adapter whose
cycle learned from ratings or preferences also answers every question asked without sources,
when it passes a check at training time: so served, it answers the behaviour probe's general
questions as well as its parent does as served (``[learning] behaviour_tolerance``). Otherwise,
or when the cycle only learned corrections and imports, it keeps the scope of what it was
taught. The check's outcome is saved with the adapter, in ``EVERY_QUESTION_FILE``. Answers over
documents keep the taught scope: a style was never checked on answers from sources, and an
adapter answers those worse than the base model (benchmarks/answers.py). On SmolLM2-135M a
terse style learned from 12 rated questions lost 6 of the probe's 40 general questions on every
question, so it kept its scope (benchmarks/preference.py).

Adapters saved before scopes existed have no scope file and answer every question, as then."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

SCOPE_FILE = "scope.npy"
EVERY_QUESTION_FILE = "scope-every-question.json"


def build(embedder, questions: list[str], parent_path: str | None) -> np.ndarray:
    """The scope of an adapter trained on ``questions`` on top of ``parent_path``'s adapter."""
    vectors = embedder.encode(sorted(set(questions)))
    parent = load(parent_path) if parent_path else None
    if parent is not None:
        vectors = np.concatenate([parent, vectors])
    # Replayed questions are in the parent's scope already: keep each vector once.
    return np.unique(vectors.round(5), axis=0)


def save(vectors: np.ndarray, folder: str | Path, every_question: dict | None = None) -> None:
    """``every_question``: the training-time check's outcome (``ChatTask``), when it ran."""
    np.save(Path(folder) / SCOPE_FILE, vectors.astype(np.float32), allow_pickle=False)
    if every_question is not None:
        (Path(folder) / EVERY_QUESTION_FILE).write_text(json.dumps(every_question, indent=1) + "\n")


def every_question_check(folder: str | Path) -> dict | None:
    """The check that decided whether the adapter in ``folder`` answers every question (above):
    ``every_question``, and the behaviour probe questions it ``lost``; None when none ran."""
    path = Path(folder) / EVERY_QUESTION_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def answers_every_question(folder: str | Path) -> bool:
    """Whether the adapter in ``folder`` answers every question asked without sources (above)."""
    return bool((every_question_check(folder) or {}).get("every_question"))


def load(folder: str | Path) -> np.ndarray | None:
    """The scope saved with the adapter in ``folder``; None when it has none."""
    path = Path(folder) / SCOPE_FILE
    if not path.is_file():
        return None
    return _read(str(path), path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _read(path: str, _mtime_ns: int) -> np.ndarray:
    # Keyed on the file's mtime: a retrained adapter saved at the same path is read again.
    return np.load(path, allow_pickle=False)


def covers(vectors: np.ndarray | None, questions: np.ndarray, threshold: float) -> np.ndarray:
    """For each row of ``questions`` (unit embeddings): is it in the scope ``vectors``? No scope
    (an adapter from before scopes) or a threshold of 0 covers everything."""
    if vectors is None or threshold <= 0:
        return np.ones(len(questions), dtype=bool)
    if len(vectors) == 0:
        return np.zeros(len(questions), dtype=bool)
    return (questions @ vectors.T).max(axis=1) >= threshold

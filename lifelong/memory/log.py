"""InteractionLog: every question, answer and piece of feedback, one transaction per write."""

from __future__ import annotations

import json
from typing import Callable

import sqlite_utils

from ..errors import InputError, NotFoundError
from ..validation import MAX_ID, check_id, check_text
from . import provenance as answer_provenance
from .db import utcnow, write_transaction


class InteractionLog:
    def __init__(self, db: sqlite_utils.Database, before_log: Callable[[dict], None] | None = None):
        self.db = db
        # Hook that may rewrite text fields (PII masking) before anything reaches the disk.
        self._before_log = before_log or (lambda record: None)

    def log_interaction(
        self,
        *,
        task: str,
        input: str,
        output: str | None = None,
        sources: list[dict] | None = None,
        model_version: str | None = None,
        latency_ms: float | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        status: str = "ok",
        error: str | None = None,
        answered_by: str | None = None,
        grounding: str | None = None,
        conversation: str | None = None,
        confidence: float | None = None,
        subject: str | None = None,
        provenance: list[tuple[str, str]] = (),
    ) -> int:
        """Log one interaction with its ``provenance`` rows ((kind, ref): memory/provenance.py)."""
        record = {
            "created_at": utcnow(),
            "task": task,
            "input": input,
            "output": output,
            "sources": json.dumps(sources or []),
            "model_version": model_version,
            "latency_ms": latency_ms,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "status": status,
            "error": error,
            "answered_by": answered_by,
            "grounding": grounding,
            "conversation": conversation,
            "confidence": confidence,
            "subject": subject,
        }
        self._before_log(record)
        with write_transaction(self.db):
            interaction_id = self.db["interactions"].insert(record).last_pk
            answer_provenance.record(self.db, interaction_id, list(provenance))
        return interaction_id

    def provenance(self, interaction_id: int) -> list[dict]:
        return answer_provenance.of(self.db, interaction_id)

    def get(self, interaction_id: int) -> dict:
        check_id(interaction_id, "interaction")
        rows = list(self.db["interactions"].rows_where("id = ?", [interaction_id]))
        if not rows:
            raise NotFoundError(
                f"no interaction with id {interaction_id}; list them with 'lifelong logs'"
            )
        return self._decode(rows[0])

    def recent(self, n: int = 20, task: str | None = None) -> list[dict]:
        n = min(n, MAX_ID)  # SQLite's LIMIT is a 64-bit integer
        where, args = ("task = ?", [task]) if task else (None, [])
        rows = self.db["interactions"].rows_where(where, args, order_by="id desc", limit=n)
        return [self._decode(row) for row in rows]

    RATINGS = ("good", "bad", "corrected", "unrated")

    def filtered(self, *, task: str | None = None, version: str | None = None, rating: str | None = None,
                 text: str | None = None, since: str | None = None, until: str | None = None,
                 limit: int = 50, offset: int = 0) -> list[dict]:
        """Interactions, newest first, with their feedback (``rating``: the latest, ``correction``):
        ``rating`` one of RATINGS; ``text`` found in the question or answer; ``since`` / ``until``:
        ISO dates (``until`` inclusive)."""
        where, args = ["1 = 1"], []
        for column, value in (("task", task), ("model_version", version)):
            if value:
                where.append(f"i.{column} = ?")
                args.append(value)
        if text:
            where.append("(i.input like ? escape '\\' or i.output like ? escape '\\')")
            pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            args += [pattern, pattern]
        if since:
            where.append("i.created_at >= ?")
            args.append(since)
        if until:
            where.append("substr(i.created_at, 1, 10) <= ?")
            args.append(until)
        if rating is not None and rating not in self.RATINGS:
            raise InputError(f"rating filter {rating!r}: use one of {', '.join(self.RATINGS)}")
        having = {"good": "rating = 1", "bad": "rating = -1", "corrected": "correction is not null",
                  "unrated": "rating is null and correction is null"}.get(rating or "", "1 = 1")
        sql = f"""select * from (
                    select i.*,
                      (select f.rating from feedback f where f.interaction_id = i.id and f.rating is not null
                       order by f.id desc limit 1) as rating,
                      (select f.correction from feedback f where f.interaction_id = i.id and f.correction is not null
                       order by f.id desc limit 1) as correction
                    from interactions i where {' and '.join(where)}) as rated
                  where {having} order by id desc limit ? offset ?"""
        return [self._decode(row) for row in self.db.query(sql, [*args, min(limit, MAX_ID), min(offset, MAX_ID)])]

    def conversation_of(self, input: str, output: str) -> str | None:
        """The conversation of the latest turn that asked ``input`` and answered ``output``: how a
        client that resends the whole conversation (the OpenAI API) is put back into it."""
        row = self.db.execute(
            "select conversation from interactions where input = ? and output = ? and conversation is not null "
            "order by id desc limit 1", [input, output],
        ).fetchone()
        return row[0] if row else None

    def model_versions(self) -> list[str]:
        return [r[0] for r in self.db.execute(
            "select distinct model_version from interactions where model_version is not null order by 1")]

    def turns(self, conversation: str) -> list[dict]:
        rows = self.db["interactions"].rows_where("conversation = ?", [conversation], order_by="id")
        return [self._decode(row) for row in rows]

    def add_feedback(self, interaction_id: int, rating: int | None = None, correction: str | None = None) -> dict:
        """Store feedback; ``rating`` is +1 or -1. Use ``record_feedback`` inside a larger
        transaction."""
        with write_transaction(self.db):
            return self.record_feedback(interaction_id, rating, correction)

    def record_feedback(self, interaction_id: int, rating: int | None, correction: str | None) -> dict:
        if rating not in (None, 1, -1):
            raise InputError(f"rating must be +1 or -1, got {rating!r}")
        if correction is not None and not check_text(correction, "the correction").strip():
            raise InputError("the correction is empty; give the right answer as text")
        if rating is None and correction is None:
            raise InputError("feedback needs a rating (+1/-1) or a correction")
        self.get(interaction_id)
        record = {
            "interaction_id": interaction_id,
            "created_at": utcnow(),
            "rating": rating,
            "correction": correction.strip() if correction else None,
        }
        self._before_log(record)
        record["id"] = self.db["feedback"].insert(record).last_pk
        return record

    def record_preference(self, interaction_id: int, chosen: str, rejected: str) -> dict:
        """Store that ``chosen`` answers the interaction's question better than ``rejected``; call
        inside a write transaction."""
        chosen = check_text(chosen, "the chosen answer").strip() if chosen is not None else ""
        rejected = check_text(rejected, "the rejected answer").strip() if rejected is not None else ""
        if not chosen or not rejected:
            raise InputError("a preference needs two answers: give the chosen and the rejected one as text")
        if chosen == rejected:
            raise InputError("the chosen and the rejected answer are the same; a preference needs two different answers")
        self.get(interaction_id)
        record = {"interaction_id": interaction_id, "created_at": utcnow(), "rating": None, "correction": None,
                  "chosen": chosen, "rejected": rejected}
        self._before_log(record)
        record["id"] = self.db["feedback"].insert(record).last_pk
        return record

    def feedback_for(self, interaction_id: int) -> list[dict]:
        return list(self.db["feedback"].rows_where("interaction_id = ?", [interaction_id], order_by="id"))

    @staticmethod
    def _decode(row: dict) -> dict:
        row = dict(row)
        row["sources"] = json.loads(row["sources"] or "[]")
        return row

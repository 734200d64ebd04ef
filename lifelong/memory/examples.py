"""ExampleStore: training examples from feedback and imports, with their split and cycle."""

from __future__ import annotations

import hashlib
from typing import Callable

import sqlite_utils

from ..validation import MAX_ID
from .db import utcnow


def heldout(text: str, fraction: float) -> bool:
    """A stable split: the same input always lands on the same side."""
    bucket = int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < fraction


class ExampleStore:
    def __init__(self, db: sqlite_utils.Database, before_store: Callable[[dict], None] | None = None):
        self.db = db
        # May rewrite text fields (PII masking) before an example reaches the disk.
        self._before_store = before_store or (lambda record: None)

    def add(self, task: str, input: str, target: str, origin: str, split: str, interaction_id: int | None = None,
            rejected: str | None = None, rating: int | None = None) -> int:
        """Insert one example; call inside a write transaction. ``rejected``: a worse answer to
        ``input`` than ``target`` (a preference pair); ``rating``: the +1/-1 that ``target`` was
        given, for examples that came from a rating (-1: ``target`` is an answer not to give)."""
        row = {
            "created_at": utcnow(), "task": task, "input": input, "target": target, "split": split,
            "origin": origin, "interaction_id": interaction_id, "cycle": None, "rejected": rejected, "rating": rating,
        }
        self._before_store(row)
        return self.db["examples"].insert(row).last_pk

    def newest(self, task: str | None, n: int) -> list[dict]:
        where, args = ("task = ?", [task]) if task else (None, [])
        return list(self.db["examples"].rows_where(where, args, order_by="id desc", limit=min(n, MAX_ID)))

    def pending(self, task: str) -> list[dict]:
        """Examples that no learning cycle has used yet."""
        return list(self.db["examples"].rows_where("task = ? and cycle is null", [task], order_by="id"))

    def of_cycle(self, task: str, cycle: int, split: str | None = None) -> list[dict]:
        where, args = "task = ? and cycle = ?", [task, cycle]
        if split:
            where, args = where + " and split = ?", args + [split]
        return list(self.db["examples"].rows_where(where, args, order_by="id"))

    def learned(self, task: str) -> list[dict]:
        """Examples that earlier learning cycles used."""
        return list(self.db["examples"].rows_where("task = ? and cycle is not null", [task], order_by="id"))

    def last_cycle(self, task: str) -> int:
        """The latest learning cycle that used examples of ``task`` (0: none yet)."""
        return self.db.execute("select coalesce(max(cycle), 0) from examples where task = ?", [task]).fetchone()[0]

    def mark_cycle(self, ids: list[int], cycle: int) -> None:
        marks = ",".join("?" * len(ids))
        self.db.execute(f"update examples set cycle = ? where id in ({marks})", [cycle, *ids])

    def corrections(self, task: str) -> list[dict]:
        """The latest correction for each distinct input of ``task``."""
        sql = """select * from examples where id in (
                   select max(id) from examples where task = ? and origin = 'correction' group by input)
                 order by id"""
        return [dict(r) for r in self.db.query(sql, [task])]

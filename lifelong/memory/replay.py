"""Replay buffers: *what is kept* of the example stream, persisted in SQLite with a bounded size.

Following avalanche's split, a strategy decides *when* the buffer is updated and mixed in, a
buffer decides *what is kept*, and ``select_replayed`` decides *which* kept items a run replays.
The policies themselves are plugins (``register_buffers``; the built-ins in
``lifelong/plugins/buffers.py``)."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod

import sqlite_utils

from ..errors import PluginError
from .db import utcnow, write_transaction


class ReplayBuffer(ABC):
    """Base class of buffer policies, created as ``cls(db, task, max_size, seed, group)``.
    Subclasses implement ``keep``; this class persists what it returns. ``self.rng`` is seeded
    by the seed, the task and how many examples the buffer has seen, so a run repeats."""

    def __init__(self, db: sqlite_utils.Database, task: str, max_size: int, seed: int = 0, group=None):
        if max_size <= 0:
            raise ValueError(f"max_size must be > 0, got {max_size}")
        self.db, self.task, self.max_size, self.seed = db, task, max_size, seed
        self.group = group or (lambda example: example["cycle"])
        self.rng = random.Random(f"{seed}:{task}:{self.seen}")

    @property
    def seen(self) -> int:
        row = self.db.execute("select seen from buffer_state where task = ?", [self.task]).fetchone()
        return row[0] if row else 0

    def items(self) -> list[dict]:
        sql = """select e.*, b.weight from replay_buffer b join examples e on e.id = b.example_id
                 where b.task = ? order by e.id"""
        return [dict(r) for r in self.db.query(sql, [self.task])]

    def __len__(self) -> int:
        return self.db.execute("select count(*) from replay_buffer where task = ?", [self.task]).fetchone()[0]

    def update(self, examples: list[dict]) -> None:
        """Offer ``examples`` (rows of the examples table) to the buffer, in one transaction."""
        with write_transaction(self.db):
            self._store(self.keep(self.items(), examples), self.seen + len(examples))

    def clear(self) -> None:
        """Forget what the buffer keeps and how many examples it has seen."""
        with write_transaction(self.db):
            self.db.execute("delete from replay_buffer where task = ?", [self.task])
            self.db.execute("delete from buffer_state where task = ?", [self.task])
        self.rng = random.Random(f"{self.seed}:{self.task}:0")

    def resize(self, max_size: int) -> None:
        self.max_size = max_size
        with write_transaction(self.db):
            self._store(self.keep(self.items(), []), self.seen)

    def _store(self, keep: list[dict], seen: int) -> None:
        if len(keep) > self.max_size:
            # Inside the transaction: the buffer stays as it was.
            raise PluginError(f"buffer policy {type(self).__name__} kept {len(keep)} examples, over its max_size "
                              f"{self.max_size}; its keep() must return at most max_size rows")
        self.db.execute("delete from replay_buffer where task = ?", [self.task])
        now = utcnow()
        self.db["replay_buffer"].insert_all(
            {"task": self.task, "example_id": e["id"], "added_at": now, "weight": e.get("weight") or 1.0} for e in keep
        )
        self.db["buffer_state"].upsert({"task": self.task, "seen": seen}, pk="task")

    @abstractmethod
    def keep(self, stored: list[dict], new: list[dict]) -> list[dict]:
        """Given the ``stored`` items and the ``new`` examples offered (rows of the examples
        table; ``self.seen`` does not count ``new`` yet), return the rows to keep: at most
        ``self.max_size``. ``self.group(example)`` is the task's replay group of a row."""


def select_replayed(items: list[dict], n: int, rng: random.Random) -> list[dict]:
    """Which kept items a run replays: a uniform sample of ``n`` (all when fewer)."""
    return list(items) if n >= len(items) else rng.sample(items, n)

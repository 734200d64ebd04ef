"""Replay buffers: *what is kept* of the example stream, persisted in SQLite with a bounded size.

Following avalanche's split, a strategy decides *when* the buffer is updated and mixed in, a
buffer decides *what is kept*, and ``select`` decides *which* kept items a run replays."""

from __future__ import annotations

import math
import random

import sqlite_utils

from .db import utcnow, write_transaction


class ReplayBuffer:
    """Base class. Subclasses implement ``_keep``: given the stored items and the new ones,
    return the example ids to keep (at most ``max_size``)."""

    def __init__(self, db: sqlite_utils.Database, task: str, max_size: int, seed: int = 0, group=None):
        if max_size <= 0:
            raise ValueError(f"max_size must be > 0, got {max_size}")
        self.db, self.task, self.max_size = db, task, max_size
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
            keep = self._keep(self.items(), examples)
            self._store(keep, self.seen + len(examples))

    def resize(self, max_size: int) -> None:
        self.max_size = max_size
        with write_transaction(self.db):
            self._store(self._keep(self.items(), []), self.seen)

    def _store(self, keep: list[dict], seen: int) -> None:
        self.db.execute("delete from replay_buffer where task = ?", [self.task])
        now = utcnow()
        self.db["replay_buffer"].insert_all(
            {"task": self.task, "example_id": e["id"], "added_at": now, "weight": e.get("weight") or 1.0} for e in keep
        )
        self.db["buffer_state"].upsert({"task": self.task, "seen": seen}, pk="task")

    def _keep(self, stored: list[dict], new: list[dict]) -> list[dict]:
        raise NotImplementedError


class ReservoirBuffer(ReplayBuffer):
    """Reservoir sampling: every example of the whole stream is kept with equal probability."""

    def _keep(self, stored, new):
        kept, seen = list(stored)[: self.max_size], self.seen
        for example in new:
            seen += 1
            if len(kept) < self.max_size:
                kept.append(example)
            else:
                slot = self.rng.randrange(seen)
                if slot < self.max_size:
                    kept[slot] = example
        return kept


class BalancedBuffer(ReplayBuffer):
    """Equal room for each group (a label, or the cycle an example joined), so a rare class or
    an early cycle is not crowded out; within a group, a uniform sample. With more groups than
    room, a random choice of groups keeps one example each."""

    def _keep(self, stored, new):
        groups: dict = {}
        for example in [*stored, *new]:
            groups.setdefault(self.group(example), []).append(example)
        order = list(groups)
        self.rng.shuffle(order)
        quota, extra = divmod(self.max_size, len(order))
        kept = []
        for i, key in enumerate(order):
            members, room = groups[key], quota + (1 if i < extra else 0)
            kept.extend(members if len(members) <= room else self.rng.sample(members, room))
        return kept


class RecencyBuffer(ReplayBuffer):
    """Keeps recent examples more often: each item's chance of being kept halves with every
    ``half_life`` examples that arrived after it (weighted sampling without replacement)."""

    half_life_fraction = 0.5  # of max_size

    def _keep(self, stored, new):
        pool = [*stored, *new]
        if len(pool) <= self.max_size:
            return pool
        newest = max(e["id"] for e in pool)
        half_life = max(1.0, self.max_size * self.half_life_fraction)
        # Efraimidis-Spirakis: key = u^(1/w); the largest keys are a weighted sample.
        keyed = []
        for example in pool:
            weight = math.pow(0.5, (newest - example["id"]) / half_life)
            keyed.append((self.rng.random() ** (1.0 / weight), example))
        keyed.sort(key=lambda pair: -pair[0])
        return [example for _, example in keyed[: self.max_size]]


def select(items: list[dict], n: int, rng: random.Random) -> list[dict]:
    """Which kept items a run replays: a uniform sample of ``n`` (all when fewer)."""
    return list(items) if n >= len(items) else rng.sample(items, n)

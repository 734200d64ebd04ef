"""LearningRuns: one row per learning cycle, from start to its verdict, with its metrics (the
accuracy-matrix row, ACC/BWT, probe results) kept as JSON."""

from __future__ import annotations

import json

import sqlite_utils

from .db import utcnow, write_transaction


class LearningRuns:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def start(self, task: str, cycle: int, strategy: str, new_examples: int, replayed_examples: int,
              parent_version_id: int | None = None) -> int:
        """Record a run as ``running``, trained from ``parent_version_id`` (None: the base
        model); returns its id."""
        with write_transaction(self.db):
            return self.db["learning_runs"].insert({
                "task": task, "cycle": cycle, "strategy": strategy, "started_at": utcnow(), "status": "running",
                "new_examples": new_examples, "replayed_examples": replayed_examples,
                "parent_version_id": parent_version_id,
            }).last_pk

    def finish(self, run_id: int, status: str, version_id: int | None, metrics: dict, reason: str, seconds: float) -> None:
        """Record the verdict: promoted, rejected, failed or cancelled."""
        with write_transaction(self.db):
            self.db["learning_runs"].update(run_id, {
                "status": status, "version_id": version_id, "metrics": json.dumps(metrics), "reason": reason,
                "finished_at": utcnow(), "seconds": seconds,
            })

    def interrupted(self, task: str) -> None:
        """Mark as ``interrupted`` the runs of ``task`` left ``running`` by a process that died;
        call only while holding the task's learning lock (no run is alive then)."""
        with write_transaction(self.db):
            self.db.execute(
                "update learning_runs set status = 'interrupted', reason = 'the process running it ended before it finished' "
                "where task = ? and status = 'running'", [task],
            )

    def list(self, task: str | None = None, status: str | None = None, before_cycle: int | None = None) -> list[dict]:
        """Runs in the order they started, ``metrics`` decoded, with their version's number
        within the task (``version``)."""
        clauses, args = [], []
        for clause, value in (("r.task = ?", task), ("r.status = ?", status), ("r.cycle < ?", before_cycle)):
            if value is not None:
                clauses.append(clause)
                args.append(value)
        rows = self.db.query(
            "select r.*, v.number as version from learning_runs r left join model_versions v on v.id = r.version_id"
            f" where {' and '.join(clauses) or '1 = 1'} order by r.id", args)
        return [dict(row, metrics=json.loads(row["metrics"] or "{}")) for row in rows]

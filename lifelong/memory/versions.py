"""ModelVersions: each task's adapters (candidate / active / rejected / retired). The active
version of a task changes in one transaction, so a reader sees the old one or the new one."""

from __future__ import annotations

import sqlite_utils

from ..core.errors import InputError, NotFoundError
from .db import utcnow, write_transaction


class ModelVersions:
    def __init__(self, db: sqlite_utils.Database):
        self.db = db

    def add(self, task: str, adapter_path: str | None, parent_id: int | None, status: str = "candidate", reason: str | None = None) -> int:
        with write_transaction(self.db):
            return self.db["model_versions"].insert(
                {"task": task, "created_at": utcnow(), "adapter_path": adapter_path, "parent_id": parent_id,
                 "status": status, "reason": reason}
            ).last_pk

    def get(self, version_id: int) -> dict:
        rows = list(self.db["model_versions"].rows_where("id = ?", [version_id]))
        if not rows:
            raise NotFoundError(f"no model version {version_id}; list them with 'lifelong versions'")
        return rows[0]

    def active(self, task: str) -> dict | None:
        rows = list(self.db["model_versions"].rows_where("task = ? and status = 'active'", [task], limit=1))
        return rows[0] if rows else None

    def list(self, task: str | None = None) -> list[dict]:
        where, args = ("task = ?", [task]) if task else (None, [])
        return list(self.db["model_versions"].rows_where(where, args, order_by="id"))

    def promote(self, version_id: int) -> dict:
        """Make ``version_id`` the active version of its task; the previous one is retired."""
        with write_transaction(self.db):
            version = self.get(version_id)
            if version["adapter_path"] is None:
                raise InputError(f"version {version_id} has no adapter to serve")
            self.db.execute(
                "update model_versions set status = 'retired' where task = ? and status = 'active'", [version["task"]]
            )
            self.db["model_versions"].update(version_id, {"status": "active"})
            return self.get(version_id)

    def reject(self, version_id: int, reason: str) -> None:
        with write_transaction(self.db):
            self.db["model_versions"].update(version_id, {"status": "rejected", "reason": reason})

    def rollback(self, task: str) -> dict | None:
        """Retire the active version and re-activate its parent (None: back to the base model)."""
        with write_transaction(self.db):
            current = self.active(task)
            if current is None:
                raise InputError(f"task {task!r} has no active adapter to roll back")
            self.db["model_versions"].update(current["id"], {"status": "retired", "reason": "rolled back"})
            if current["parent_id"] is None:
                return None
            self.db["model_versions"].update(current["parent_id"], {"status": "active"})
            return self.get(current["parent_id"])

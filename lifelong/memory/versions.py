"""ModelVersions: each task's adapters (candidate / active / rejected / retired / damaged). The
active version of a task changes in one transaction, so a reader sees the old one or the new one.

Versions are numbered per task: ``number`` (v1, v2... of that task) is the name users see and
type; ``id`` is the internal key that runs and parents refer to.

Adapter folders are stored relative to the workspace, so a copied or moved workspace serves its
own adapters, with a checksum of each file written at save time. An adapter is verified when it
is first served; a damaged one is marked ``damaged`` and its nearest good ancestor (or the base
model) serves instead."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import sqlite_utils

from ..errors import InputError, NotFoundError
from ..validation import check_id
from .db import serialize, utcnow, write_transaction

log = logging.getLogger("lifelong")


# A folder inside an adapter's where learning keeps what it computed with that adapter
# (learning/artefacts.py): not part of the adapter, so not checksummed, and it grows.
KEPT_BESIDE = "artefacts"


def adapter_files(folder: Path) -> dict[str, str]:
    """{path relative to ``folder``: sha256} of every file of the adapter in it."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*")) if path.is_file() and path.relative_to(folder).parts[0] != KEPT_BESIDE
    }


def adapter_problem(folder: Path, files: dict[str, str] | None) -> str | None:
    """Why the adapter in ``folder`` cannot be served (None: it can). ``files``: the checksums
    written when it was saved (None for adapters saved before checksums were kept)."""
    if not folder.is_dir():
        return f"its folder {folder} is missing"
    if files is None:
        return None if any(folder.iterdir()) else f"its folder {folder} is empty"
    for name, digest in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            return f"{name} changed since it was saved"
    return None


class ModelVersions:
    def __init__(self, db: sqlite_utils.Database, root: Path | None = None):
        self.db = db
        self.root = root  # the workspace; adapter paths are stored relative to it
        self._verified: set[int] = set()

    def add(self, task: str, adapter_path: str | None, parent_id: int | None, status: str = "candidate", reason: str | None = None) -> int:
        """A new version of ``task``, numbered after its last one; returns its id."""
        with write_transaction(self.db):
            serialize(self.db, f"lifelong:versions:{task}")  # two replicas never take the same number
            last = next(iter(self.db.execute("select max(number) from model_versions where task = ?", [task])))[0]
            return self.db["model_versions"].insert(
                {"task": task, "number": (last or 0) + 1, "created_at": utcnow(), "adapter_path": adapter_path,
                 "parent_id": parent_id, "status": status, "reason": reason}
            ).last_pk

    def set_knowledge(self, version_id: int, snapshot: str | None) -> None:
        """Record the knowledge-base snapshot (``Retriever.snapshot``) the version was trained on."""
        self.db["model_versions"].update(version_id, {"knowledge": snapshot})

    def set_adapter(self, version_id: int, folder: Path) -> None:
        """Record the adapter saved in ``folder`` with the checksums of its files."""
        stored = folder.relative_to(self.root) if self.root and folder.is_relative_to(self.root) else folder
        with write_transaction(self.db):
            self.db["model_versions"].update(
                version_id, {"adapter_path": str(stored), "adapter_files": json.dumps(adapter_files(folder))}
            )

    def _rows(self, where: str, args: list) -> list[dict]:
        """Versions with their parent's number (``parent``) and the adapter folder resolved
        against the workspace (an absolute path stays as it is)."""
        rows = [dict(r) for r in self.db.query(
            "select v.*, p.number as parent from model_versions v left join model_versions p on p.id = v.parent_id"
            f" where {where} order by v.id", args)]
        for row in rows:
            if row.get("adapter_path") and self.root is not None:
                row["adapter_path"] = str(self.root / row["adapter_path"])
        return rows

    def by_id(self, version_id: int) -> dict:
        """The version with the internal ``id`` ``version_id``."""
        check_id(version_id, "model version id")
        rows = self._rows("v.id = ?", [version_id])
        if not rows:
            raise NotFoundError(f"no model version with id {version_id}")
        return rows[0]

    def get(self, number: int, task: str | None = None) -> dict:
        """Version ``number`` (v3: 3) of ``task``; without a task, of the one task that has it."""
        check_id(number, "version")
        found = self._rows("v.number = ?" + (" and v.task = ?" if task else ""), [number, task] if task else [number])
        listing = "list them with 'lifelong versions" + (f" --task {task}'" if task else "'")
        if not found:
            raise NotFoundError(f"no version v{number}" + (f" of task {task!r}" if task else "") + f"; {listing}")
        if len(found) > 1:
            tasks = ", ".join(row["task"] for row in found)
            raise InputError(f"v{number} exists for tasks {tasks}; say which with --task")
        return found[0]

    def named(self, task: str, label: str | None) -> dict | None:
        """The version of ``task`` an answer's label names (``v3``), or None (``base``, a plugin's label)."""
        number = label[1:] if label and label.startswith("v") else ""
        if not (number.isascii() and number.isdigit()):
            return None
        found = self._rows("v.task = ? and v.number = ?", [task, int(number)])
        return found[0] if found else None

    def at(self, adapter_path: str | Path) -> dict:
        """The version whose adapter is in the folder ``adapter_path``."""
        wanted = Path(adapter_path).resolve()
        for row in self._rows("v.adapter_path is not null", []):
            if Path(row["adapter_path"]).resolve() == wanted:
                return row
        raise NotFoundError(f"no model version has its adapter in {adapter_path}")

    def active(self, task: str) -> dict | None:
        rows = self._rows("v.task = ? and v.status = 'active'", [task])
        return rows[0] if rows else None

    def list(self, task: str | None = None) -> list[dict]:
        return self._rows("v.task = ?", [task]) if task else self._rows("1 = 1", [])

    def problem(self, version: dict) -> str | None:
        """Why ``version``'s adapter cannot be served, or None."""
        if version["adapter_path"] is None:
            return "it has no adapter"
        files = json.loads(version["adapter_files"]) if version.get("adapter_files") else None
        return adapter_problem(Path(version["adapter_path"]), files)

    def serving(self, task: str) -> dict | None:
        """The active version of ``task`` once its adapter is verified (once per process). A
        damaged one is marked ``damaged``, with how to fix it, and its nearest good ancestor is
        made active instead (None: the base model serves)."""
        version = self.active(task)
        while version is not None and version["id"] not in self._verified:
            problem = self.problem(version)
            if problem is None:
                self._verified.add(version["id"])
                break
            version = self._fall_back(version, problem)
        return version

    def _fall_back(self, damaged: dict, problem: str) -> dict | None:
        reason = (f"damaged: {problem}; retrain with 'lifelong learn --task {damaged['task']}', or restore "
                  f"{damaged['adapter_path']} and run 'lifelong promote {damaged['number']} --task {damaged['task']}'")
        parent = self.by_id(damaged["parent_id"]) if damaged["parent_id"] is not None else None
        with write_transaction(self.db):
            serialize(self.db, f"lifelong:versions:{damaged['task']}")
            self.db["model_versions"].update(damaged["id"], {"status": "damaged", "reason": reason})
            if parent is not None:
                self.db["model_versions"].update(parent["id"], {"status": "active"})
        log.warning("adapter v%s of task %s is %s; serving %s instead", damaged["number"], damaged["task"], reason,
                    f"v{parent['number']}" if parent else "the base model")
        return self.active(damaged["task"])

    def promote(self, version_id: int) -> dict:
        """Make ``version_id`` the active version of its task; the previous one is retired."""
        with write_transaction(self.db):
            version = self.by_id(version_id)
            serialize(self.db, f"lifelong:versions:{version['task']}")  # one active version per task
            problem = self.problem(version)
            if problem is not None:
                raise InputError(f"v{version['number']} of task {version['task']} cannot be served: {problem}")
            self.db.execute(
                "update model_versions set status = 'retired' where task = ? and status = 'active'", [version["task"]]
            )
            change = {"status": "active"}
            if version["status"] == "damaged":
                change["reason"] = "restored and promoted by hand"
            self.db["model_versions"].update(version_id, change)
            return self.by_id(version_id)

    def reject(self, version_id: int, reason: str) -> None:
        with write_transaction(self.db):
            self.db["model_versions"].update(version_id, {"status": "rejected", "reason": reason})

    def release_refused(self, task: str, keep: int) -> list[str]:
        """Forget the adapters of ``task``'s refused versions but the ``keep`` latest (the rows
        stay, with why they were refused); returns their folders, for the caller to delete."""
        with write_transaction(self.db):
            # Under the lock 'promote' takes: a refused version promoted by hand meanwhile keeps its adapter.
            serialize(self.db, f"lifelong:versions:{task}")
            refused = self._rows("v.task = ? and v.status = 'rejected' and v.adapter_path is not null", [task])
            released = refused[:max(len(refused) - keep, 0)]
            for row in released:
                self.db["model_versions"].update(row["id"], {
                    "adapter_path": None, "adapter_files": None,
                    "reason": f"{row['reason']}; adapter deleted (the {keep} latest refused ones are kept)"})
        return [row["adapter_path"] for row in released]

    def reject_candidates(self, task: str, reason: str) -> None:
        """Reject every candidate of ``task``: those a killed learning run left behind."""
        with write_transaction(self.db):
            self.db.execute("update model_versions set status = 'rejected', reason = ? where task = ? and status = 'candidate'",
                            [reason, task])

    def rollback(self, task: str) -> dict | None:
        """Retire the active version and re-activate its parent (None: back to the base model)."""
        with write_transaction(self.db):
            serialize(self.db, f"lifelong:versions:{task}")
            current = self.active(task)
            if current is None:
                raise InputError(f"task {task!r} has no active adapter to roll back")
            self.db["model_versions"].update(current["id"], {"status": "retired", "reason": "rolled back"})
            if current["parent_id"] is None:
                return None
            self.db["model_versions"].update(current["parent_id"], {"status": "active"})
            return self.by_id(current["parent_id"])

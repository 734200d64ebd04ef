"""Knowledge snapshots of the built-in retriever: the set of document versions a model version
was trained and assessed with, and the chunks of each such version once it is replaced or
forgotten, so that a rollback can bring that knowledge back (``rollback --with-knowledge``).

A snapshot is named by the SHA-256 of its (path, document SHA-256) pairs: the same knowledge
state always has the same id, and one row per state is kept however many versions share it.
Only versions some snapshot names are archived; an erasure drops a document's archive with it."""

from __future__ import annotations

import hashlib

import numpy as np

from lifelong.api import utcnow, write_transaction


class KnowledgeSnapshots:
    def __init__(self, db):
        self.db = db

    def take(self) -> str:
        """The id of the present state of the documents, recorded if new."""
        documents = [tuple(r) for r in self.db.execute("select path, sha256 from documents order by path")]
        snapshot = hashlib.sha256("\n".join(f"{path}\t{sha}" for path, sha in documents).encode()).hexdigest()
        with write_transaction(self.db):
            if self.db.execute("select 1 from knowledge_snapshots where snapshot = ?", [snapshot]).fetchone() is None:
                self.db["knowledge_snapshots"].insert_all([{"snapshot": snapshot, "created_at": utcnow()}])
                self.db["knowledge_snapshot_documents"].insert_all(
                    {"snapshot": snapshot, "path": path, "sha256": sha} for path, sha in documents)
        return snapshot

    def documents(self, snapshot: str) -> dict[str, str] | None:
        """path -> document SHA-256 of ``snapshot``; None if there is no such snapshot."""
        if self.db.execute("select 1 from knowledge_snapshots where snapshot = ?", [snapshot]).fetchone() is None:
            return None
        return dict(self.db.execute("select path, sha256 from knowledge_snapshot_documents where snapshot = ?", [snapshot]))

    def keep(self, path: str, replacing_with: str | None = None) -> None:
        """Archive the stored version of document ``path`` before it is forgotten or replaced by
        the version of SHA-256 ``replacing_with``, if a snapshot names it. Call inside the write
        transaction that changes it."""
        document = self.db.execute("select id, sha256, origin, size from documents where path = ?", [path]).fetchone()
        if document is None or document[1] == replacing_with:
            return
        doc_id, sha, origin, size = document
        named = self.db.execute("select 1 from knowledge_snapshot_documents where path = ? and sha256 = ?", [path, sha]).fetchone()
        if named is None or self.archived(path, sha):
            return
        self.db["knowledge_archive"].insert_all(
            {"path": path, "sha256": sha, "origin": origin, "size": size, "position": position, "text": text,
             "embedding": embedding}
            for position, text, embedding in self.db.execute(
                "select position, text, embedding from chunks where document_id = ? order by position", [doc_id]))

    def archived(self, path: str, sha256: str) -> bool:
        return self.db.execute("select 1 from knowledge_archive where path = ? and sha256 = ?", [path, sha256]).fetchone() is not None

    def archive(self, path: str, sha256: str, dim: int) -> tuple[str, int, list[str], np.ndarray]:
        """An archived document version: origin, size, chunk texts and their embeddings."""
        rows = list(self.db.execute("""select origin, size, text, embedding from knowledge_archive
                                       where path = ? and sha256 = ? order by position""", [path, sha256]))
        vectors = np.frombuffer(b"".join(r[3] for r in rows), dtype="<f4").reshape(len(rows), dim)
        return rows[0][0], rows[0][1], [r[2] for r in rows], vectors

    def drop(self, paths: list[str]) -> None:
        """Forget every archived version of ``paths`` (an erasure): a rollback cannot bring them back."""
        with write_transaction(self.db):
            for path in paths:
                self.db.execute("delete from knowledge_archive where path = ?", [path])

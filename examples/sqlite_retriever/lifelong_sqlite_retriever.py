"""A lifelong retriever in one file, written against ``lifelong.api`` alone: chunks and their
vectors in a SQLite file of the workspace, exact cosine search with numpy. No FAISS, no FTS:
one dense search, exact, for knowledge bases up to some 100,000 chunks.

``[retrieval] retriever = "sqlite"`` selects it once the package is installed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from lifelong.api import Hit, IngestReport, InputError, Retriever, hookimpl

SUPPORTED = (".txt", ".md")
CHUNK_CHARS = 800  # paragraphs are packed into chunks of about this many characters
SCHEMA = """
create table if not exists documents (
    path text primary key, origin text not null, sha256 text not null, ingested_at text not null);
create table if not exists chunks (
    id integer primary key, path text not null references documents(path) on delete cascade,
    position integer not null, text text not null, vector blob not null);
create index if not exists chunks_path on chunks(path);
"""


def chunk(text: str) -> list[str]:
    """Paragraphs packed into chunks of at most about CHUNK_CHARS characters."""
    chunks, current = [], ""
    for paragraph in (p.strip() for p in text.split("\n\n")):
        if not paragraph:
            continue
        if current and len(current) + len(paragraph) > CHUNK_CHARS:
            chunks.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    return [*chunks, current] if current else chunks


class SQLiteRetriever(Retriever):
    def __init__(self, agent):
        super().__init__(agent)
        self.conn = sqlite3.connect(agent.workspace.path / "sqlite_retriever.db", check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("pragma foreign_keys = on")
        self.conn.executescript(SCHEMA)
        self.lock = threading.Lock()  # one connection, shared by the threads of a server

    # --- writing -------------------------------------------------------------------------------

    def ingest(self, paths, progress=None) -> IngestReport:
        report = IngestReport()
        files = list(self._files(paths, report))
        bar = progress.add_task("embedding documents", total=len(files)) if progress else None
        for path in files:
            self._ingest_file(path, report)
            if progress:
                progress.advance(bar)
        return report

    def _ingest_file(self, path: Path, report: IngestReport) -> None:
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            report.skipped.append((str(path), f"cannot read it as UTF-8 text: {exc}"))
            return
        if not text.strip():
            report.skipped.append((str(path), "empty: no text to index"))
            return
        name, digest = str(path), hashlib.sha256(data).hexdigest()
        existing = self.conn.execute("select sha256 from documents where path = ?", [name]).fetchone()
        if existing and existing["sha256"] == digest:
            report.unchanged.append(name)
            return
        report.chunks += self._store(name, text, digest, "file")
        (report.updated if existing else report.added).append(name)

    def add_text(self, text: str, source: str, origin: str = "agent") -> int:
        if not isinstance(text, str) or not text.strip():
            raise InputError(f"no text to add for {source!r}")
        return self._store(source, text, hashlib.sha256(text.encode()).hexdigest(), origin)

    def _store(self, name: str, text: str, digest: str, origin: str) -> int:
        """Replace document ``name`` with the chunks of ``text``, in one transaction."""
        chunks = chunk(text)
        vectors = np.asarray(self.agent.embedder.encode(chunks), dtype="<f4")
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self.lock, self.conn:
            self.conn.execute("delete from documents where path = ?", [name])
            self.conn.execute("insert into documents values (?, ?, ?, ?)", [name, origin, digest, now])
            self.conn.executemany(
                "insert into chunks (path, position, text, vector) values (?, ?, ?, ?)",
                [(name, i, c, v.tobytes()) for i, (c, v) in enumerate(zip(chunks, vectors))],
            )
        return len(chunks)

    def forget(self, document: str) -> int:
        for name in (document, str(Path(document).expanduser().resolve())):
            with self.lock, self.conn:
                count = self.conn.execute("select count(*) from chunks where path = ?", [name]).fetchone()[0]
                if self.conn.execute("delete from documents where path = ?", [name]).rowcount:
                    return count
        raise InputError(f"no document {document!r} in the knowledge base; list them with 'lifelong documents'")

    # --- reading -------------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """Dense search only: ``mode`` is accepted and ignored."""
        if not isinstance(query, str) or not query.strip():
            raise InputError("the search query is empty")
        if k is not None and k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        k = k or self.agent.config.retrieval.top_k
        with self.lock:
            rows = self.conn.execute("select id, path, position, text, vector from chunks").fetchall()
        if not rows:
            return []
        matrix = np.frombuffer(b"".join(r["vector"] for r in rows), dtype="<f4").reshape(len(rows), -1)
        scores = matrix @ np.asarray(self.agent.embedder.encode([query])[0], dtype=np.float32)
        best = np.argsort(-scores, kind="stable")[:k]
        return [Hit(rows[i]["id"], rows[i]["path"], rows[i]["position"], float(scores[i]), rows[i]["text"]) for i in best]

    def documents(self) -> list[dict]:
        sql = """select d.path, d.origin, d.ingested_at, count(c.id) as chunks from documents d
                 left join chunks c on c.path = d.path group by d.path order by d.ingested_at, d.path"""
        with self.lock:
            return [dict(r) for r in self.conn.execute(sql)]

    def is_empty(self) -> bool:
        with self.lock:
            return self.conn.execute("select not exists (select 1 from chunks)").fetchone()[0] == 1

    @staticmethod
    def _files(paths, report: IngestReport):
        for raw in paths:
            path = Path(raw).expanduser().resolve()
            if path.is_dir():
                for root, _, names in sorted(os.walk(path)):
                    yield from (Path(root) / n for n in sorted(names) if Path(n).suffix.lower() in SUPPORTED)
            elif path.is_file() and path.suffix.lower() in SUPPORTED:
                yield path
            elif path.is_file():
                report.skipped.append((str(path), f"unsupported type {path.suffix or '(none)'}; supported: {' '.join(SUPPORTED)}"))
            else:
                report.skipped.append((str(raw), "no such file or directory"))


@hookimpl
def register_retrievers(register):
    register("sqlite", SQLiteRetriever)

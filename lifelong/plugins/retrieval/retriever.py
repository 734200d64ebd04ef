"""The built-in retriever: chunks in the memory (SQLite or PostgreSQL); dense search with FAISS,
or with pgvector in SQL where the PostgreSQL server has it; keyword search with FTS5 or
PostgreSQL's full-text search; hybrid search fusing both by reciprocal rank."""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from lifelong.api import (Hit, IngestReport, InputError, Retriever, check_text, not_a_regular_file, printable,
                          write_transaction)

from .chunker import Chunker
from .documents import DocumentStore
from .options import RetrievalOptions
from .pgvector_index import PgvectorIndex
from .readers import SUPPORTED, UnreadableFile, read_text
from .snapshots import KnowledgeSnapshots
from .vector_index import VectorIndex

log = logging.getLogger("lifelong")
RRF_K = 60  # the constant of Cormack et al. (2009); damps the weight of the very top ranks
ENCODE_SLICE = 512
MAX_HITS = 1000  # a larger k would only make SQLite and FAISS allocate for nothing


@dataclass
class _Pending:
    path: str
    sha256: str
    size: int
    chunks: list[str]
    origin: str
    updated: bool


class FaissRetriever(Retriever):
    def __init__(self, agent):
        super().__init__(agent)
        self.options = agent.plugin_options(RetrievalOptions)
        self.store = DocumentStore(agent.db)
        self.snapshots = KnowledgeSnapshots(agent.db)
        self.index_path = agent.workspace.index_dir / "chunks.faiss"
        self._index: VectorIndex | None = None
        self._fingerprint = None
        self._chunker = None

    # --- the vector index: pgvector's, or FAISS kept in step with the stored chunks -------------

    @cached_property
    def pgvector(self) -> PgvectorIndex | None:
        """Dense search in SQL, when the memory is PostgreSQL with pgvector; None: FAISS."""
        index = PgvectorIndex.open(self.agent.db, self.agent.embedder.dim)
        if index is not None:
            self.store = DocumentStore(self.agent.db, vectors_in_sql=True)
        return index

    def _before_change(self) -> None:
        """Bring FAISS in step before the chunks change, so _apply starts from it. pgvector's
        column changes with the chunks, in their transaction."""
        if self.pgvector is None:
            self.index

    @property
    def index(self) -> VectorIndex:
        fingerprint = self.store.fingerprint()
        if self._index is not None and self._fingerprint == fingerprint:
            return self._index
        dim = self.agent.embedder.dim
        index = VectorIndex.load(self.index_path, dim, fingerprint, self.options.approximate_above)
        if index is None:
            index = VectorIndex(dim, self.options.approximate_above)
            ids, vectors = self.store.all_vectors(dim)
            if len(ids):
                reason = "stale, unreadable or damaged" if self.index_path.exists() else "missing"
                log.warning("vector index %s is %s: rebuilding it from %d chunks in SQLite", self.index_path, reason, len(ids))
            index.build(ids, vectors)
            index.save(self.index_path, fingerprint)
        self._index, self._fingerprint = index, fingerprint
        return index

    def _apply(self, removed: list[int], added_ids: list[int], added_vectors: np.ndarray, save: bool = True) -> None:
        # The in-memory index matches SQLite as it was before this change (_before_change);
        # apply the change to it instead of reloading.
        if self.pgvector is not None:
            return
        index = self._index
        index.remove(removed)
        if len(added_ids):
            index.add(added_ids, added_vectors)
        self._fingerprint = self.store.fingerprint()
        grew_past_exact = not index.approximate and len(index) > self.options.approximate_above
        # A count that disagrees means another process changed the chunks meanwhile.
        if grew_past_exact or len(index) != self._fingerprint[0]:
            index.build(*self.store.all_vectors(index.dim))
        if save:
            index.save(self.index_path, self._fingerprint)

    # --- ingest --------------------------------------------------------------------------------

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            self._chunker = Chunker(self.agent.embedder.tokenizer, self.options.chunk_size, self.options.chunk_overlap)
        return self._chunker

    def ingest(self, paths, progress=None, follow_links=False) -> IngestReport:
        """Ingest files and folders (recursively). ``progress``: a rich Progress to report to."""
        report = IngestReport()
        pending = [p for p in (self._prepare(path, report) for path in _expand(paths, report, follow_links)) if p]
        texts = [chunk for p in pending for chunk in p.chunks]
        self._before_change()
        vectors = self._encode(texts, progress)
        offset = 0
        for p in pending:
            doc_vectors = vectors[offset : offset + len(p.chunks)]
            offset += len(p.chunks)
            removed, added = self._replace(p.path, p.sha256, p.size, p.origin, p.chunks, doc_vectors)
            self._apply(removed, [i for i, _ in added], doc_vectors[[pos for _, pos in added]], save=False)
            report.chunks += len(added)
            (report.updated if p.updated else report.added).append(p.path)
        if pending and self._index is not None:
            # Once per ingest: a crash before this leaves a stale file, rebuilt on next use.
            self._index.save(self.index_path, self._fingerprint)
        return report

    def add_text(self, text: str, source: str, origin: str = "agent") -> int:
        """Store text written by the agent itself (a correction) under the name ``source``."""
        if not text.strip():
            raise InputError(f"no text to add for {source!r}")
        chunks = self.chunker.split(text)
        vectors = self.agent.embedder.encode(chunks)
        self._before_change()
        removed, added = self._replace(
            source, hashlib.sha256(text.encode()).hexdigest(), len(text.encode()), origin, chunks, vectors
        )
        self._apply(removed, [i for i, _ in added], vectors[[pos for _, pos in added]])
        return len(added)

    def forget(self, document: str) -> int:
        """Remove a document (its path as ingested, or as given) and its vectors."""
        key = document if self.store.document(document) else str(Path(document).expanduser().resolve())
        self._before_change()
        with write_transaction(self.agent.db):
            self.snapshots.keep(key)
            removed = self.store.delete_document(key)
        if removed is None:
            raise InputError(f"no document {document!r} in the knowledge base; list them with 'lifelong documents'")
        self._apply(removed, [], np.zeros((0, self.agent.embedder.dim), np.float32))
        return len(removed)

    def documents(self) -> list[dict]:
        return self.store.documents()

    def _replace(self, path, sha256, size, origin, chunks, vectors):
        with write_transaction(self.agent.db):
            self.snapshots.keep(path, replacing_with=sha256)
            return self.store.replace_document(path, sha256, size, origin, chunks, vectors)

    def purge(self, documents: list[str]) -> None:
        self.snapshots.drop(documents)
        self.store.purge()

    # --- knowledge snapshots (snapshots.py) ------------------------------------------------------

    def snapshot(self) -> str:
        return self.snapshots.take()

    def restore(self, snapshot: str) -> dict:
        wanted = self.snapshots.documents(snapshot)
        if wanted is None:
            raise InputError(f"no knowledge snapshot {snapshot!r}")
        stored = {d["path"]: d["sha256"] for d in self.store.documents()}
        missing = sorted(p for p, sha in wanted.items() if stored.get(p) != sha and not self.snapshots.archived(p, sha))
        removed = sorted(p for p in stored if p not in wanted)
        restored = sorted(p for p, sha in wanted.items() if stored.get(p) != sha and p not in missing)
        for path in removed:
            self.forget(path)
        dim = self.agent.embedder.dim
        for path in restored:
            origin, size, chunks, vectors = self.snapshots.archive(path, wanted[path], dim)
            self._before_change()
            removed_ids, added = self._replace(path, wanted[path], size, origin, chunks, vectors)
            self._apply(removed_ids, [i for i, _ in added], vectors[[pos for _, pos in added]])
        return {"removed": removed, "restored": restored, "missing": missing}

    def is_empty(self) -> bool:
        return self.store.fingerprint()[0] == 0

    def _prepare(self, path: Path, report: IngestReport) -> _Pending | None:
        name = str(path)
        try:
            check_text(name, "the file name", fix="rename the file")
            special = not_a_regular_file(path)
            if special:
                raise UnreadableFile(special)
            size = path.stat().st_size
            if size > self.options.max_file_mb * 1024 * 1024:
                raise UnreadableFile(
                    f"{size / 1024 / 1024:.0f} MB is over the {self.options.max_file_mb:g} MB limit "
                    "(plugins.retrieval.max_file_mb); split the file or raise the limit"
                )
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            existing = self.store.document(name)
            if existing and existing["sha256"] == digest:
                report.unchanged.append(name)
                return None
            text = check_text(read_text(path, data, self.options.json_text_field, self.options.csv_column), "its text",
                              fix="fix the file (a lone surrogate such as \\ud800 in JSON is not text)")
            if not text.strip():
                raise UnreadableFile("empty: no text to index")
            return _Pending(name, digest, size, self.chunker.split(text), "file", existing is not None)
        except (UnreadableFile, InputError) as exc:
            report.skipped.append((printable(name), str(exc)))
        except OSError as exc:
            report.skipped.append((printable(name), exc.strerror or str(exc)))
        return None

    def _encode(self, texts: list[str], progress) -> np.ndarray:
        embedder = self.agent.embedder
        if not texts:
            return np.zeros((0, embedder.dim), np.float32)
        task = progress.add_task("embedding chunks", total=len(texts)) if progress else None
        parts = []
        for start in range(0, len(texts), ENCODE_SLICE):
            parts.append(embedder.encode(texts[start : start + ENCODE_SLICE]))
            if progress:
                progress.advance(task, len(parts[-1]))
        return np.concatenate(parts)

    # --- search --------------------------------------------------------------------------------

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        if not isinstance(query, str) or not check_text(query, "the search query").strip():
            raise InputError("the search query is empty")
        if k is not None and k < 1:
            raise InputError(f"k must be at least 1, got {k}")
        k = min(k or self.agent.config.retrieval.top_k, MAX_HITS)
        mode = mode or self.options.mode
        if mode not in ("dense", "keyword", "hybrid"):
            raise InputError(f"unknown search mode {mode!r}; use dense, keyword or hybrid")
        depth = k if mode != "hybrid" else max(4 * k, 20)
        dense = self._dense(query, depth) if mode != "keyword" else []
        keyword = self.store.keyword_search(query, depth) if mode != "dense" else []
        if mode == "hybrid":
            fused: dict[int, float] = {}
            for ranking in (dense, keyword):
                for rank, (chunk_id, _) in enumerate(ranking):
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
            ranked = sorted(fused.items(), key=lambda item: -item[1])[:k]
        else:
            ranked = (dense or keyword)[:k]
        rows = self.store.chunks_by_id([chunk_id for chunk_id, _ in ranked])
        return [
            Hit(chunk_id, rows[chunk_id]["document"], rows[chunk_id]["position"], float(score), rows[chunk_id]["text"])
            for chunk_id, score in ranked
            if chunk_id in rows
        ]

    def _dense(self, query: str, k: int) -> list[tuple[int, float]]:
        vector = self.agent.embedder.encode([query])
        if self.pgvector is not None:
            return self.pgvector.search(vector[0], k)
        scores, ids = self.index.search(vector, k)
        return [(int(i), float(s)) for s, i in zip(scores[0], ids[0]) if i >= 0]


def _expand(paths, report: IngestReport, follow_links: bool):
    for raw in paths:
        try:
            path = Path(raw).expanduser().resolve()
        except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
            report.skipped.append((printable(str(raw)), f"cannot resolve the path: {exc}"))
            continue
        if path.is_dir():
            yield from _files_under(path, report, follow_links)
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED:
                yield path
            else:
                report.skipped.append((printable(str(path)), f"unsupported type {path.suffix or '(none)'}; supported: {' '.join(SUPPORTED)}"))
        else:
            report.skipped.append((printable(str(raw)), "no such file or directory"))


def _files_under(folder: Path, report: IngestReport, follow_links: bool):
    """Supported files below ``folder``; symbolic links to folders are not followed, so a link
    loop cannot make the walk endless, and a link to a file outside ``folder`` is skipped unless
    ``follow_links``."""
    found = []
    for root, _, names in os.walk(folder):
        found.extend(Path(root) / n for n in names if Path(n).suffix.lower() in SUPPORTED)
    for path in sorted(found):
        if path.is_symlink() and not follow_links:
            try:
                target = path.resolve()
            except (OSError, RuntimeError):
                report.skipped.append((printable(str(path)), "a symbolic link that cannot be resolved"))
                continue
            if not target.is_relative_to(folder):
                report.skipped.append((printable(str(path)), f"a link to {printable(str(target))}, outside the folder "
                                       "given; ingest that file itself, or pass --follow-links"))
                continue
        yield path

"""DocumentStore: documents and their chunks, with keyword search by SQLite's FTS5 or
PostgreSQL's full-text search."""

from __future__ import annotations

import hashlib
import re

import numpy as np
import sqlite_utils

from lifelong.api import dialect, serialize, utcnow, write_transaction

from .pgvector_index import COLUMN as VECTOR_COLUMN

# Left out of keyword queries: they match nearly every chunk and drown the BM25 ranking.
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i in is it me my of on or our "
    "that the their there this to was we what when where which who why will with you your".split()
)
# Writers of documents take turns (SQLite's writers always do): two replicas storing one new
# file, or two files sharing a chunk, at once would otherwise both insert it.
_DOCUMENTS = "lifelong:documents"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DocumentStore:
    def __init__(self, db: sqlite_utils.Database, vectors_in_sql: bool = False):
        """``vectors_in_sql``: also write each embedding to pgvector's column (PgvectorIndex.open
        made it), in the transaction that stores its chunk."""
        self.db = db
        self.vectors_in_sql = vectors_in_sql

    def document(self, path: str) -> dict | None:
        rows = list(self.db["documents"].rows_where("path = ?", [path]))
        return rows[0] if rows else None

    def documents(self) -> list[dict]:
        sql = """select d.id, d.path, d.origin, d.size, d.sha256, d.ingested_at, count(c.id) as chunks
                 from documents d left join chunks c on c.document_id = d.id
                 group by d.id order by d.id"""
        return [dict(r) for r in self.db.query(sql)]

    def replace_document(
        self, path: str, sha256: str, size: int, origin: str, chunks: list[str], vectors: np.ndarray
    ) -> tuple[list[int], list[int]]:
        """Store a document's chunks in one transaction, replacing an earlier version.
        Chunks whose text is already stored (in any document) are kept once. The same version
        stored meanwhile (by another replica) is left as it is.
        Returns (removed chunk ids, [(added chunk id, index into ``chunks``)])."""
        with write_transaction(self.db):
            serialize(self.db, _DOCUMENTS)
            existing = self.document(path)
            if existing and existing["sha256"] == sha256:
                return [], []
            removed = []
            if existing:
                removed = self._delete_chunks(existing["id"])
                self.db["documents"].update(existing["id"], {"sha256": sha256, "size": size, "ingested_at": utcnow()})
                doc_id = existing["id"]
            else:
                doc_id = self.db["documents"].insert(
                    {"path": path, "sha256": sha256, "size": size, "ingested_at": utcnow(), "origin": origin}
                ).last_pk
            added = []
            seen = set()
            for position, (text, vector) in enumerate(zip(chunks, vectors)):
                digest = sha256_text(text)
                if digest in seen or self.db.execute("select 1 from chunks where sha256 = ?", [digest]).fetchone():
                    continue
                seen.add(digest)
                vector = np.asarray(vector, dtype="<f4")
                row = {"document_id": doc_id, "position": position, "text": text, "sha256": digest,
                       "embedding": vector.tobytes()}
                if self.vectors_in_sql:
                    row[VECTOR_COLUMN] = vector
                added.append((self.db["chunks"].insert(row).last_pk, position))
            return removed, added

    def delete_document(self, path: str) -> list[int] | None:
        """Remove a document and its chunks; returns the removed chunk ids, None if unknown."""
        with write_transaction(self.db):
            serialize(self.db, _DOCUMENTS)
            existing = self.document(path)
            if existing is None:
                return None
            removed = self._delete_chunks(existing["id"])
            self.db["documents"].delete(existing["id"])
            return removed

    def _delete_chunks(self, doc_id: int) -> list[int]:
        ids = [r[0] for r in self.db.execute("select id from chunks where document_id = ?", [doc_id])]
        self.db.execute("delete from chunks where document_id = ?", [doc_id])
        return ids

    def purge(self) -> None:
        """Drop what deleted chunks left in the keyword index: SQLite's FTS5 keeps their words
        until its segments merge. PostgreSQL keeps the words in the chunk's own row."""
        if dialect(self.db) != "postgresql":
            with write_transaction(self.db):
                self.db.execute("insert into chunks_fts(chunks_fts) values('optimize')")

    def fingerprint(self) -> list:
        """Changes whenever chunks are added or removed; saved with the vector index."""
        # The casts: PostgreSQL sums bigints as numeric, which JSON cannot hold.
        row = self.db.execute("select count(*), cast(coalesce(sum(id), 0) as bigint), coalesce(max(id), 0) from chunks").fetchone()
        return list(row)

    def all_vectors(self, dim: int) -> tuple[np.ndarray, np.ndarray]:
        ids, blobs = [], []
        for chunk_id, blob in self.db.execute("select id, embedding from chunks order by id"):
            ids.append(chunk_id)
            blobs.append(blob)
        vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dim) if ids else np.zeros((0, dim), np.float32)
        return np.asarray(ids, dtype=np.int64), vectors

    def chunks_by_id(self, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"""select c.id, c.text, c.position, d.path as document from chunks c
                  join documents d on d.id = c.document_id where c.id in ({marks})"""
        return {row["id"]: dict(row) for row in self.db.query(sql, ids)}

    def keyword_search(self, query: str, k: int) -> list[tuple[int, float]]:
        """(chunk id, score, higher is better: BM25 on SQLite, ts_rank_cd on PostgreSQL) for any
        of the query's words."""
        terms = [t for t in re.findall(r"\w+", query.lower()) if t not in STOPWORDS]
        if not terms:
            return []
        if dialect(self.db) == "postgresql":
            # websearch syntax never fails to parse, whatever the words; "or" joins them.
            sql = """select id, ts_rank_cd(words, q) as score from chunks, websearch_to_tsquery('english', ?) q
                     where words @@ q order by score desc, id limit ?"""
            return [(row[0], float(row[1])) for row in self.db.execute(sql, [" or ".join(dict.fromkeys(terms)), k])]
        match = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms))
        sql = """select rowid, rank from chunks_fts where chunks_fts match ? order by rank limit ?"""
        return [(row[0], -row[1]) for row in self.db.execute(sql, [match, k])]

"""PgvectorIndex: dense search in PostgreSQL with pgvector, where the server has the extension.

Each chunk's embedding is also kept in a ``vector`` column with an HNSW index on inner product:
the vectors are L2-normalised, as for FAISS, so both rank by the same cosine similarity. Every
replica then searches the shared chunks in SQL instead of rebuilding a FAISS copy of them.

The column is as wide as the embedder's vectors, known only once the embedder loads, so it is
made here, under an advisory lock, rather than by a migration; chunks stored without it (copied
from SQLite by ``lifelong memory migrate``) get it from their stored bytes. The bytes stay the
record: without the extension, FAISS is built from them as before."""

from __future__ import annotations

import logging

import numpy as np

from lifelong.api import StorageError, dialect, serialize, write_transaction

log = logging.getLogger("lifelong")

COLUMN = "embedding_vector"
# Candidates HNSW keeps while walking its graph (pgvector's default is 40): recall@10 against
# exact search is measured by benchmarks/memory.py. Iterative scans go on past it when a search
# asks for more hits than that, still in order of similarity.
EF_SEARCH = 100
FILL_BATCH = 1000
BUILD_MEMORY = "512MB"


class PgvectorIndex:
    def __init__(self, db):
        self.db = db

    @classmethod
    def open(cls, db, dim: int) -> "PgvectorIndex | None":
        """The index over ``db``'s chunks, made ready for ``dim``-wide vectors; None when ``db``
        is not PostgreSQL or pgvector cannot be used there (then FAISS searches)."""
        if dialect(db) != "postgresql" or not _extension_ready(db):
            return None
        with write_transaction(db):
            serialize(db, "lifelong:pgvector")  # replicas starting at once: one adds the column
            width = db.execute("select format_type(atttypid, atttypmod) from pg_attribute where attrelid = "
                               "'chunks'::regclass and attname = ? and not attisdropped", [COLUMN]).fetchone()
            if width is None:
                db.execute(f"alter table chunks add column {COLUMN} vector({int(dim)})")
                _fill(db)  # before the index: building it over all rows at once is faster than row by row
                # The graph of 100k 384-wide vectors takes ~200 MB; past the memory allowed
                # (64 MB by default) the build goes on disk, many times slower. For this once.
                db.execute(f"set local maintenance_work_mem = '{BUILD_MEMORY}'")
                db.execute(f"create index chunks_{COLUMN}_hnsw on chunks using hnsw ({COLUMN} vector_ip_ops)")
                # Finds the chunks still to fill at once, however many are filled.
                db.execute(f"create index chunks_{COLUMN}_missing on chunks (id) where {COLUMN} is null")
            elif width[0] != f"vector({dim})":
                raise StorageError(f"the database's chunks hold {width[0]} embeddings and the "
                                   f"embedder makes {dim}-wide ones; use the embedder they were made with, or "
                                   "ingest into a new database")
            else:
                _fill(db)
        return cls(db)

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """(chunk id, inner product), best first, for one L2-normalised query vector."""
        vector = np.asarray(query, dtype=np.float32).ravel()
        # <#> is the negated inner product: ascending order is the most similar first.
        sql = f"""select id, -({COLUMN} <#> ?) from chunks where {COLUMN} is not null
                  order by {COLUMN} <#> ? limit ?"""
        return [(row[0], float(row[1])) for row in self.db.execute(sql, [vector, vector, k])]


def _extension_ready(db) -> bool:
    """Create the extension where the server has it and this user may; then pass numpy arrays
    as vectors on this connection and any made after it."""
    import psycopg

    if not db.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone():
        return False
    try:
        import pgvector.psycopg  # noqa: F401 - the adapter _session registers
    except ImportError:
        log.warning("the PostgreSQL server has pgvector but the pgvector package is not installed: "
                    "dense search uses FAISS (pip install 'lifelong[postgres]')")
        return False
    try:
        with write_transaction(db):
            serialize(db, "lifelong:pgvector")
            db.execute("create extension if not exists vector")
    except psycopg.errors.InsufficientPrivilege:
        log.warning("the PostgreSQL user may not create the extension vector: dense search uses FAISS "
                    "(a superuser can run 'create extension vector' in the database once)")
        return False
    db.add_connection_setup(_session)
    return True


def _session(conn) -> None:
    from pgvector.psycopg import register_vector

    register_vector(conn)
    conn.execute(f"set hnsw.ef_search = {EF_SEARCH}")
    conn.execute("set hnsw.iterative_scan = strict_order")


def _fill(db) -> None:
    """Copy into the vector column the embeddings of chunks stored without it."""
    while True:
        rows = db.execute(f"select id, embedding from chunks where {COLUMN} is null and embedding is not null "
                          f"order by id limit {FILL_BATCH}").fetchall()
        if not rows:
            return
        db.executemany(f"update chunks set {COLUMN} = ? where id = ?",
                       [(np.frombuffer(blob, dtype="<f4"), chunk_id) for chunk_id, blob in rows])

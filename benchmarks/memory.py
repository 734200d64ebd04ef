"""Memory benchmark: SQLite (the workspace file) against PostgreSQL (a local server started
here, fsync on as SQLite's is), side by side in one process.

(1) logging: interactions logged per second and the latency of each (p50, p99), by one
    writer, then by several processes at once (what replicas do to a shared memory).
(2) search at N chunks (stored in SQLite, copied into PostgreSQL as `lifelong memory migrate`
    copies them): keyword search (SQLite FTS5 against PostgreSQL full-text search), and
    dense search by pgvector's HNSW index in SQL against each replica's exact FAISS index built
    from the stored embeddings (its latency, and pgvector's recall@10 against it). The vectors
    are random unit vectors, the hard case for HNSW (real embeddings cluster). pgvector is
    measured where the server has the extension (make postgres builds it).
(3) dense search again, pgvector against exact FAISS, on clustered vectors.

Run: .venv/bin/python benchmarks/memory.py [--interactions 2000] [--chunks 100000] [--writers 4]
Needs the PostgreSQL server binaries (make postgres) and psycopg (pip install .[postgres]).
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong.memory import InteractionLog, open_database  # noqa: E402
from lifelong.plugins.retrieval.documents import DocumentStore  # noqa: E402
from lifelong.plugins.retrieval.pgvector_index import EF_SEARCH, PgvectorIndex  # noqa: E402
from lifelong.memory.transfer import copy_to_postgres  # noqa: E402
from lifelong.plugins.retrieval.vector_index import VectorIndex  # noqa: E402
from lifelong.plugins.retrieval import schema  # noqa: E402
from lifelong.testing.postgres_server import TemporaryServer, unavailable  # noqa: E402

RETRIEVER = {"retrieval": schema.MIGRATIONS}
DIM = 384  # all-MiniLM-L6-v2's


def percentile(values, q):
    return float(np.percentile(values, q))


def log_many(location, n: int, worker: int = 0) -> list[float]:
    log = InteractionLog(open_database(location))
    latencies = []
    for i in range(n):
        start = time.perf_counter()
        log.log_interaction(task="chat", input=f"question {worker}-{i} about the refund policy", output="an answer " * 20,
                            sources=[{"chunk_id": i, "document": "/kb/refunds.md", "score": 0.5}], latency_ms=12.5)
        latencies.append(time.perf_counter() - start)
    log.db.conn.close()
    return latencies


def _writer(args):
    location, n, worker = args
    return log_many(location, n, worker)


def logging(locations: dict, n: int, writers: int) -> None:
    print(f"\n(1) logging interactions: {n} by one writer, then {n} each by {writers} processes at once")
    print(f"    {'backend':<12}{'1 writer/s':>12}{'p50 ms':>9}{'p99 ms':>9}{f'{writers} writers/s':>15}{'p50 ms':>9}{'p99 ms':>9}")
    figures = {}
    for name, location in locations.items():
        open_database(location).conn.close()  # migrations outside the timing
        start = time.perf_counter()
        one = log_many(location, n)
        one_rate = n / (time.perf_counter() - start)
        with multiprocessing.get_context("spawn").Pool(writers) as pool:
            start = time.perf_counter()
            many = [x for part in pool.map(_writer, [(location, n, w + 1) for w in range(writers)]) for x in part]
            many_rate = writers * n / (time.perf_counter() - start)
        figures[name] = (one_rate, many_rate)
        print(f"    {name:<12}{one_rate:12.0f}{percentile(one, 50) * 1e3:9.2f}{percentile(one, 99) * 1e3:9.2f}"
              f"{many_rate:15.0f}{percentile(many, 50) * 1e3:9.2f}{percentile(many, 99) * 1e3:9.2f}")
    (s1, sm), (p1, pm) = figures["sqlite"], figures["postgresql"]
    print(f"    ratio postgresql/sqlite: one writer {p1 / s1:.2f}, {writers} writers {pm / sm:.2f}")


def corpus(n_chunks: int, rng) -> tuple[list[str], np.ndarray, list[str]]:
    vocabulary = [f"w{i}" for i in range(20_000)]
    weights = 1 / np.arange(1, len(vocabulary) + 1)  # Zipf-like, as words in text are
    weights /= weights.sum()
    words = rng.choice(len(vocabulary), size=(n_chunks, 40), p=weights)
    texts = [f"chunk {i} " + " ".join(vocabulary[w] for w in row) for i, row in enumerate(words)]
    vectors = rng.normal(size=(n_chunks, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = [" ".join(vocabulary[w] for w in rng.choice(2_000, size=3)) for _ in range(200)]
    return texts, vectors, queries


def timed(function, items) -> list[float]:
    latencies = []
    for item in items:
        start = time.perf_counter()
        function(item)
        latencies.append(time.perf_counter() - start)
    return latencies


def timed_keyword(store, queries) -> list[float]:
    for query in queries[:10]:  # warm the caches
        store.keyword_search(query, 10)
    return timed(lambda q: store.keyword_search(q, 10), queries)


def search(locations: dict, n_chunks: int) -> None:
    rng = np.random.default_rng(0)
    texts, vectors, queries = corpus(n_chunks, rng)
    per_document = 1000
    print(f"\n(2) search at {n_chunks} chunks ({DIM}-d embeddings), {len(queries)} queries; median and p99 ms")
    query_vectors = rng.normal(size=(len(queries), DIM)).astype(np.float32)
    query_vectors /= np.linalg.norm(query_vectors, axis=1, keepdims=True)
    keyword = {}
    store = DocumentStore(open_database(locations["sqlite"], RETRIEVER))
    start = time.perf_counter()
    for d in range(0, n_chunks, per_document):
        store.replace_document(f"/kb/doc{d}.md", str(d), 1, "file", texts[d:d + per_document], vectors[d:d + per_document])
    print(f"    stored with replace_document (sqlite): {n_chunks / (time.perf_counter() - start):.0f} chunks/s", flush=True)
    keyword["sqlite"] = timed_keyword(store, queries)
    store.db.conn.close()
    # PostgreSQL gets the same chunks as `lifelong memory migrate` copies them; then, as on a
    # replica's first search, the vector column filled from the stored embeddings and the HNSW
    # index built over all of them at once.
    start = time.perf_counter()
    copy_to_postgres(Path(locations["sqlite"]), locations["postgresql"], RETRIEVER)
    print(f"    copied into PostgreSQL (lifelong memory migrate) in {time.perf_counter() - start:.0f} s", flush=True)
    store = DocumentStore(open_database(locations["postgresql"], RETRIEVER))
    start = time.perf_counter()
    pgvector = PgvectorIndex.open(store.db, DIM)
    if pgvector is not None:
        print(f"    pgvector column filled and HNSW index built in {time.perf_counter() - start:.0f} s", flush=True)
    store.db.execute("analyze")
    keyword["postgresql"] = timed_keyword(store, queries)
    ids, stored_vectors = store.all_vectors(DIM)
    if pgvector is not None:
        for vector in query_vectors[:10]:  # warm the caches
            pgvector.search(vector, 10)
        in_sql = [pgvector.search(vector, 10) for vector in query_vectors]
        sql_latency = timed(lambda v: pgvector.search(v, 10), query_vectors)
    store.db.conn.close()
    for name, latencies in keyword.items():
        engine = "FTS5" if name == "sqlite" else "full-text search"
        print(f"    keyword, {name} {engine:<18}: {statistics.median(latencies) * 1e3:8.2f} {percentile(latencies, 99) * 1e3:8.2f}")
    s, p = statistics.median(keyword["sqlite"]), statistics.median(keyword["postgresql"])
    print(f"    ratio postgresql/sqlite (medians): {p / s:.2f}")
    start = time.perf_counter()
    index = VectorIndex(DIM)
    index.build(ids, stored_vectors)
    built = time.perf_counter() - start
    dense = timed(lambda v: index.search(v, 10), query_vectors)
    print(f"    dense, FAISS exact, built from PostgreSQL's embeddings in {built:.1f} s: "
          f"{statistics.median(dense) * 1e3:8.2f} {percentile(dense, 99) * 1e3:8.2f}")
    if pgvector is None:
        print("    dense, pgvector: not measured; the server has no pgvector extension (make postgres builds it)")
        return
    print(f"    dense, pgvector HNSW (m 16, ef_construction 64, ef_search {EF_SEARCH}):      "
          f"{statistics.median(sql_latency) * 1e3:8.2f} {percentile(sql_latency, 99) * 1e3:8.2f}")
    print(f"    ratio pgvector/FAISS (medians): {statistics.median(sql_latency) / statistics.median(dense):.2f}")
    exact = [set(found[found >= 0].tolist()) for found in index.search(query_vectors, 10)[1]]
    recall = np.mean([len(exact[i] & {chunk_id for chunk_id, _ in hits}) / 10 for i, hits in enumerate(in_sql)])
    print(f"    recall@10 of pgvector HNSW against exact FAISS, random unit vectors: {recall:.3f}")


def dense_clustered(url: str, n_chunks: int) -> None:
    """pgvector against exact FAISS on clustered vectors, nearer to real embeddings than random
    ones: queries drawn from the same clusters. The chunks are loaded by COPY (no text to search)."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(1000, DIM))
    data = centres[rng.integers(0, len(centres), n_chunks + 200)] + rng.normal(size=(n_chunks + 200, DIM))
    data = (data / np.linalg.norm(data, axis=1, keepdims=True)).astype(np.float32)
    vectors, queries = data[:n_chunks], data[n_chunks:]
    db = open_database(url, RETRIEVER)
    db.execute("insert into documents (path, sha256) values ('/kb/clustered.md', 'x')")
    with db.conn.cursor().copy("copy chunks (document_id, position, text, sha256, embedding) from stdin") as copy:
        for i, vector in enumerate(vectors):
            copy.write_row((1, i, f"chunk {i}", f"sha {i}", vector.tobytes()))
    start = time.perf_counter()
    pgvector = PgvectorIndex.open(db, DIM)
    if pgvector is None:
        return
    print(f"\n(3) dense search at {n_chunks} clustered vectors (1000 centres, unit noise per dimension), "
          f"{len(queries)} queries from the same clusters; median and p99 ms")
    print(f"    pgvector column filled and HNSW index built in {time.perf_counter() - start:.0f} s")
    db.execute("analyze")
    index = VectorIndex(DIM)
    index.build(*DocumentStore(db).all_vectors(DIM))
    for vector in queries[:10]:
        pgvector.search(vector, 10)
    in_sql = [pgvector.search(vector, 10) for vector in queries]
    faiss_latency = timed(lambda v: index.search(v, 10), queries)
    sql_latency = timed(lambda v: pgvector.search(v, 10), queries)
    print(f"    dense, FAISS exact: {statistics.median(faiss_latency) * 1e3:8.2f} {percentile(faiss_latency, 99) * 1e3:8.2f}")
    print(f"    dense, pgvector HNSW (ef_search {EF_SEARCH}): {statistics.median(sql_latency) * 1e3:8.2f} "
          f"{percentile(sql_latency, 99) * 1e3:8.2f}")
    print(f"    ratio pgvector/FAISS (medians): {statistics.median(sql_latency) / statistics.median(faiss_latency):.2f}")
    exact = [set(found[found >= 0].tolist()) for found in index.search(queries, 10)[1]]
    recall = np.mean([len(exact[i] & {chunk_id for chunk_id, _ in hits}) / 10 for i, hits in enumerate(in_sql)])
    print(f"    recall@10 of pgvector HNSW against exact FAISS, clustered vectors: {recall:.3f}")
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--chunks", type=int, default=100_000)
    args = parser.parse_args()
    why = unavailable()
    if why:
        sys.exit(f"cannot benchmark PostgreSQL: {why}")
    with TemporaryServer(durable=True) as server, tempfile.TemporaryDirectory() as tmp:
        logging({"sqlite": str(Path(tmp) / "log.db"), "postgresql": server.create_database("log")},
                args.interactions, args.writers)
        search({"sqlite": str(Path(tmp) / "search.db"), "postgresql": server.create_database("search")}, args.chunks)
        dense_clustered(server.create_database("clustered"), args.chunks)


if __name__ == "__main__":
    main()

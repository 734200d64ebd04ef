"""Retrieval benchmark: ingest overhead, vector-search speed and recall, retrieval quality.

Run: .venv/bin/python benchmarks/retrieval.py [--sizes 100000 1000000] [--quick]
Every figure is printed next to the baseline it is compared with, measured in this process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402
from lifelong.plugins.retrieval.vector_index import VectorIndex  # noqa: E402

CLINC = ROOT.parent / "shared" / "data" / "clinc150" / "data_full.json"


def ingest_overhead(workdir: Path, n_docs: int) -> None:
    """(1) chunks/s of Agent.ingest against SentenceTransformer.encode on the same chunk texts."""
    if CLINC.exists():
        lines = [row[0] for row in json.loads(CLINC.read_text())["train"]]
    else:
        lines = (ROOT / "docs" / "plugins.md").read_text().splitlines() * 50
    docs = workdir / "corpus"
    docs.mkdir()
    per_doc = 12
    for i in range(n_docs):
        (docs / f"doc{i:05d}.txt").write_text("\n".join(lines[i * per_doc : (i + 1) * per_doc]))
    agent = Agent.open(workdir / "ws")
    agent.embedder.encode(["warm-up"])
    chunk_texts = [agent.retriever.splitter.split_text((docs / f"doc{i:05d}.txt").read_text()) for i in range(n_docs)]
    texts = [t for chunks in chunk_texts for t in chunks]
    model = agent.embedder.model
    runs_raw, runs_ingest = [], []
    for repeat in range(3):
        start = time.perf_counter()
        model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        runs_raw.append(time.perf_counter() - start)
        agent._db.execute("delete from chunks")
        agent._db.execute("delete from documents")
        start = time.perf_counter()
        report = agent.ingest([docs])
        runs_ingest.append(time.perf_counter() - start)
        assert report.ok and report.chunks == len(set(texts)), (report.chunks, len(texts))
    raw, ingest = statistics.median(runs_raw), statistics.median(runs_ingest)
    print(f"\n(1) ingest of {n_docs} files, {len(texts)} chunks (median of 3)")
    print(f"    SentenceTransformer.encode : {len(texts) / raw:8.1f} chunks/s  (baseline)")
    print(f"    Agent.ingest (read, split, embed, SQLite, FAISS, save): {len(texts) / ingest:8.1f} chunks/s")
    print(f"    overhead ratio ingest/encode: {ingest / raw:.2f}  (target <= 1.10)")
    agent.close()


def clustered(n: int, dim: int, rng, centers) -> np.ndarray:
    # Noise as large as the centres: clusters overlap, so neighbours spill across IVF lists.
    x = centers[rng.integers(0, len(centers), n)] + 1.0 * rng.standard_normal((n, dim), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def search_speed(sizes: list[int], dim: int = 384, queries: int = 200) -> None:
    """(2) exact vs approximate (IVF) index: latency p50/p99 one query at a time, QPS, recall@10."""
    print(f"\n(2) vector search, {dim}-d synthetic clustered vectors, k=10, one query at a time")
    print(f"    {'vectors':>9} {'index':>6} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'QPS':>8} {'recall@10':>10} {'QPS ratio':>10}")
    rng = np.random.default_rng(0)
    for n in sizes:
        centers = rng.standard_normal((2000, dim), dtype=np.float32)
        data = clustered(n, dim, rng, centers)
        qs = clustered(queries, dim, rng, centers)
        ids = np.arange(n, dtype=np.int64)
        results = {}
        for name, threshold in (("exact", n + 1), ("ivf", 1)):
            index = VectorIndex(dim, approximate_above=threshold)
            start = time.perf_counter()
            index.build(ids, data)
            build = time.perf_counter() - start
            index.search(qs[:5], 10)
            latencies, found = [], []
            for q in qs:
                t0 = time.perf_counter()
                _, got = index.search(q, 10)
                latencies.append(time.perf_counter() - t0)
                found.append(got[0])
            results[name] = (build, latencies, found)
            del index
        truth = results["exact"][2]
        exact_qps = len(qs) / sum(results["exact"][1])
        for name, (build, latencies, found) in results.items():
            recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
            qps = len(qs) / sum(latencies)
            p50, p99 = np.percentile(latencies, 50) * 1000, np.percentile(latencies, 99) * 1000
            print(f"    {n:>9} {name:>6} {build:8.1f} {p50:8.2f} {p99:8.2f} {qps:8.0f} {recall:10.3f} {qps / exact_qps:9.1f}x")
        del data


def quality(workdir: Path) -> None:
    """(3) hit@1, hit@5, MRR on a labelled set of questions over real documents."""
    agent = Agent.open(workdir / "qa")
    report = agent.ingest([ROOT / "examples" / "customer_support" / "docs", ROOT / "docs" / "plugins.md"])
    assert report.ok, report.skipped
    rows = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "retrieval_qa.jsonl").read_text().splitlines()]
    print(f"\n(3) retrieval quality: {len(rows)} questions over {len(report.added)} documents, {report.chunks} chunks")
    print(f"    {'mode':>8} {'hit@1':>6} {'hit@5':>6} {'MRR':>6}")
    for mode in ("dense", "keyword", "hybrid"):
        ranks = []
        for row in rows:
            hits = agent.search(row["question"], k=5, mode=mode)
            rank = next((i + 1 for i, h in enumerate(hits) if row["answer"] in h.text), None)
            ranks.append(rank)
        hit1 = np.mean([r == 1 for r in ranks])
        hit5 = np.mean([r is not None for r in ranks])
        mrr = np.mean([1 / r if r else 0 for r in ranks])
        print(f"    {mode:>8} {hit1:6.2f} {hit5:6.2f} {mrr:6.3f}")
    agent.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.docs = [20_000], 40
    with tempfile.TemporaryDirectory() as tmp:
        ingest_overhead(Path(tmp), args.docs)
        quality(Path(tmp))
    search_speed(args.sizes)


if __name__ == "__main__":
    main()

import json
import logging

import numpy as np
import pytest
from typer.testing import CliRunner

from lifelong import Agent, InputError
from lifelong.cli import build_app
from lifelong.plugins.retrieval.vector_index import VectorIndex
from pdfs import minimal_pdf


def _open(request, workspace, url_fixture: str | None):
    if url_fixture:
        config = workspace / "lifelong.toml"
        config.write_text(config.read_text() + f'\n[memory]\ndatabase = "{request.getfixturevalue(url_fixture)}"\n')
    return Agent.open(workspace)


@pytest.fixture(params=["sqlite", "postgresql", "pgvector"])
def agent(request, tiny_workspace):
    """The tiny agent with its memory in SQLite (keyword search by FTS5, dense by FAISS), in
    PostgreSQL (full-text search; FAISS over the stored embeddings), then in PostgreSQL with
    pgvector (dense search in SQL)."""
    urls = {"sqlite": None, "postgresql": "faiss_postgres_url", "pgvector": "pgvector_url"}
    with _open(request, tiny_workspace, urls[request.param]) as agent:
        yield agent


@pytest.fixture(params=["sqlite", "postgresql"])
def faiss_agent(request, tiny_workspace):
    """The agent where dense search is by FAISS, with its index file."""
    with _open(request, tiny_workspace, {"sqlite": None, "postgresql": "faiss_postgres_url"}[request.param]) as agent:
        yield agent


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "docs"
    (root / "sub").mkdir(parents=True)
    (root / "hours.txt").write_text("The shop opens at nine and closes at five on weekdays.")
    (root / "sub" / "refunds.md").write_text("# Refunds\n\nRefunds are accepted within thirty days.")
    (root / "shipping.html").write_text(
        "<html><head><script>var tracking = 1;</script></head><body><p>We ship parcels to Canada.</p></body></html>"
    )
    (root / "faq.jsonl").write_text('{"text": "Gift cards never expire."}\n{"other": 1}\n')
    (root / "team.json").write_text('[{"text": "Ada leads the support team."}]')
    (root / "prices.csv").write_text("text,id\nA widget costs twelve euros.,1\n")
    (root / "manual.pdf").write_bytes(minimal_pdf("The warranty lasts two years."))
    (root / "ignored.bin").write_bytes(b"\x00\x01")  # unsupported types inside folders are not reported
    return root


def test_ingest_every_supported_type_and_search(agent, corpus):
    report = agent.ingest([corpus])
    assert report.ok, report.skipped
    assert len(report.added) == 7 and report.chunks == 7
    expectations = {
        "closes weekdays": "hours.txt",
        "refunds thirty days": "refunds.md",
        "parcels Canada": "shipping.html",
        "gift cards expire": "faq.jsonl",
        "Ada support": "team.json",
        "widget euros": "prices.csv",
        "warranty years": "manual.pdf",
    }
    for query, document in expectations.items():
        for mode in ("keyword", "hybrid"):
            assert agent.search(query, k=1, mode=mode)[0].document.endswith(document), (query, mode)
    assert "tracking" not in " ".join(h.text for h in agent.search("var tracking", k=7, mode="keyword"))
    dense = agent.search("anything", k=3, mode="dense")
    assert len(dense) == 3 and dense[0].score >= dense[1].score >= dense[2].score


def test_reingest_is_incremental(agent, corpus):
    agent.ingest([corpus])
    again = agent.ingest([corpus])
    assert len(again.unchanged) == 7 and again.added == again.updated == []
    (corpus / "hours.txt").write_text("The shop now opens at ten.")
    changed = agent.ingest([corpus])
    assert changed.updated == [str(corpus / "hours.txt")] and len(changed.unchanged) == 6
    assert agent.search("nine five weekdays", k=1, mode="keyword") == []
    assert agent.search("shop opens ten", k=1, mode="keyword")[0].document.endswith("hours.txt")
    assert len(agent.search("anything", k=100, mode="dense")) == 7


def test_forget_removes_document_and_vectors(agent, corpus):
    agent.ingest([corpus])
    assert agent.forget(str(corpus / "hours.txt")) == 1
    assert len(agent.search("anything", k=100, mode="dense")) == 6
    assert all(not h.document.endswith("hours.txt") for h in agent.search("shop", k=10, mode="hybrid"))
    with pytest.raises(InputError, match="no document"):
        agent.forget(str(corpus / "hours.txt"))


def test_duplicate_chunks_stored_once(agent, tmp_path):
    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text("Exactly the same paragraph in two files.")
    report = agent.ingest([tmp_path / "a.txt", tmp_path / "b.txt"])
    assert report.chunks == 1
    assert agent._db["chunks"].count == 1


def test_added_text_is_searchable_at_once(agent):
    agent.retriever.add_text("The secret password of the club is swordfish.", "correction:1", origin="feedback")
    assert agent.search("club password", k=1, mode="hybrid")[0].document == "correction:1"


def test_bad_inputs_reported_others_ingested_nothing_lost(agent, corpus, tmp_path):
    agent.ingest([corpus / "hours.txt"])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "binary.txt").write_bytes(b"abc\x00def")
    (bad / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (bad / "empty.md").write_text("   \n")
    with open(bad / "huge.txt", "wb") as handle:  # 100 MB, sparse: never read
        handle.truncate(100 * 1024 * 1024)
    (bad / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (bad / "good.txt").write_text("Parking is free for customers.")
    (bad / "photo.png").write_bytes(b"\x89PNG")
    report = agent.ingest([bad, bad / "photo.png", tmp_path / "missing.txt"])
    reasons = {name.rsplit("/", 1)[-1]: reason for name, reason in report.skipped}
    assert "binary" in reasons["binary.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert "empty" in reasons["empty.md"]
    assert "MB" in reasons["huge.txt"] and "max_file_mb" in reasons["huge.txt"]
    assert "PDF" in reasons["broken.pdf"]
    assert "unsupported" in reasons["photo.png"]
    assert "no such file" in reasons["missing.txt"]
    assert report.added == [str(bad / "good.txt")]
    assert agent.search("shop opens", k=1, mode="keyword")[0].document.endswith("hours.txt")


def test_cli_ingest_exit_code_and_json(tiny_workspace, corpus, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(build_app(), ["-w", str(tiny_workspace), "ingest", str(corpus), "--json"])
    assert ok.exit_code == 0, ok.output
    assert len(json.loads(ok.output)["added"]) == 7
    bad = runner.invoke(build_app(), ["-w", str(tiny_workspace), "ingest", str(tmp_path / "nope")])
    assert bad.exit_code == 1 and "no such file" in bad.output
    found = runner.invoke(build_app(), ["-w", str(tiny_workspace), "search", "warranty", "--mode", "keyword", "--json"])
    assert json.loads(found.output)[0]["document"].endswith("manual.pdf")
    listed = runner.invoke(build_app(), ["-w", str(tiny_workspace), "documents", "--json"])
    assert len(json.loads(listed.output)) == 7
    empty = runner.invoke(build_app(), ["-w", str(tiny_workspace), "search", "  "])
    assert empty.exit_code == 1 and "empty" in empty.output


@pytest.mark.parametrize("damage", ["delete", "corrupt", "stale"])
def test_index_rebuilt_from_sqlite(faiss_agent, corpus, caplog, damage):
    agent = faiss_agent
    agent.ingest([corpus])
    path = agent.retriever.index_path
    if damage == "delete":
        path.unlink()
    elif damage == "corrupt":
        path.write_bytes(b"garbage")
    else:
        agent._db.execute("delete from chunks where id = (select max(id) from chunks)")
    agent.retriever._index = None  # as a fresh process would start
    with caplog.at_level(logging.WARNING, logger="lifelong"):
        hits = agent.search("anything", k=10, mode="dense")
    assert "rebuilding" in caplog.text
    assert len(hits) == (6 if damage == "stale" else 7)


def clustered(n, dim=32, centers=50, seed=0):
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centers, dim))
    x = c[rng.integers(0, centers, n)] + 0.3 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_vector_index_exact_and_ivf(tmp_path):
    data, queries = clustered(5000), clustered(50, seed=1)
    ids = np.arange(10, 5010)
    exact = VectorIndex(32, approximate_above=10_000)
    exact.build(ids, data)
    ivf = VectorIndex(32, approximate_above=1000, nprobe=16)
    ivf.build(ids, data)
    assert not exact.approximate and ivf.approximate
    _, truth = exact.search(queries, 10)
    _, got = ivf.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got)])
    assert recall >= 0.9
    ivf.remove(ids[:100])
    assert len(ivf) == 4900
    path = tmp_path / "i.faiss"
    ivf.save(path, [1, 2, 3])
    assert len(VectorIndex.load(path, 32, [1, 2, 3], 1000)) == 4900
    assert VectorIndex.load(path, 32, [1, 2, 4], 1000) is None
    assert VectorIndex.load(tmp_path / "none.faiss", 32, [1], 1000) is None

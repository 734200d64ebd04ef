"""Dense search in SQL with pgvector against each replica's FAISS index on PostgreSQL: the same
documents come first, every change to the chunks shows at once on every replica, and chunks
stored without their vector (a copy from SQLite) get it from their stored bytes."""

import numpy as np
import pytest

from lifelong import Agent
from lifelong.errors import StorageError
from lifelong.memory import open_database
from lifelong.plugins.retrieval.documents import DocumentStore
from lifelong.plugins.retrieval.pgvector_index import PgvectorIndex
from lifelong.plugins.retrieval import schema

DOCUMENTS = {
    "hours.txt": "The shop opens at nine and closes at five on weekdays.",
    "refunds.md": "Refunds are accepted within thirty days with a receipt.",
    "shipping.txt": "We ship parcels to Canada and Mexico by courier.",
    "giftcards.txt": "Gift cards never expire and can be topped up online.",
    "team.txt": "Ada leads the support team and answers the phone.",
    "prices.txt": "A widget costs twelve euros, a gadget twenty.",
    "warranty.txt": "The warranty lasts two years from the date of purchase.",
    "parking.txt": "Parking behind the shop is free for customers.",
}
QUERIES = ["when does the shop close", "refund receipt", "courier to Canada", "gift card expiry",
           "who answers the phone", "price of a widget", "warranty years", "free parking"]


def agent_on(workspace, url):
    workspace.mkdir()
    (workspace / "lifelong.toml").write_text(
        '[plugins]\nmodules = ["fakes"]\n\n[models]\ngenerator = "tiny-llm"\nembedder = "tiny-embedder"\n\n'
        f'[memory]\ndatabase = "{url}"\n')
    return Agent.open(workspace)


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text)
    return folder


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_pgvector_ranks_documents_as_faiss_does(tmp_path, corpus, pgvector_url, faiss_postgres_url, mode):
    with agent_on(tmp_path / "pgvector", pgvector_url) as in_sql, agent_on(tmp_path / "faiss", faiss_postgres_url) as faiss:
        for agent in (in_sql, faiss):
            agent.ingest([corpus])
        assert in_sql.retriever.pgvector is not None and faiss.retriever.pgvector is None
        for query in QUERIES:
            found = [[hit.document.rsplit("/", 1)[-1] for hit in agent.search(query, k=3, mode=mode)]
                     for agent in (in_sql, faiss)]
            assert found[0] == found[1], query
        if mode == "dense":
            scores = [[round(hit.score, 5) for hit in agent.search(QUERIES[0], k=8, mode="dense")] for agent in (in_sql, faiss)]
            assert scores[0] == scores[1]


def test_every_replica_sees_each_change_to_the_chunks_at_once(tmp_path, corpus, pgvector_url):
    with agent_on(tmp_path / "a", pgvector_url) as first, agent_on(tmp_path / "b", pgvector_url) as second:
        assert second.search("warranty years", k=3, mode="dense") == []
        first.ingest([corpus])

        def documents(query):
            return [hit.document.rsplit("/", 1)[-1] for hit in second.search(query, k=8, mode="dense")]

        assert sorted(documents("warranty years")) == sorted(DOCUMENTS)
        first.forget(str(corpus / "warranty.txt"))
        assert "warranty.txt" not in documents("warranty years") and len(documents("warranty years")) == 7
        (corpus / "parking.txt").write_text("Parking costs three euros an hour.")
        assert first.ingest([corpus]).updated == [str(corpus / "parking.txt")]
        assert [h.text for h in second.search("parking", k=8, mode="dense") if h.document.endswith("parking.txt")] == [
            "Parking costs three euros an hour."]
        assert not (tmp_path / "b" / "index" / "chunks.faiss").exists()  # no FAISS copy on pgvector


def test_chunks_stored_without_their_vector_get_it(pgvector_url):
    db = open_database(pgvector_url, {"retrieval": schema.MIGRATIONS})
    vectors = np.random.default_rng(0).normal(size=(3, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    # As `lifelong memory migrate` leaves them: embeddings as bytes only.
    _, added = DocumentStore(db).replace_document("/kb/a.md", "sha", 1, "file", ["one", "two", "three"], vectors)
    index = PgvectorIndex.open(db, 8)
    for (chunk_id, _), vector in zip(added, vectors):
        assert index.search(vector, 1)[0][0] == chunk_id
    with pytest.raises(StorageError, match=r"the database.s chunks hold vector\(8\) embeddings and the embedder makes 16-wide ones"):
        PgvectorIndex.open(db, 16)


"""The stores on both backends (the ``database`` fixture: SQLite, then a real PostgreSQL server),
and what only PostgreSQL has to get right: several processes and machines on one database."""

import threading

import numpy as np
import pytest

from lifelong.errors import ConfigError, InputError, NotFoundError, StorageError
from lifelong.memory import open_database, write_transaction
from lifelong.memory.db import exclusive
from lifelong.plugins.retrieval.documents import DocumentStore
from lifelong.memory.examples import ExampleStore
from lifelong.memory.versions import ModelVersions
from lifelong.plugins.buffers import ReservoirBuffer
from lifelong.plugins.retrieval import schema

RETRIEVER = {"retrieval": schema.MIGRATIONS}


def unit(rows: int, dim: int = 4, seed: int = 0) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_documents_chunks_and_keyword_search(database):
    store = DocumentStore(open_database(database, RETRIEVER))
    texts = ["Refunds are paid within 14 days.", "The office is in Oslo.", "Refunds need a receipt."]
    vectors = unit(3)
    removed, added = store.replace_document("/kb/a.md", "sha-a", 10, "file", texts, vectors)
    assert removed == [] and [position for _, position in added] == [0, 1, 2]
    ids = [chunk_id for chunk_id, _ in added]
    # A chunk whose text is stored already (in any document) is kept once.
    _, again = store.replace_document("/kb/b.md", "sha-b", 5, "file", ["The office is in Oslo."], unit(1, seed=1))
    assert again == []
    hits = [chunk_id for chunk_id, _ in store.keyword_search("how are refunds paid?", 5)]
    assert set(hits) == {ids[0], ids[2]} and hits[0] == ids[0]  # both words of the question: first
    assert store.keyword_search("the and of", 5) == []  # stopwords alone
    stored_ids, stored = store.all_vectors(4)
    assert stored_ids.tolist() == ids and np.array_equal(stored, vectors)
    assert store.chunks_by_id([ids[1]])[ids[1]]["document"] == "/kb/a.md"
    before = store.fingerprint()
    assert before == [3, sum(ids), max(ids)]
    assert [d["chunks"] for d in store.documents()] == [3, 0]
    assert sorted(store.delete_document("/kb/a.md")) == sorted(ids)
    assert store.fingerprint() != before and store.keyword_search("refunds", 5) == []
    assert store.delete_document("/kb/a.md") is None


def test_examples_replay_and_a_failed_write_leaves_nothing(database):
    db = open_database(database)
    examples = ExampleStore(db)
    with write_transaction(db):
        ids = [examples.add("t", f"q{i}", "label", "import", "train") for i in range(12)]
    with pytest.raises(RuntimeError):
        with write_transaction(db):
            examples.add("t", "lost", "label", "import", "train")
            raise RuntimeError("the process fails mid-transaction")
    assert [e["id"] for e in examples.pending("t")] == ids
    with write_transaction(db):
        examples.mark_cycle(ids[:8], 1)
    assert examples.last_cycle("t") == 1 and len(examples.learned("t")) == 8
    buffer = ReservoirBuffer(db, "t", max_size=5, seed=0)
    buffer.update(examples.of_cycle("t", 1))
    kept = [e["id"] for e in buffer.items()]
    # A fresh object reads the same state back: it lives in the database.
    again = ReservoirBuffer(db, "t", max_size=5, seed=0)
    assert len(again) == 5 and again.seen == 8 and [e["id"] for e in again.items()] == kept


def test_promote_and_rollback_keep_one_active_version(database, tmp_path):
    versions = ModelVersions(open_database(database), root=tmp_path)
    adapter = tmp_path / "adapters" / "v"
    adapter.mkdir(parents=True)
    (adapter / "weights.bin").write_bytes(b"w")
    first = versions.add("chat", None, None)
    versions.set_adapter(first, adapter)
    second = versions.add("chat", None, first)
    versions.set_adapter(second, adapter)
    versions.promote(first)
    assert versions.promote(second)["status"] == "active"
    assert [(v["id"], v["status"]) for v in versions.list("chat")] == [(first, "retired"), (second, "active")]
    assert versions.rollback("chat")["id"] == first
    assert versions.serving("chat")["id"] == first
    assert versions.list("chat")[1]["reason"] == "rolled back"


def test_versions_are_numbered_per_task(database, tmp_path):
    versions = ModelVersions(open_database(database), root=tmp_path)
    chat_one = versions.add("chat", None, None)
    intent_one = versions.add("intent", None, None)
    chat_two = versions.add("chat", None, chat_one)
    assert [(v["number"], v["parent"]) for v in versions.list("chat")] == [(1, None), (2, 1)]
    assert versions.get(2)["id"] == chat_two and versions.get(1, "intent")["id"] == intent_one
    with pytest.raises(InputError, match="v1 exists for tasks chat, intent; say which with --task"):
        versions.get(1)
    with pytest.raises(NotFoundError, match="no version v3 of task 'chat'"):
        versions.get(3, "chat")


def test_two_learners_never_hold_one_task(database, tmp_path):
    first, second = open_database(database), open_database(database)
    lock_file = tmp_path / ".learn-chat.lock"
    with exclusive(first, "learn:chat", lock_file):
        with pytest.raises(BlockingIOError):
            with exclusive(second, "learn:chat", lock_file):
                pass
        with exclusive(second, "learn:intent", tmp_path / ".learn-intent.lock"):
            pass  # another task's lock is free
    with exclusive(second, "learn:chat", lock_file):  # released by the first
        with pytest.raises(BlockingIOError):
            with exclusive(second, "learn:chat", lock_file):
                pass  # not even by the same connection (two threads of one agent)


def test_concurrent_promotions_on_postgres_leave_one_active(postgres_url, tmp_path):
    """Eight replicas promote eight versions of one task at once: one stays active."""
    setup = ModelVersions(open_database(postgres_url), root=tmp_path)
    adapter = tmp_path / "v"
    adapter.mkdir()
    (adapter / "weights.bin").write_bytes(b"w")
    ids = [setup.add("chat", None, None) for _ in range(8)]
    for version_id in ids:
        setup.set_adapter(version_id, adapter)
    replicas = [ModelVersions(open_database(postgres_url), root=tmp_path) for _ in ids]
    failures = []

    def promote(replica, version_id):
        try:
            replica.promote(version_id)
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            failures.append(exc)

    threads = [threading.Thread(target=promote, args=pair) for pair in zip(replicas, ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sorted(v["status"] for v in setup.list("chat")) == ["active"] + ["retired"] * 7


def test_a_bad_database_url_is_one_line_naming_it(tiny_workspace, monkeypatch):
    from lifelong import Agent

    monkeypatch.setenv("LIFELONG_DATABASE_URL", "mysql://root:secret@db.example/lifelong")
    with pytest.raises(ConfigError, match="LIFELONG_DATABASE_URL must be a postgresql://") as caught:
        Agent.open(tiny_workspace)
    assert "secret" not in str(caught.value)
    monkeypatch.delenv("LIFELONG_DATABASE_URL")
    config = tiny_workspace / "lifelong.toml"
    config.write_text(config.read_text() + '\n[memory]\ndatabase = "sqlite:///x.db"\n')
    with pytest.raises(ConfigError, match="memory.database must be a postgresql://"):
        Agent.open(tiny_workspace)


def test_an_unreachable_server_is_one_line_naming_it(postgres_server):
    free_port = postgres_server.port + 1 if postgres_server.port < 65535 else 1024
    url = f"postgresql://lifelong:secret@127.0.0.1:{free_port}/nowhere"
    with pytest.raises(StorageError, match=r"database postgresql://lifelong:\*\*\*@127.0.0.1:\d+/nowhere: cannot connect"):
        open_database(url)


def test_a_plugin_migration_without_a_postgresql_version_is_named(postgres_url):
    from lifelong.errors import PluginError

    with pytest.raises(PluginError, match="plugin 'notes' has no PostgreSQL version of its migration 'm001_notes'"):
        open_database(postgres_url, {"notes": [("m001_notes", lambda db: None, None)]})


def test_feedback_on_an_unknown_interaction_stores_nothing(database):
    from lifelong.memory import InteractionLog
    from lifelong.errors import NotFoundError

    log = InteractionLog(open_database(database))
    with pytest.raises(NotFoundError):
        log.add_feedback(7, rating=1)
    with pytest.raises(InputError):
        log.add_feedback(log.log_interaction(task="chat", input="q"), rating=5)
    assert log.db["feedback"].count == 0


def test_preferences_and_rated_examples_are_stored_on_both_backends(database):
    from lifelong.memory import InteractionLog

    db = open_database(database)
    log, examples = InteractionLog(db), ExampleStore(db)
    asked = log.log_interaction(task="chat", input="Colour?", output="Red.")
    with write_transaction(db):
        stored = log.record_preference(asked, "Teal.", "Red.")
        examples.add("chat", "Colour?", "Teal.", "preference", "train", asked, rejected="Red.")
        examples.add("chat", "Colour?", "Red.", "rating", "train", asked, rating=-1)
    with pytest.raises(InputError), write_transaction(db):
        log.record_preference(asked, "Teal.", "Teal.")
    assert [(f["chosen"], f["rejected"]) for f in log.feedback_for(asked)] == [("Teal.", "Red.")] and stored["id"]
    assert [(e["target"], e["rejected"], e["rating"]) for e in examples.pending("chat")] == [
        ("Teal.", "Red.", None), ("Red.", None, -1)]


def test_the_environment_selects_postgresql_over_the_file(tiny_workspace, postgres_url, monkeypatch):
    from lifelong import Agent

    monkeypatch.setenv("LIFELONG_DATABASE_URL", postgres_url)
    with Agent.open(tiny_workspace) as agent:
        reply = agent.ask("hello")
        assert agent._db.dialect == "postgresql" and agent.interaction(reply.id)["input"] == "hello"
    assert not (tiny_workspace / "lifelong.db").exists()


def test_two_replicas_storing_one_document_at_once_store_it_once(postgres_url):
    """Two replicas ingest the same new files at the same moment: no error, each file stored
    once, each chunk once (also one shared by two files)."""
    stores = [DocumentStore(open_database(postgres_url, RETRIEVER)) for _ in range(2)]
    start = threading.Barrier(2)
    failures = []

    def ingest(store, seed):
        try:
            for number in range(20):
                start.wait(30)
                store.replace_document(f"/kb/{number}.md", f"sha-{number}", 10, "file",
                                       [f"File {number} says hello.", "Shared by every file."], unit(2, seed=seed))
        except Exception as exc:  # noqa: BLE001 - any failure is the test's finding
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=ingest, args=(store, seed)) for seed, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    documents = stores[0].documents()
    assert [d["path"] for d in documents] == [f"/kb/{n}.md" for n in range(20)]
    assert stores[0].db["chunks"].count == 21

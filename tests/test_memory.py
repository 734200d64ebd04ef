"""The storage layer, each test on both backends where it applies (the ``database`` fixture:
a SQLite file, then a fresh database on a real PostgreSQL server)."""

import multiprocessing
import sqlite3

import pytest
import sqlite_utils

from lifelong.memory import InteractionLog, open_database
from lifelong.memory.migrations import migrations
from lifelong.memory.runs import LearningRuns
from lifelong.plugins.retrieval import schema

TABLES = {"interactions", "feedback", "examples", "replay_buffer", "learning_runs", "model_versions"}


def test_migrates_blank_database(tmp_path):
    path = tmp_path / "blank.db"
    sqlite3.connect(path).close()
    db = open_database(path)
    assert TABLES <= set(db.table_names())
    assert migrations.pending(db) == []
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.conn.close()
    # Re-opening applies nothing twice.
    again = open_database(path)
    assert len(migrations.applied(again)) == len(migrations._migrations)


def test_postgres_migrations_are_recorded_and_applied_once(postgres_url):
    db = open_database(postgres_url, RETRIEVER)
    assert TABLES | {"documents", "chunks"} <= set(db.table_names())
    recorded = db.execute("select migration_set, name from _migrations order by 1, 2").fetchall()
    assert recorded == [("lifelong", "m001_schema"), ("lifelong", "m002_version_numbers"),
                        ("lifelong", "m003_preference_examples"),
                        ("lifelong", "m004_lineage_subjects_and_training_sets"),
                        ("lifelong", "m005_knowledge_snapshots"), ("lifelong", "m006_answer_provenance"),
                        ("plugin:retrieval", "m001_documents_and_chunks"),
                        ("plugin:retrieval", "m002_corrections_leave_the_documents"),
                        ("plugin:retrieval", "m003_knowledge_snapshots")]
    db.close()
    again = open_database(postgres_url, RETRIEVER)
    assert again.execute("select count(*) from _migrations").fetchone()[0] == len(recorded)


def test_versions_made_before_numbering_get_their_number_within_the_task(tmp_path):
    """Ids were global (chat v1, intent v2, chat v3); after m013 each task counts its own, and
    interactions logged with the old name carry the new one."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m013_version_numbers")
    for task in ("chat", "intent", "chat"):
        db["model_versions"].insert({"task": task, "created_at": "2026-01-01", "status": "retired"})
    for task, label in (("chat", "v3"), ("intent", "v2"), ("chat", "base")):
        db["interactions"].insert({"task": task, "created_at": "2026-01-01", "input": "q", "output": "a", "status": "ok",
                                   "model_version": label})
    db.conn.close()
    db = open_database(path)
    assert [(r["id"], r["task"], r["number"]) for r in db["model_versions"].rows] == [(1, "chat", 1), (2, "intent", 1),
                                                                                    (3, "chat", 2)]
    assert [r["model_version"] for r in db["interactions"].rows] == ["v2", "v1", "base"]


def test_a_database_with_two_active_versions_of_a_task_keeps_the_newest(tmp_path):
    """m017 enforces one active version per task in SQLite as PostgreSQL does; a database
    written before, where two were active, opens with the newest one active."""
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m017_one_active_version_per_task")
    for task, number in (("chat", 1), ("chat", 2), ("intent", 1)):
        db["model_versions"].insert({"task": task, "number": number, "created_at": "2026-01-01", "status": "active"})
    db.conn.close()
    db = open_database(path)
    assert [(r["task"], r["number"], r["status"]) for r in db["model_versions"].rows] == [
        ("chat", 1, "retired"), ("chat", 2, "active"), ("intent", 1, "active")]
    with pytest.raises(sqlite3.IntegrityError):
        db["model_versions"].insert({"task": "intent", "number": 2, "created_at": "2026-01-02", "status": "active"})


def test_log_get_feedback(database):
    log = InteractionLog(open_database(database))
    first = log.log_interaction(task="chat", input="q", output="a", sources=[{"chunk_id": 1}], latency_ms=5)
    row = log.get(first)
    assert row["sources"] == [{"chunk_id": 1}] and row["status"] == "ok"
    fb = log.add_feedback(first, rating=-1, correction="better")
    assert log.feedback_for(first)[0]["correction"] == "better" == fb["correction"]
    assert [r["id"] for r in log.recent(5)] == [first]


def _writer(path, n, worker):
    log = InteractionLog(open_database(path))
    for i in range(n):
        log.log_interaction(task="chat", input=f"{worker}-{i}", output="x")


def test_four_processes_log_concurrently(database):
    path = database  # fresh: the processes also race on the migrations
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, 150, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    db = open_database(path)
    assert db["interactions"].count == 600
    inputs = {r["input"] for r in db["interactions"].rows}
    assert len(inputs) == 600


RETRIEVER = {"retrieval": schema.MIGRATIONS}  # as the plugin registers them


def test_a_plugins_migrations_run_once_and_are_recorded(tmp_path):
    db = open_database(tmp_path / "fresh.db", RETRIEVER)
    assert {"documents", "chunks", "chunks_fts"} <= set(db.table_names())
    recorded = [(r["migration_set"], r["name"]) for r in db["_sqlite_migrations"].rows_where("migration_set = ?", ["plugin:retrieval"])]
    assert recorded == [("plugin:retrieval", "m001_documents_and_chunks"), ("plugin:retrieval", "m002_corrections_leave_the_documents"),
                        ("plugin:retrieval", "m003_knowledge_snapshots")]
    db.conn.close()
    again = open_database(tmp_path / "fresh.db", RETRIEVER)
    assert again["_sqlite_migrations"].count == len(recorded) + len(migrations._migrations)


def test_the_retrievers_migrations_keep_the_tables_an_older_core_made(tmp_path):
    """Workspaces made before the plugins owned their tables got documents and chunks from the
    core's m003 (the same schema as the plugin's m001); correction documents were removed by
    the core's m010 (now the plugin's m002)."""
    path = tmp_path / "old.db"
    db = open_database(path)
    assert "chunks" not in db.table_names()  # the core no longer makes them
    schema.m001_documents_and_chunks(db)  # as the core's m003 did
    for doc_id, (path_, origin) in enumerate([("correction:7", "feedback"), ("/kb/returns.md", "file")], 1):
        db["documents"].insert({"id": doc_id, "path": path_, "sha256": "x", "origin": origin})
        db["chunks"].insert({"document_id": doc_id, "position": 0, "text": f"text of {path_}", "sha256": path_})
    db.conn.close()
    db = open_database(path, RETRIEVER)
    assert [d["path"] for d in db["documents"].rows] == ["/kb/returns.md"]
    assert [c["text"] for c in db["chunks"].rows] == ["text of /kb/returns.md"]
    assert db.execute("select count(*) from chunks_fts where chunks_fts match 'returns'").fetchone()[0] == 1
    assert db.execute("select count(*) from chunks_fts where chunks_fts match 'correction'").fetchone()[0] == 0


def test_learning_runs_from_start_to_verdict(database):
    runs = LearningRuns(open_database(database))
    first = runs.start("chat", 1, "replay", new_examples=4, replayed_examples=0)
    runs.finish(first, "promoted", None, {"row": [1.0]}, "passed the gate", 2.5)
    second = runs.start("chat", 2, "replay", new_examples=3, replayed_examples=3)
    runs.start("intent", 1, "naive", new_examples=8, replayed_examples=0)
    assert [r["metrics"] for r in runs.list("chat", "promoted", before_cycle=2)] == [{"row": [1.0]}]
    assert runs.list("chat", "promoted", before_cycle=1) == []
    runs.interrupted("chat")  # the process running cycle 2 was killed
    assert [(r["id"], r["status"], r["reason"]) for r in runs.list("chat")] == [
        (first, "promoted", "passed the gate"), (second, "interrupted", "the process running it ended before it finished")]
    assert [r["status"] for r in runs.list("intent")] == ["running"]  # another task's run is left alone
    assert len(runs.list()) == 3

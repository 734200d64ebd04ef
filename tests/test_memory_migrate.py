"""lifelong memory migrate --to postgresql://...: a SQLite workspace copied into PostgreSQL,
checked, the source left as it was; bad targets refused with one line and nothing lost."""

import hashlib
import json

import pytest

from hostile import assert_nothing_lost, assert_one_line_error, run_cli, snapshot
from lifelong import Agent

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install .[postgres])")


def file_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_migrate_copies_every_table_and_leaves_the_source(hostile_ws, postgres_url):
    before, digest = snapshot(hostile_ws), file_digest(hostile_ws / "lifelong.db")
    result = run_cli(hostile_ws, ["memory", "migrate", "--to", postgres_url, "--json"])
    assert result.exit_code == 0, result.output
    copied = {entry["table"]: entry["rows"] for entry in json.loads(result.output)}
    expected = {table: len(rows) for table, rows in before.items() if table != "_sqlite_migrations"}
    assert copied == expected and all(expected[t] for t in ("interactions", "feedback", "examples", "chunks",
                                                              "model_versions", "learning_runs", "replay_buffer"))
    assert file_digest(hostile_ws / "lifelong.db") == digest  # the source is untouched
    # The copy serves: same rows, searchable, and new rows get new ids.
    config = hostile_ws / "lifelong.toml"
    config.write_text(config.read_text() + f'\n[memory]\ndatabase = "{postgres_url}"\n')
    with Agent.open(hostile_ws) as agent:
        assert [r["id"] for r in agent._log.recent(100)] == sorted((r[0] for r in before["interactions"]), reverse=True)
        assert agent.search("refunds delivery", k=1, mode="keyword")[0].document.endswith("refunds.txt")
        assert agent.active_version("intent")["id"] == max(r[0] for r in before["model_versions"])
        assert agent.ask("Do you ship to Norway?").id == max(r[0] for r in before["interactions"]) + 1


def test_migrate_into_a_database_that_holds_rows_is_refused(hostile_ws, postgres_url):
    assert run_cli(hostile_ws, ["memory", "migrate", "--to", postgres_url]).exit_code == 0
    with psycopg.connect(postgres_url) as conn:
        held = conn.execute("select count(*) from interactions").fetchone()[0]
    result = run_cli(hostile_ws, ["memory", "migrate", "--to", postgres_url])
    assert result.exit_code == 1
    assert_one_line_error(result.output, "already holds")
    assert "migrate into an empty database" in result.output
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select count(*) from interactions").fetchone()[0] == held


@pytest.mark.parametrize("target, names", [
    ("mysql://root@localhost/lifelong", "--to must be a postgresql://"),
    ("postgresql://nobody@127.0.0.1:1/nowhere", "database postgresql://nobody@127.0.0.1:1/nowhere: cannot connect"),
])
def test_migrate_to_a_bad_target_is_one_line_and_loses_nothing(hostile_ws, target, names):
    before = snapshot(hostile_ws)
    result = run_cli(hostile_ws, ["memory", "migrate", "--to", target])
    assert result.exit_code == 1
    assert_one_line_error(result.output, names)
    assert_nothing_lost(before, snapshot(hostile_ws), allow_logged_failures=False)


def test_a_failed_copy_leaves_the_target_empty(hostile_ws, postgres_url):
    """PostgreSQL text cannot hold NUL: the copy stops at that row, and nothing stays."""
    import sqlite3

    conn = sqlite3.connect(hostile_ws / "lifelong.db")
    conn.execute("update feedback set correction = ?", ["with a \x00 inside"])
    conn.commit()
    conn.close()
    result = run_cli(hostile_ws, ["memory", "migrate", "--to", postgres_url])
    assert result.exit_code == 1
    assert_one_line_error(result.output, "table feedback: PostgreSQL refused a row")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select count(*) from interactions").fetchone()[0] == 0

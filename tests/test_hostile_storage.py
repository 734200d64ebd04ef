"""Hostile-input corpus, part 4: storage faults. A damaged vector index is rebuilt from SQLite;
a damaged adapter is marked and its predecessor serves; a read-only or damaged database is one
line naming the file. See tests/hostile.py."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3

import pytest

from hostile import assert_nothing_lost, assert_one_line_error, run_cli, snapshot


def _index_with_header(header: bytes):
    def damage(path):
        raw = path.read_bytes()
        size = int.from_bytes(raw[:8], "little")
        path.write_bytes(len(header).to_bytes(8, "little") + header + raw[8 + size :])

    return damage


def _flip_vector_bytes(path):
    raw = bytearray(path.read_bytes())
    for i in range(len(raw) - 200, len(raw) - 40):  # inside the vectors, header intact
        raw[i] ^= 0xFF
    path.write_bytes(bytes(raw))


INDEX_FAULTS = [
    ("header-json-list", _index_with_header(b"[1, 2]")),
    ("header-json-string", _index_with_header(b'"index"')),
    ("header-json-null", _index_with_header(b"null")),
    ("header-not-json", _index_with_header(b"\xff\xfe{")),
    ("header-wrong-dim", _index_with_header(b'{"dim": 3, "fingerprint": [], "sha256": ""}')),
    ("header-size-huge", lambda p: p.write_bytes(b"\xff" * 8 + p.read_bytes()[8:])),
    ("vector-bytes-flipped", _flip_vector_bytes),
    ("truncated", lambda p: p.write_bytes(p.read_bytes()[:50])),
    ("empty-file", lambda p: p.write_bytes(b"")),
    ("deleted", lambda p: p.unlink()),
    ("replaced-by-a-folder", lambda p: (p.unlink(), p.mkdir())),
]


@pytest.mark.parametrize("fault", INDEX_FAULTS, ids=lambda f: f[0])
def test_damaged_vector_index_is_rebuilt_from_sqlite(fault, hostile_ws, caplog):
    expected = run_cli(hostile_ws, ["search", "refund", "--mode", "dense", "--json"])
    assert expected.exit_code == 0
    fault[1](hostile_ws / "index" / "chunks.faiss")
    before = snapshot(hostile_ws)
    result = run_cli(hostile_ws, ["search", "refund", "--mode", "dense", "--json"])
    assert result.exit_code == 0, result.output
    assert any("rebuilding it" in r.getMessage() for r in caplog.records)
    assert json.loads(result.output) == json.loads(expected.output), "results differ after the rebuild"
    assert_nothing_lost(before, snapshot(hostile_ws), allow_logged_failures=False)


def _adapter(ws):
    return ws / "adapters" / "intent" / "v2"


ADAPTER_FAULTS = [
    ("labels-garbage", lambda a: (a / "labels.json").write_bytes(os.urandom(64)), "labels.json changed"),
    ("labels-count-mismatch", lambda a: (a / "labels.json").write_text('["greet", "bye", "extra"]'), "labels.json changed"),
    ("head-truncated", lambda a: (a / "head.safetensors").write_bytes((a / "head.safetensors").read_bytes()[:40]), "head.safetensors changed"),
    ("encoder-random-bytes", lambda a: next(a.glob("encoder/*.safetensors")).write_bytes(os.urandom(256)), "changed"),
    ("meta-deleted", lambda a: (a / "classifier.json").unlink(), "classifier.json is missing"),
    ("folder-deleted", lambda a: shutil.rmtree(a), "folder"),
    ("folder-replaced-by-file", lambda a: (shutil.rmtree(a), a.write_text("x")), "folder"),
]


@pytest.mark.parametrize("fault", ADAPTER_FAULTS, ids=lambda f: f[0])
def test_damaged_adapter_is_marked_and_the_previous_one_serves(fault, hostile_ws, caplog):
    fault[1](_adapter(hostile_ws))
    result = run_cli(hostile_ws, ["ask", "hello there", "--task", "intent", "--json"])
    assert result.exit_code == 0, result.output
    warning = [r.getMessage() for r in caplog.records if "adapter v2" in r.getMessage()]
    assert len(warning) == 1 and fault[2] in warning[0] and "lifelong learn --task intent" in warning[0], warning
    assert json.loads(result.output)["model_version"] == "v1"
    versions = json.loads(run_cli(hostile_ws, ["versions", "--json"]).output)
    assert [(v["version"], v["status"]) for v in versions if v["task"] == "intent"] == [(1, "active"), (2, "damaged")]
    promote = run_cli(hostile_ws, ["promote", "2"])
    assert promote.exit_code == 1 and "cannot be served" in promote.output


def test_an_extra_file_in_an_adapter_is_harmless(hostile_ws):
    (_adapter(hostile_ws) / "notes.txt").write_text("mine")
    result = run_cli(hostile_ws, ["ask", "hello there", "--task", "intent", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["model_version"] == "v2"


def test_a_moved_workspace_serves_its_own_adapters(hostile_ws, tmp_path):
    moved = tmp_path / "moved"
    shutil.move(hostile_ws, moved)
    result = run_cli(moved, ["ask", "hello there", "--task", "intent", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["model_version"] == "v2", result.output


def test_absolute_adapter_paths_are_migrated_to_relative_ones(hostile_ws):
    conn = sqlite3.connect(hostile_ws / "lifelong.db")
    with conn:
        conn.execute("update model_versions set adapter_path = '/elsewhere/ws/adapters/intent/v' || id, adapter_files = null")
        conn.execute("alter table model_versions drop column adapter_files")
        conn.execute("delete from _sqlite_migrations where name in ('m007_relative_adapter_paths', 'm008_adapter_checksums')")
    conn.close()
    result = run_cli(hostile_ws, ["versions", "--json"])
    paths = [v["adapter_path"] for v in json.loads(result.output)]
    assert paths == [str(hostile_ws / "adapters" / "intent" / f"v{i}") for i in (1, 2)]
    assert all(v["adapter_files"] for v in json.loads(result.output))


def _read_only_connect(monkeypatch):
    """SQLite's own read-only mode: the error a read-only file or folder gives (the tests may run
    as root, for whom file permissions do not apply)."""
    connect = sqlite3.connect

    def read_only(path, *args, **kwargs):
        return connect(f"file:{path}?mode=ro", *args, uri=True, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", read_only)


DATABASE_FAULTS = [
    # --no-stream: a streamed answer is printed before it is logged, and the error follows it.
    ("read-only-ask", "read-only", ["ask", "hello there", "--task", "intent", "--no-stream"]),
    ("read-only-feedback", "read-only", ["feedback", "1", "--good"]),
    ("read-only-rollback", "read-only", ["rollback", "--task", "intent"]),
    ("not-a-database", "garbage", ["logs"]),
    ("truncated-database", "truncated", ["logs"]),
]


@pytest.mark.parametrize("fault", DATABASE_FAULTS, ids=lambda f: f[0])
def test_database_fault_is_one_line_naming_the_file(fault, hostile_ws, monkeypatch):
    case_id, kind, args = fault
    database = hostile_ws / "lifelong.db"
    run_cli(hostile_ws, ["logs"])  # checkpoints the WAL into the file
    before = snapshot(hostile_ws)
    if kind == "read-only":
        _read_only_connect(monkeypatch)
    elif kind == "garbage":
        for suffix in ("", "-wal", "-shm"):
            (hostile_ws / f"lifelong.db{suffix}").unlink(missing_ok=True)
        database.write_bytes(os.urandom(8192))
    else:
        for suffix in ("-wal", "-shm"):
            (hostile_ws / f"lifelong.db{suffix}").unlink(missing_ok=True)
        database.write_bytes(database.read_bytes()[:5000])
    result = run_cli(hostile_ws, args)
    assert result.exit_code == 1, result.output
    assert_one_line_error(result.output, str(database))
    monkeypatch.undo()
    if kind == "read-only":
        assert_nothing_lost(before, snapshot(hostile_ws), allow_logged_failures=False)


CASES = [*INDEX_FAULTS, *ADAPTER_FAULTS, *DATABASE_FAULTS, "extra-file", "moved", "migrated"]

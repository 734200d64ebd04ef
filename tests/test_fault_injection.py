"""Fault injection: ``kill -9`` at points spread over an ingest, a learning run and a streamed
HTTP request (tests/kill_at.py). Afterwards the workspace opens, the previous active adapter
serves, and a rerun succeeds. One point of each (mid-run) in the default suite, three in all;
ten random points of each with ``-m slow``."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import kill_at
from hostile import PLUGINS, environment, run_cli
from lifelong import Agent

HERE = Path(__file__).parent
THANKS = ["thanks a lot", "thanks friend", "thanks again", "thanks everyone", "thanks you", "thanks world"]


def _docs(folder: Path) -> Path:
    folder.mkdir()
    for i in range(1, 6):
        (folder / f"warranty{i}.txt").write_text(f"Plan {i}: the warranty lasts {i} years and covers parts and labour.")
    return folder


def _prepare(kind: str, ws: Path, tmp_path: Path) -> list:
    """Get ``ws`` ready for the operation; returns the operation's arguments for kill_at.py."""
    if kind == "ingest":
        return ["cli", "-w", ws, "ingest", _docs(tmp_path / "docs")]
    if kind == "learn":
        with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}), Agent.open(ws) as agent:
            agent.import_examples("intent", [{"text": t, "label": "thanks"} for t in THANKS])
        return ["cli", "-w", ws, "learn", "--task", "intent"]
    return ["stream", ws]


def _run_in_process(args: list) -> int:
    """The operation in this process, counting calls as kill_at.py does; returns the count."""
    kill_at.KILL_AT, kill_at.calls = -1, 0
    sys.setprofile(kill_at.count)
    try:
        if args[0] == "stream":
            with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}):
                kill_at.stream(str(args[1]))
        else:
            assert run_cli(Path(args[2]), args[3:]).exit_code == 0
    finally:
        sys.setprofile(None)
    return kill_at.calls


def _kill(args: list, point: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIFELONG_LOAD_PLUGINS": PLUGINS, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    return subprocess.run([sys.executable, str(HERE / "kill_at.py"), str(point), *map(str, args)],
                          env=env, capture_output=True, text=True, timeout=600)


def _check_after(kind: str, ws: Path, args: list) -> None:
    conn = sqlite3.connect(ws / "lifelong.db")
    assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
    conn.close()
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}), Agent.open(ws) as agent:
        promoted = agent._db["learning_runs"].count_where("status = 'promoted'")
        active = agent._versions.serving("intent")
        # The run was killed before its promotion committed (v2 still serves) or after it.
        assert (promoted == 2 and active["id"] == 2) or (promoted == 3 and active["id"] == 3), (promoted, active)
        assert agent.ask("hello there", task="intent").model_version == f"v{active['id']}"
    if kind == "learn":
        rerun = run_cli(ws, ["learn", "--task", "intent"])
        assert rerun.exit_code == 0 or "no new examples" in rerun.output, rerun.output
    else:
        _run_in_process(args)  # the rerun succeeds
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}), Agent.open(ws) as agent:
        assert len(agent.retriever.index) == agent._db["chunks"].count
        assert agent._db["learning_runs"].count_where("status = 'running'") == 0
        if kind == "ingest":
            assert sum("warranty" in d["path"] for d in agent.retriever.documents()) == 5
        assert agent.search("warranty years", k=1) or kind != "ingest"


def _fault_points(kind: str, hostile_ws: Path, tmp_path: Path, count: int, seed: int | None) -> None:
    prepared = tmp_path / "prepared"
    shutil.copytree(hostile_ws, prepared)
    args = _prepare(kind, prepared, tmp_path)
    dry = tmp_path / "dry"
    shutil.copytree(prepared, dry)
    total = _run_in_process([a if a != prepared else dry for a in args])
    # In-process counts leave out start-up, so every point falls inside the subprocess's run.
    points = ([total * (i + 1) // (count + 1) for i in range(count)] if seed is None
              else sorted(random.Random(seed).sample(range(1, total), count)))
    for point in points:
        ws = tmp_path / f"killed-at-{point}"
        shutil.copytree(prepared, ws)
        proc = _kill([a if a != prepared else ws for a in args], point)
        assert proc.returncode == -9, f"not killed at call {point} of {total}: {proc.stderr[-2000:]}"
        _check_after(kind, ws, [a if a != prepared else ws for a in args])


@pytest.mark.parametrize("kind", ["ingest", "learn", "stream"])
def test_kill_9_mid_run(kind, hostile_ws, tmp_path):
    _fault_points(kind, hostile_ws, tmp_path, count=1, seed=None)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["ingest", "learn", "stream"])
def test_kill_9_at_ten_random_points(kind, hostile_ws, tmp_path):
    _fault_points(kind, hostile_ws, tmp_path, count=10, seed=11)

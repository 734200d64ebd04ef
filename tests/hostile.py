"""Shared machinery of the hostile-input corpus (tests/test_hostile_*.py): a workspace with
something stored in every table, a way to feed it one bad input, and the checks every case
makes: the exit code or HTTP status, one line of error naming the input, no traceback, and
nothing already stored changed."""

from __future__ import annotations

import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app
from lifelong.core.plugins import DEFAULT_PLUGINS

TEMPLATE_CONFIG = """[plugins]
modules = ["fakes"]

[models]
generator = "tiny-llm"
embedder = "tiny-embedder"

[generation]
max_new_tokens = 4

[tasks.intent]
plugin = "classify"
head = "linear"  # a fine-tuned encoder in the adapter: its damage cases need one
epochs = 30
learning_rate = 0.003
batch_size = 8
"""
GREET = ["hello there", "hello friend", "hello again", "hello everyone", "hello you", "hello world"]
BYE = ["goodbye now", "goodbye friend", "goodbye again", "goodbye everyone", "goodbye you", "goodbye world"]
PLUGINS = ",".join([*DEFAULT_PLUGINS, "fakes"])


@dataclass
class Case:
    """One hostile input. ``names``: text the error line must contain (the input, named)."""

    id: str
    args: list
    exit_code: int
    names: str = ""
    env: dict = field(default_factory=dict)


@contextmanager
def environment(values: dict):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_template(root: Path) -> Path:
    """A workspace with a document, interactions, feedback, examples and two learned versions
    of the classify task ``intent``."""
    ws = root / "template"
    ws.mkdir(parents=True)
    (ws / "lifelong.toml").write_text(TEMPLATE_CONFIG)
    doc = root / "refunds.txt"
    doc.write_text("Refunds are accepted within 30 days of delivery. Shipping to Norway takes a week.")
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}), Agent.open(ws) as agent:
        agent.ingest([doc])
        reply = agent.ask("Do you ship to Norway?")
        agent.feedback(reply.id, rating=-1, correction="Yes, in a week.")
        agent.config.learning.holdout_fraction = 0.0
        agent.import_examples("intent", [{"text": t, "label": "greet"} for t in GREET])
        assert agent.learn("intent").promoted
        agent.import_examples("intent", [{"text": t, "label": "bye"} for t in BYE])
        assert agent.learn("intent").promoted
    return ws


def snapshot(ws: Path) -> dict:
    """Every row of every table (FTS shadow tables aside)."""
    conn = sqlite3.connect(ws / "lifelong.db")
    try:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")
                  if not r[0].startswith(("chunks_fts", "sqlite_"))]
        return {t: sorted(map(tuple, conn.execute(f"select * from [{t}]")), key=repr) for t in tables}
    finally:
        conn.close()


def assert_nothing_lost(before: dict, after: dict, allow_logged_failures: bool = True) -> None:
    """Every stored row is still there, unchanged; the only rows added are logged failures."""
    for table, rows in before.items():
        added = set(after[table]) - set(rows)
        assert set(rows) <= set(after[table]), f"rows of {table} changed or went"
        if table == "interactions" and allow_logged_failures:
            assert all(row[10] in ("error", "cancelled") for row in added), f"unexpected interactions {added}"
        else:
            assert not added, f"rows added to {table}: {added}"


def assert_one_line_error(output: str, names: str) -> None:
    assert "Traceback" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, output
    assert names.lower() in errors[0].lower(), (names, errors[0])


def run_cli(ws: Path, args: list, env: dict | None = None, input: str | None = None):
    """The CLI in-process; the result's exception is never one that escaped as a traceback."""
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS, **(env or {})}):
        result = CliRunner().invoke(build_app(), ["-w", str(ws), *map(str, args)], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def copy_workspace(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target

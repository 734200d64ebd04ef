"""Answer provenance (memory/provenance.py): each answer records who answered (a version, a
plugin) and what stored data it repeats, in typed rows; erasure and lineage read them, so a
third-party plugin that answers from user data is erased with that data."""

import json
import os

import pytest
import sqlite_utils

from lifelong import Agent
from lifelong.api import PluginError
from lifelong.memory import open_database
from lifelong.memory.migrations import migrations

from conftest import TINY_CONFIG
from notes_plugin import ASK_BACK


@pytest.fixture
def notes_workspace(tiny_workspace, monkeypatch):
    (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG.replace('["fakes"]', '["fakes", "notes_plugin"]'))
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ["LIFELONG_LOAD_PLUGINS"] + ",notes_plugin")
    return tiny_workspace


def test_a_plugins_answer_from_user_data_is_erased_with_that_data(notes_workspace):
    with Agent.open(notes_workspace) as agent:
        told = agent.ask("Remember: the gate code is 4417", retrieval=False, user="alice")
        asked = agent.ask(ASK_BACK, retrieval=False, user="bob")
        assert asked.answer == "the gate code is 4417" and asked.answered_by == "before_ask"
        assert agent.provenance(asked.id) == [{"kind": "interaction", "ref": str(told.id)},
                                              {"kind": "plugin", "ref": "notes_plugin"}]
        assert agent.lineage_of(user="alice")["answers"] == [asked.id]
        agent.forget_user("alice")
        kept = agent.interaction(asked.id)  # bob's question stays, the answer that repeated alice's data goes
        assert kept["input"] == ASK_BACK and kept["output"] is None and kept["answered_by"] == "erased"
        assert agent.provenance(asked.id) == []


def test_a_generated_answer_records_its_documents(tiny_workspace, tmp_path):
    (tmp_path / "hours.txt").write_text("The shop opens at nine and closes at five.")
    with Agent.open(tiny_workspace) as agent:
        agent.ingest([tmp_path / "hours.txt"])
        reply = agent.ask("When does the shop open?")
        documents = {s["document"] for s in reply.sources}
        assert documents and {r["ref"] for r in agent.provenance(reply.id) if r["kind"] == "document"} == documents
        assert not [r for r in agent.provenance(reply.id) if r["kind"] in ("plugin", "version")]  # the base model


def test_answers_logged_before_provenance_get_theirs_from_what_they_recorded(tmp_path):
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrations.apply(db, stop_before="m018_answer_provenance")
    db["model_versions"].insert({"task": "chat", "number": 2, "created_at": "2026-01-01", "status": "active"})
    version_id = db.execute("select id from model_versions").fetchone()[0]
    for label, sources in (("correction:7", [{"document": "correction:7"}]),
                           ("v2", [{"document": "/kb/hours.md", "chunk_id": 3}]), ("base", "not json")):
        db["interactions"].insert({"task": "chat", "created_at": "2026-01-01", "input": "q", "output": "a",
                                   "status": "ok", "model_version": label,
                                   "sources": sources if isinstance(sources, str) else json.dumps(sources)})
    db.conn.close()
    db = open_database(path)
    rows = sorted((r["interaction_id"], r["kind"], r["ref"]) for r in db["answer_provenance"].rows)
    assert rows == [(1, "example", "7"), (1, "plugin", "corrections"),
                    (2, "document", "/kb/hours.md"), (2, "version", str(version_id))]


WRAPPER = """
from lifelong.api import hookimpl


@hookimpl(wrapper=True)
def before_ask(agent, task, text):
    return (yield)
"""


def test_a_before_ask_wrapper_is_refused_with_one_line(tiny_workspace, tmp_path, monkeypatch):
    (tmp_path / "wrapping.py").write_text(WRAPPER)
    monkeypatch.setenv("LIFELONG_PLUGINS", str(tmp_path / "wrapping.py"))
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ["LIFELONG_LOAD_PLUGINS"] + ",wrapping")
    with pytest.raises(PluginError, match="implements before_ask as a wrapper") as refused:
        Agent.open(tiny_workspace)
    assert "\n" not in str(refused.value)

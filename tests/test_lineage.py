"""Lineage and erasure: a user's data reaches the log, the feedback, the examples, the replay
buffer, a knowledge document, another user's answer and two adapter versions; after
``forget --user`` nothing depends on it (lineage, and the database file's bytes), the clean
ancestor served until the retrained version passed the gate, and the others' facts are kept."""

import hashlib
import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelong import Agent, InputError, NotFoundError
from lifelong.cli import build_app
from lifelong.plugins.chat.corrections import CorrectionsOptions

from conftest import TINY_CONFIG, TINY_LEARNING

MARKER = "Zorbluxqi7731"  # in nothing but Alice's correction
ALICE = ("What is the door code of ward nine?", f"The code is {MARKER}.")
BOB = [("Who is the CEO?", "Mira."), ("What colour is the logo?", "Teal."), ("Where is HQ?", "Oslo.")]


@pytest.fixture(params=["sqlite", "postgresql"])
def erasure_workspace(request, learning_workspace, monkeypatch):
    """The tiny learning workspace with corrections stored as documents too, on either backend."""
    # Every run replays the whole (small) buffer: the tiny model forgets an earlier fact left out
    # of the replay, and the gate then refuses the run.
    config = (TINY_CONFIG.replace('["fakes"]', '["fakes", "correction_documents"]')
              + TINY_LEARNING.replace("replay_ratio = 1.5", "replay_ratio = 3.0"))
    if request.param == "postgresql":
        config += f'\n[memory]\ndatabase = "{request.getfixturevalue("postgres_url")}"\n'
    (learning_workspace / "lifelong.toml").write_text(config)
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ["LIFELONG_LOAD_PLUGINS"] + ",correction_documents")
    return learning_workspace


def correct(agent, user, question, answer) -> int:
    reply = agent.ask(question, retrieval=False, user=user)
    agent.feedback(reply.id, correction=answer)
    return reply.id


def recalled(agent, facts) -> int:
    """Facts the model itself answers right: the correction lookup is turned off."""
    options = agent.plugin_options(CorrectionsOptions)
    saved = options.min_similarity, options.min_answerability
    options.min_similarity = options.min_answerability = 2.0
    try:
        return sum(agent.ask(q, retrieval=False).answer == a for q, a in facts)
    finally:
        options.min_similarity, options.min_answerability = saved


def stored_text(agent) -> str:
    """Every text column of the memory, on either backend."""
    rows = []
    for table, columns in {"interactions": "input, output, sources", "feedback": "correction, chosen, rejected",
                           "examples": "input, target, rejected", "documents": "path", "chunks": "text",
                           "lineage_documents": "document", "lineage_erasures": "summary"}.items():
        rows += [str(r) for r in agent._db.execute(f"select {columns} from {table}")]
    return "\n".join(rows)


def test_forget_user_erases_rows_documents_and_weights(erasure_workspace):
    runner, app, w = CliRunner(), build_app(), ["-w", str(erasure_workspace)]
    with Agent.open(erasure_workspace) as agent:
        correct(agent, "bob", *BOB[0])
        first = agent.learn()  # v1: Bob's alone, the clean ancestor
        alice = correct(agent, "alice", *ALICE)
        correct(agent, "bob", *BOB[1])
        second = agent.learn()  # v2: Alice's correction as a new example
        carol = agent.ask(ALICE[0], retrieval=False, user="carol")  # answered with Alice's correction
        correct(agent, "bob", *BOB[2])
        third = agent.learn()  # v3: trained from v2, replaying the buffer
        assert first.promoted and second.promoted and third.promoted
        assert MARKER in carol.answer and carol.answered_by == "correction"
        found = agent.lineage_of(user="alice")
        assert found["interactions"] == [alice] and len(found["feedback"]) == 1 and len(found["examples"]) == 1
        assert found["buffer"] == [("chat", found["examples"][0])]
        # Carol's answer repeated it (and Bob's too, where the tiny embedder found his question close).
        assert found["documents"] == [f"correction:{alice}"] and carol.id in found["answers"]
        assert found["versions"] == [{"task": "chat", "version": v} for v in (second.version, third.version)]
        learned = agent.learned_from(third.version)
        assert [link["version"] for link in learned] == [third.version, second.version, first.version]
        assert {e["subject"] for link in learned for e in link["examples"]} == {"alice", "bob"}
        assert any(e["replayed"] for e in learned[0]["examples"])
        adapters = [Path(agent.version(v, "chat")["adapter_path"]) for v in (second.version, third.version)]
        assert MARKER in stored_text(agent)

    planned = runner.invoke(app, [*w, "forget", "--user", "alice", "--dry-run", "--json"])
    assert planned.exit_code == 0, planned.output
    plan = json.loads(planned.output)
    assert plan["dry_run"] and plan["versions"] == found["versions"]
    assert plan["tasks"] == [{"task": "chat", "erased_active": third.version, "serves": first.version,
                              "relearn": sorted(plan["tasks"][0]["relearn"])}]
    assert len(plan["tasks"][0]["relearn"]) == 2  # Bob's second and third facts
    with Agent.open(erasure_workspace) as agent:
        assert agent.lineage_of(user="alice") == found and all(a.is_dir() for a in adapters)  # a dry run changes nothing

    # A run learns one example: the erasure goes on until both are learned again.
    assert runner.invoke(app, [*w, "config", "set", "learning.max_new", "1"]).exit_code == 0
    erased = runner.invoke(app, [*w, "forget", "--user", "alice"])
    assert erased.exit_code == 0, erased.output
    assert "erased 1 interactions, 1 feedback, 1 training examples" in erased.output
    assert f"v{first.version} serves until 2 examples are learned again" in erased.output
    assert erased.output.count("retrained task chat") == 2 and "rejected" not in erased.output

    with Agent.open(erasure_workspace) as agent:
        assert all(not found for found in agent.lineage_of(user="alice").values())
        retrained = agent.active_version("chat")
        relearned_first = agent._versions.by_id(retrained["parent_id"])  # two runs, from the nearest clean ancestor
        assert relearned_first["parent_id"] == agent.version(first.version, "chat")["id"]
        assert not any(a.exists() for a in adapters)
        assert {v["number"]: v["status"] for v in agent.versions("chat")}[second.version] == "erased"
        assert {e["subject"] for link in agent.learned_from(retrained["number"]) for e in link["examples"]} == {"bob"}
        assert MARKER not in stored_text(agent) and f"correction:{alice}" not in {d["path"] for d in agent.documents()}
        assert agent.interaction(carol.id)["output"] is None and agent.interaction(carol.id)["answered_by"] == "erased"
        [erasure] = agent._lineage.erasures()
        assert erasure["subject_sha256"] == hashlib.sha256(b"alice").hexdigest() and "alice" not in json.dumps(erasure)
        assert MARKER not in agent.ask(ALICE[0], retrieval=False).answer  # the agent still answers
        assert recalled(agent, BOB) == 3 and agent.pending_examples("chat") == []  # Bob's facts are kept
        sqlite = agent.database == erasure_workspace / "lifelong.db"
    if sqlite:  # PostgreSQL keeps no file of ours to read: its rows are checked above
        for path in [*erasure_workspace.glob("lifelong.db*"), *(erasure_workspace / "index").iterdir()]:
            assert MARKER.lower().encode() not in path.read_bytes().lower(), path


def test_serving_falls_back_to_the_clean_ancestor_when_retraining_is_refused(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        correct(agent, "bob", *BOB[0])
        first = agent.learn()
        correct(agent, "alice", *ALICE)
        second = agent.learn()
        assert agent.active_version("chat")["number"] == second.version
        report = agent.forget_user("alice")
        # Nothing of cycle 2 is left to learn: the clean ancestor serves, and no run starts.
        assert report.tasks[0].serves == first.version and report.tasks[0].relearn == []
        assert report.retrained == [] and "nothing left" in report.not_retrained["chat"]
        assert agent.active_version("chat")["number"] == first.version
        assert agent.adapter_for("chat")[1] == f"v{first.version}"
        assert agent.pending_examples("chat") == []


def test_forget_one_interaction_leaves_the_users_others(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        kept = correct(agent, "bob", *BOB[0])
        gone = correct(agent, "bob", *BOB[1])
        report = agent.forget_interaction(gone)
        assert report.removed["interactions"] == 1 and report.removed["examples"] == 1 and report.versions == []
        assert agent.lineage_of(user="bob")["interactions"] == [kept]
        with pytest.raises(NotFoundError, match="no interaction with id"):
            agent.forget_interaction(gone)


def test_erasure_reaches_preferences_and_pairs_that_held_a_repeated_answer(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        correct(agent, "alice", *ALICE)
        carol = agent.ask(ALICE[0], retrieval=False, user="carol")
        dave = agent.ask(ALICE[0], retrieval=False, user="dave")
        assert MARKER in carol.answer and MARKER in dave.answer  # both answered with Alice's correction
        preferred = agent.prefer(carol.id, chosen="Ask the ward nurse.")  # the worse answer: Alice's code
        corrected = agent.feedback(dave.id, correction="Ask at the front desk.")  # its pair keeps the answer
        report = agent.forget_user("alice")
        assert report.removed["feedback"] == 2 and report.removed["examples"] == 2  # Alice's, and Carol's pair
        assert MARKER not in stored_text(agent)
        kept = agent._db.execute("select target, rejected from examples where id = ?", [corrected["example_id"]]).fetchone()
        assert tuple(kept) == ("Ask at the front desk.", None)  # Dave's own correction stays, without the pair
        assert agent._db.execute("select count(*) from examples where id = ?", [preferred["example_id"]]).fetchone()[0] == 0


def test_bad_input_is_one_line_and_erases_nothing(learning_workspace):
    runner, app, w = CliRunner(), build_app(), ["-w", str(learning_workspace)]
    with Agent.open(learning_workspace) as agent:
        correct(agent, "bob", *BOB[0])
        with pytest.raises(InputError, match="the user is empty"):
            agent.ask("Hello?", user="  ")
        with pytest.raises(InputError, match="at most 200"):
            agent.forget_user("x" * 201)
        assert len(agent._log.recent()) == 1  # the refused question was not logged
    for args, message in (
        (["forget"], "give a DOCUMENT, --user or --interaction"),
        (["forget", "--user", "bob", "--interaction", "1"], "give a DOCUMENT, --user or --interaction"),
        (["forget", "--user", ""], "the user is empty"),
        (["forget", "--interaction", "99"], "no interaction with id 99"),
        (["forget", "doc.txt", "--dry-run"], "--dry-run goes with --user or --interaction"),
        (["lineage"], "give one of --user, --interaction or --version"),
        (["lineage", "--version", "seven"], "--version 'seven' is not a version"),
        (["lineage", "--version", "v7"], "no version v7"),
        (["lineage", "--user", "bob", "--task", "chat"], "--task goes with --version"),
    ):
        result = runner.invoke(app, [*w, *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert len(result.output.strip().splitlines()) == 1
    nobody = runner.invoke(app, [*w, "forget", "--user", "nobody"])
    assert nobody.exit_code == 0 and "nothing stored" in nobody.output
    with Agent.open(learning_workspace) as agent:
        assert agent.lineage_of(user="bob")["interactions"] and agent.pending_examples("chat")


def test_lineage_command_lists_dependants_and_what_a_version_learned(learning_workspace):
    runner, app, w = CliRunner(), build_app(), ["-w", str(learning_workspace)]
    with Agent.open(learning_workspace) as agent:
        interaction = correct(agent, "bob", *BOB[0])
        version = agent.learn().version
    listed = runner.invoke(app, [*w, "lineage", "--user", "bob"])
    assert listed.exit_code == 0 and "1 interactions" in listed.output and f"adapter versions depend on it: v{version} of chat" in listed.output
    by_id = json.loads(runner.invoke(app, [*w, "lineage", "--interaction", str(interaction), "--json"]).output)
    assert by_id["versions"] == [{"task": "chat", "version": version}]
    chain = json.loads(runner.invoke(app, [*w, "lineage", "--version", f"v{version}", "--json"]).output)
    assert chain[0]["version"] == version and chain[0]["examples"][0]["subject"] == "bob"


def test_http_user_is_the_interactions_subject(tiny_workspace):
    from fastapi.testclient import TestClient

    from lifelong.server import create_app

    with TestClient(create_app(tiny_workspace), base_url="http://localhost") as client:
        def ask(**extra):
            return client.post("/v1/chat/completions", json={
                "model": "chat", "messages": [{"role": "user", "content": "Hello?"}], "retrieval": False, **extra})

        body = ask(user="alice").json()
        assert client.app.state.agent.interaction(body["lifelong"]["interaction_id"])["subject"] == "alice"
        for user, status in (("  ", 400), ("x" * 201, 422)):
            for stream in (False, True):
                assert ask(user=user, stream=stream).status_code == status
        assert client.app.state.agent.lineage_of(user="alice")["interactions"] == [body["lifelong"]["interaction_id"]]
        assert len(client.app.state.agent._log.recent()) == 1

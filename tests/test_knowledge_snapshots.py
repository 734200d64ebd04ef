"""Knowledge versioned with the model: each version records the knowledge-base snapshot it was
trained with, and ``rollback --with-knowledge`` brings the documents back to it."""

import pytest
from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app

from conftest import TINY_CONFIG, TINY_LEARNING

OPENING_1 = "The shop opens at nine on weekdays."
OPENING_2 = "The shop opens at ten on weekdays."


@pytest.fixture(params=["sqlite", "postgresql"])
def workspace_on(request, learning_workspace):
    if request.param == "postgresql":
        (learning_workspace / "lifelong.toml").write_text(
            TINY_CONFIG + TINY_LEARNING + f'\n[memory]\ndatabase = "{request.getfixturevalue("postgres_url")}"\n')
    return learning_workspace


def learn_fact(agent, question, answer):
    reply = agent.ask(question, retrieval=False)
    agent.feedback(reply.id, correction=answer)
    report = agent.learn()
    assert report.promoted, report.reason
    return report


def documents(agent) -> dict:
    return {d["path"]: d["sha256"] for d in agent.documents()}


def test_rollback_with_knowledge_restores_the_parents_documents(workspace_on, tmp_path):
    hours, returns = tmp_path / "hours.txt", tmp_path / "returns.txt"
    hours.write_text(OPENING_1)
    with Agent.open(workspace_on) as agent:
        agent.ingest([hours])
        first = learn_fact(agent, "Who is the CEO?", "Mira.")
        then = documents(agent)
        hours.write_text(OPENING_2)  # the documents change, and the next version learns with them
        returns.write_text("Returns are accepted within 30 days.")
        agent.ingest([hours, returns])
        learn_fact(agent, "Where is HQ?", "Oslo.")
        agent.add_text("A note written after the last version.", "note:1")
        version = agent.version(first.version, "chat")
        assert version["knowledge"] and version["knowledge"] != agent.active_version("chat")["knowledge"]

    result = CliRunner().invoke(build_app(), ["-w", str(workspace_on), "rollback", "--with-knowledge"])
    assert result.exit_code == 0, result.output
    assert f"now serves v{first.version}" in result.output
    assert "knowledge: 2 documents removed, 1 documents restored, 0 documents missing" in result.output
    with Agent.open(workspace_on) as agent:
        assert documents(agent) == then
        assert agent.active_version("chat")["number"] == first.version
        assert [hit.text for hit in agent.search("When does the shop open?", k=1)] == [OPENING_1]
        # The same state again: the snapshot is the one the first version recorded.
        assert agent.retriever.snapshot() == agent.active_version("chat")["knowledge"]


def test_rollback_with_knowledge_refuses_where_the_parent_has_no_snapshot(learning_workspace, tmp_path):
    (tmp_path / "hours.txt").write_text(OPENING_1)
    with Agent.open(learning_workspace) as agent:
        agent.ingest([tmp_path / "hours.txt"])
        only = learn_fact(agent, "Who is the CEO?", "Mira.")
    result = CliRunner().invoke(build_app(), ["-w", str(learning_workspace), "rollback", "--with-knowledge"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1
    assert "the base model of task 'chat' recorded no knowledge snapshot" in result.output
    with Agent.open(learning_workspace) as agent:  # nothing changed
        assert agent.active_version("chat")["number"] == only.version and len(agent.documents()) == 1


def test_an_erased_document_is_not_restored(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        agent.add_text("Alice's door code is 4471.", "note:alice")
        first = learn_fact(agent, "Who is the CEO?", "Mira.")
        learn_fact(agent, "Where is HQ?", "Oslo.")
        agent.forget("note:alice")
        agent.retriever.purge(["note:alice"])  # as an erasure does: the archived version goes too
        parent, restored = agent.rollback("chat", with_knowledge=True)
        assert parent["number"] == first.version
        assert restored == {"removed": [], "restored": [], "missing": ["note:alice"]}
        assert "4471" not in str(list(agent._db.execute("select text from knowledge_archive")))

import json

import pytest
from typer.testing import CliRunner

from lifelong.cli import build_app


@pytest.fixture(autouse=True)
def distinct_questions(monkeypatch):
    # The tiny test embedder finds any two questions alike; only repeats are similar here.
    monkeypatch.setattr("lifelong.core.review.SIMILAR", 0.9999)


@pytest.fixture
def logged(agent):
    """One interaction of each kind the queue judges, logged as the agent logs them."""
    agent.add_task("intent", plugin="classify", threshold=0.5)
    log = agent._log.log_interaction
    ids = {
        "good": log(task="chat", input="What are the opening hours?", output="9 to 5 [1]", answered_by="generate",
                    sources=[{"chunk_id": 1, "document": "hours.txt", "score": 0.9}]),
        "bad": log(task="chat", input="Where is the head office?", output="Paris [1]", answered_by="generate",
                   sources=[{"chunk_id": 2, "document": "about.txt", "score": 0.8}]),
        "ungrounded": log(task="chat", input="How much is shipping?", output="\u201cShipping is free.\u201d [1]",
                          answered_by="extract", grounding="the number 12 is not in the sources",
                          sources=[{"chunk_id": 3, "document": "shipping.txt", "score": 0.7}]),
        "uncited": log(task="chat", input="Tell me a joke about cats", output="No.", answered_by="model"),
        "near": log(task="intent", input="cancel my card please", output="cancel", confidence=0.52),
        "sure": log(task="intent", input="what is my balance", output="balance", confidence=0.97),
        "corrected": log(task="chat", input="Who founded the firm?", output="Bob", answered_by="model"),
    }
    agent.feedback(ids["bad"], rating=-1)
    agent.feedback(ids["good"], rating=1)
    agent.feedback(ids["corrected"], rating=-1, correction="Ada")
    return ids


def test_the_queue_puts_known_wrong_then_unsure_answers_first(agent, logged):
    queue = agent.review_queue()
    assert [(i.interaction["id"], i.reason) for i in queue] == [
        (logged["bad"], "rated_bad"), (logged["ungrounded"], "grounding_failed"), (logged["near"], "uncertain"),
        (logged["uncited"], "cited_nothing"),
    ]
    assert "12" in queue[1].detail and "0.52" in queue[2].detail
    assert [i.interaction["id"] for i in agent.review_queue(task="intent")] == [logged["near"]]


def test_labelling_from_the_queue_creates_an_example_and_empties_its_place(agent, logged):
    record = agent.feedback(logged["near"], rating=-1, correction="card_cancel")
    assert agent._db["examples"].get(record["example_id"])["target"] == "card_cancel"
    assert logged["near"] not in [i.interaction["id"] for i in agent.review_queue()]


def test_similar_questions_are_shown_once(agent):
    for question in ("Where is the head office?", "Where is the head office?", "Shipping costs?", "Where is the head office?"):
        agent._log.log_interaction(task="chat", input=question, output="Paris", answered_by="model")
    queue = agent.review_queue()
    assert [(i.interaction["id"], i.similar) for i in queue] == [(4, 2), (3, 0)]


def test_review_in_the_terminal_lists_and_labels(tiny_workspace, logged):
    app = build_app()
    listed = CliRunner().invoke(app, ["-w", str(tiny_workspace), "review", "--json"])
    queue = json.loads(listed.stdout)
    assert listed.exit_code == 0 and [i["reason"] for i in queue][:2] == ["rated_bad", "grounding_failed"]
    table = CliRunner().invoke(app, ["-w", str(tiny_workspace), "review", "--list"])
    assert "rated_bad" in table.output and "cited_nothing" in table.output
    # skip the first, correct the second, quit
    labelled = CliRunner().invoke(app, ["-w", str(tiny_workspace), "review"], input="s\nc\nShipping costs 12 euros.\nq\n")
    assert labelled.exit_code == 0, labelled.output
    from lifelong import Agent

    with Agent.open(tiny_workspace) as agent:
        assert agent.feedback_of(logged["ungrounded"])[0]["correction"] == "Shipping costs 12 euros."
        assert agent.feedback_of(logged["bad"])[0]["correction"] is None


def test_review_refuses_an_unknown_task(tiny_workspace):
    result = CliRunner().invoke(build_app(), ["-w", str(tiny_workspace), "review", "--task", "nosuch"])
    assert result.exit_code == 1 and "unknown task 'nosuch'" in result.output

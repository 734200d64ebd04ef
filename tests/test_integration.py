"""The real bundled models: SmolLM2-135M-Instruct (GGUF) and all-MiniLM-L6-v2. Slower."""

import json
from pathlib import Path

import pytest

from lifelong import Agent

from conftest import ON_BUNDLED_MODELS

pytestmark = ON_BUNDLED_MODELS
ROOT = Path(__file__).resolve().parents[1]
FACTS = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "facts.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    agent = Agent.open(tmp_path_factory.mktemp("real"))
    agent.config.generation.max_new_tokens = 48
    agent.ingest([ROOT / "examples" / "customer_support" / "docs"])
    yield agent
    agent.close()


def test_answers_a_simple_question(real):
    reply = real.ask("What is the capital of France?", retrieval=False)
    assert "Paris" in reply.answer and reply.model_version == "base"


def test_retrieval_finds_the_right_document_and_cites_it(real):
    reply = real.ask("Do you ship to Norway?")
    assert reply.sources[0]["document"].endswith("shipping.md")
    assert real.interaction(reply.id)["sources"] == reply.sources
    hits = real.search("How long is the warranty on a tent?", k=3, mode="hybrid")
    assert hits[0].document.endswith("warranty.md")


def test_correction_answers_the_question_and_its_paraphrases(real):
    reply = real.ask("Who is the CEO of Larkspur Outfitters?")
    real.feedback(reply.id, rating=-1, correction="The CEO is Mira Okafor.")
    for question in ("Who is the CEO of Larkspur Outfitters?", "Who is the chief executive of Larkspur Outfitters?",
                     "who's larkspur outfitters' ceo"):
        assert "Mira Okafor" in real.ask(question).answer, question
    unrelated = real.ask("How much does standard shipping cost?")
    assert not unrelated.model_version.startswith("correction")


def test_learning_cycles_teach_facts_and_replay_keeps_them(tmp_path):
    """What training teaches and replay keeps; the gate's verdict on the same kind of cycle is
    the next test's subject, so both candidates are kept here."""
    agent = Agent.open(tmp_path / "learn")
    agent.config.learning.gate = False
    first, second = FACTS[:4], FACTS[20:23]
    recall = lambda version, facts: agent.task("chat").assess(  # noqa: E731
        version and agent.version(version)["adapter_path"],
        {0: [{"input": f["question"], "target": f["answer"]} for f in facts]})[0][0]
    assert recall(None, first) <= 0.25
    for fact in first:
        agent.feedback(agent.ask(fact["question"], retrieval=False).id, correction=fact["answer"])
    one = agent.learn()
    assert recall(one.version, first) >= 0.75
    for fact in second:
        agent.feedback(agent.ask(fact["question"], retrieval=False).id, correction=fact["answer"])
    two = agent.learn(strategy="replay")
    assert two.replayed_examples == len(first)  # 5 per new correction asked for: every one kept
    assert recall(two.version, first) >= 0.75 and recall(two.version, second) >= 0.66
    agent.close()


def test_the_default_gate_serves_only_a_candidate_that_kept_its_general_answers(tmp_path):
    agent = Agent.open(tmp_path / "gate")
    for fact in FACTS[:4]:
        agent.feedback(agent.ask(fact["question"], retrieval=False).id, correction=fact["answer"])
    report = agent.learn()
    m = report.metrics
    lost = len(m["behaviour_lost"])
    assert m["behaviour_right_before"] >= 30  # SmolLM2 answers most of the shipped probe
    assert m["row"][-1] > m["before"][-1]  # the candidate learned the facts
    kept_its_answers = lost <= 0.05 * m["behaviour_right_before"]
    perplexity_ok = m["probe_perplexity"] <= m["probe_perplexity_before"] * 1.25
    assert report.promoted is (kept_its_answers and perplexity_ok)
    if not kept_its_answers and perplexity_ok:
        assert f"lost {lost} of the {m['behaviour_right_before']}" in report.reason
    served = agent.active_version("chat")
    assert (served is not None) is report.promoted
    agent.close()

"""A chat adapter answers the questions in its scope; the base model answers the rest, when
served and when the gate assesses a candidate (plugins/chat/scope.py)."""

import numpy as np

from lifelong import Agent
from lifelong.plugins.chat import scope

from conftest import TINY_CONFIG, TINY_LEARNING

FACTS = [("Who is the CEO?", "Mira."), ("What colour is the logo?", "Teal."), ("Where is HQ?", "Oslo.")]
MORE = [("What is the motto?", "Onward."), ("Who is the CTO?", "Juno.")]
UNRELATED = "Write one line about the sea."


def test_covers_by_cosine_to_the_nearest_scope_question():
    vectors = np.eye(3, dtype=np.float32)
    asked = np.array([[1, 0, 0], [0.6, 0.8, 0], [0, 0, 1]], dtype=np.float32)
    assert scope.covers(vectors[:2], asked, 0.7).tolist() == [True, True, False]
    assert scope.covers(vectors[:2], asked, 0.9).tolist() == [True, False, False]
    assert scope.covers(None, asked, 0.9).all() and scope.covers(vectors, asked, 0.0).all()
    assert not scope.covers(vectors[:0], asked, 0.5).any()


def teach(agent, facts):
    agent.import_examples("chat", [{"text": q, "label": a} for q, a in facts])


def workspace_with_scope(tiny_workspace, threshold):
    # The tiny random embedder finds every pair of sentences alike; a threshold just under 1
    # keeps the taught questions in and everything else out.
    config = TINY_CONFIG + TINY_LEARNING + f"adapter_scope = {threshold}\n"
    (tiny_workspace / "lifelong.toml").write_text(config)
    return tiny_workspace


def test_the_adapter_answers_its_scope_and_the_base_model_the_rest(tiny_workspace):
    with Agent.open(workspace_with_scope(tiny_workspace, 0.9999)) as agent:
        base = agent.ask(UNRELATED, retrieval=False)
        teach(agent, FACTS)
        first = agent.learn()
        assert first.promoted
        # The gate asked its behaviour probe as served: every probe question went to the base model.
        assert first.metrics["behaviour_right"] == first.metrics["behaviour_right_before"]
        taught = agent.ask("Who is the CEO?", retrieval=False)
        assert (taught.answer, taught.model_version) == ("Mira.", "v1")
        other = agent.ask(UNRELATED, retrieval=False)
        assert (other.answer, other.model_version) == (base.answer, "base")
        folder = agent.versions.active("chat")["adapter_path"]
        assert len(scope.load(folder)) == len(FACTS)
        teach(agent, MORE)
        second = agent.learn()
        assert second.promoted, second.reason
        # A version's scope keeps its parent's: the first cycle's facts are still its to answer.
        assert agent.ask("Where is HQ?", retrieval=False).model_version == "v2"
        assert len(scope.load(agent.versions.active("chat")["adapter_path"])) == len(FACTS) + len(MORE)


def test_a_scope_of_0_lets_the_adapter_answer_everything(tiny_workspace):
    with Agent.open(workspace_with_scope(tiny_workspace, 0)) as agent:
        teach(agent, FACTS)
        assert agent.learn().promoted
        assert agent.ask(UNRELATED, retrieval=False).model_version == "v1"

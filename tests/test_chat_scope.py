"""A chat adapter answers the questions in its scope; the base model answers the rest, when
served and when the gate assesses a candidate (plugins/chat/scope.py)."""

import numpy as np

from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app
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
        folder = agent.active_version("chat")["adapter_path"]
        assert len(scope.load(folder)) == len(FACTS)
        teach(agent, MORE)
        second = agent.learn()
        assert second.promoted, second.reason
        # A version's scope keeps its parent's: the first cycle's facts are still its to answer.
        assert agent.ask("Where is HQ?", retrieval=False).model_version == "v2"
        assert len(scope.load(agent.active_version("chat")["adapter_path"])) == len(FACTS) + len(MORE)


def test_the_scope_is_kept_by_the_task_not_set_on_the_torch_model(tiny_workspace, tmp_path):
    with Agent.open(workspace_with_scope(tiny_workspace, 0.9999)) as agent:
        task = agent.task("chat")
        model = task.train([{"input": q, "target": a} for q, a in FACTS], None)
        assert [k for k in vars(model) if k.startswith("lifelong")] == []
        task.save_adapter(model, tmp_path)
        assert len(scope.load(tmp_path)) == len(FACTS)


def test_a_scope_of_0_lets_the_adapter_answer_everything(tiny_workspace):
    with Agent.open(workspace_with_scope(tiny_workspace, 0)) as agent:
        teach(agent, FACTS)
        assert agent.learn().promoted
        assert agent.ask(UNRELATED, retrieval=False).model_version == "v1"


def rate(agent, rated):
    """Users rated answers the agent gave: +1 or -1 each."""
    for question, answer, rating in rated:
        interaction = agent._log.log_interaction(task="chat", input=question, output=answer, model_version="base")
        agent.feedback(interaction, rating=rating)


RATED = [("Who is the CEO?", "In short: Mira.", 1), ("Who is the CEO?", "MIRA!!!", -1),
         ("Where is HQ?", "In short: Oslo.", 1)]


def test_an_adapter_taught_by_ratings_answers_every_question_asked_without_sources(tiny_workspace):
    """A rating judges how the agent answers: the adapter serves unrelated questions too, once
    it keeps the behaviour probe (the tiny model answers none of it right, with or without)."""
    with Agent.open(workspace_with_scope(tiny_workspace, 0.9999)) as agent:
        agent.config.learning.objective = "kto"
        rate(agent, RATED)
        report = agent.learn()
        assert report.promoted, report.reason
        assert (report.metrics["answers_every_question"], report.metrics["every_question_lost"]) == (True, [])
        folder = agent.active_version("chat")["adapter_path"]
        assert scope.answers_every_question(folder)
        assert agent.ask(UNRELATED, retrieval=False).model_version == "v1"
        # Asked with sources, the adapter keeps the scope of what it was taught.
        task = agent.task("chat")
        assert task.in_scope(folder, [UNRELATED], with_sources=True).tolist() == [False]
        assert list(task.in_scope(folder, ["Who is the CEO?"], with_sources=True)) == [True]


def test_corrections_and_imports_keep_the_adapter_to_its_scope(tiny_workspace):
    with Agent.open(workspace_with_scope(tiny_workspace, 0.9999)) as agent:
        teach(agent, FACTS)
        report = agent.learn()
        assert report.promoted and "answers_every_question" not in report.metrics
        assert not scope.answers_every_question(agent.active_version("chat")["adapter_path"])
        assert agent.ask(UNRELATED, retrieval=False).model_version == "base"


def test_a_rated_adapter_that_loses_general_questions_keeps_its_scope(tiny_workspace, monkeypatch):
    """The probe is replaced by two questions the parent answers right (taught facts); ratings
    that teach other answers to those very questions lose them."""
    from lifelong.plugins.chat import assessing, teaching

    with Agent.open(workspace_with_scope(tiny_workspace, 0.9999)) as agent:
        teach(agent, FACTS)
        assert agent.learn().promoted
        probe = [{"question": "Who is the CEO?", "answers": ["Mira"]}, {"question": "Where is HQ?", "answers": ["Oslo"]}]
        for module in (assessing, teaching):
            monkeypatch.setattr(module, "probe_questions", lambda: probe)
        rate(agent, [("Who is the CEO?", "In short: Juno.", 1), ("Where is HQ?", "In short: Bergen.", 1)])
        learned = CliRunner().invoke(build_app(), ["--workspace", str(tiny_workspace), "learn"])
        assert learned.exit_code == 0, learned.output
        assert "the adapter keeps to the questions it was taught: on every question it lost" in " ".join(learned.output.split())
        run = agent._runs.list("chat")[-1]
        # The gate's probe (as served: these questions are in the taught scope) saw them lost too.
        assert run["metrics"]["behaviour_right"] < run["metrics"]["behaviour_right_before"] == 2
        assert run["metrics"]["answers_every_question"] is False
        assert run["metrics"]["every_question_lost"] and \
            set(run["metrics"]["every_question_lost"]) <= {"Where is HQ?", "Who is the CEO?"}
        assert not scope.answers_every_question(agent._versions.by_id(run["version_id"])["adapter_path"])

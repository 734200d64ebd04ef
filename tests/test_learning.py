import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelong import Agent, InputError, LifelongError, NotFoundError
from lifelong.cli import build_app
from lifelong.core.jobs import JobProgress, LearningCancelled
from lifelong.core.learner import REFUSED_ADAPTERS_KEPT, Learner, earlier_cycles_checked
from lifelong.learning.metrics import summarize
from lifelong.memory.db import write_transaction
from lifelong.web.charts import accuracy_heatmap

FACTS = [("Who is the CEO?", "Mira."), ("What colour is the logo?", "Teal."), ("Where is HQ?", "Oslo.")]
MORE = [("What is the motto?", "Onward."), ("Who is the CTO?", "Juno.")]


def teach(agent, facts):
    return agent.import_examples("chat", [{"text": q, "label": a} for q, a in facts])


def recall(agent, facts):
    return sum(agent.ask(q, retrieval=False).answer == a for q, a in facts)


@pytest.fixture
def learner(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        yield agent


def test_a_job_cancelled_while_the_gate_assesses_promotes_nothing(learner):
    class CancelledDuringAssessment(JobProgress):
        def add_task(self, description, total=None, **_):
            step = super().add_task(description, total)
            if description.startswith("assessing"):
                self.cancelled.set()  # as DELETE /v1/learn/{id} does, once training is over
            return step

    teach(learner, FACTS)
    with pytest.raises(LearningCancelled):
        learner.learn(progress=CancelledDuringAssessment(threading.Event()))
    assert learner.active_version("chat") is None
    assert [r["status"] for r in learner.learning_runs()] == ["cancelled"]
    assert len(learner.pending_examples("chat")) == len(FACTS)  # the next run learns them


def test_cycle_teaches_facts_and_promotes(learner):
    assert recall(learner, FACTS) == 0
    teach(learner, FACTS)
    report = learner.learn()
    assert report.promoted and report.cycle == 1 and report.new_examples == 3
    assert report.metrics["row"] == [1.0] and report.metrics["before"] == [0.0]
    assert learner.active_version("chat")["number"] == report.version
    assert recall(learner, FACTS) == 3
    assert learner.ask("Who is the CEO?", retrieval=False).model_version == f"v{report.version}"
    adapter = Path(learner.active_version("chat")["adapter_path"])
    assert (adapter / "adapter_model.safetensors").exists() and not list(adapter.glob("*.bin"))
    assert learner.pending_examples("chat") == []


def test_second_cycle_replays_and_keeps_first(learner, monkeypatch):
    teach(learner, FACTS)
    learner.learn()
    teach(learner, MORE)
    chat, trained = type(learner.task("chat")), []
    train = chat.train
    monkeypatch.setattr(chat, "train", lambda self, examples, *a, **k: trained.extend(examples) or train(self, examples, *a, **k))
    report = learner.learn(strategy="replay")
    assert report.promoted and report.replayed_examples == 3  # replay_ratio 1.5 x 2 new
    # The task is told which examples an earlier cycle learned (ChatTask trains them under fewer rewordings).
    assert sorted((e["input"], e["replayed"]) for e in trained) == sorted([(q, True) for q, _ in FACTS] + [(q, False) for q, _ in MORE])
    assert len(report.metrics["row"]) == 2 and report.metrics["bwt"] is not None
    assert recall(learner, FACTS + MORE) >= 4
    versions = learner.versions("chat")
    assert [v["status"] for v in versions] == ["retired", "active"] and versions[1]["parent_id"] == versions[0]["id"]


def test_gate_rejects_a_candidate_that_learned_nothing(learner):
    learner.task("chat").settings.epochs = 1
    teach(learner, FACTS)
    report = learner.learn()
    assert not report.promoted and "no gain" in report.reason
    assert learner.active_version("chat") is None
    assert learner.version(report.version)["status"] == "rejected"
    assert len(learner.pending_examples("chat")) == 3  # kept for the next run
    assert learner.ask("Who is the CEO?", retrieval=False).model_version == "base"


def test_no_new_examples(learner):
    with pytest.raises(InputError, match="no new examples"):
        learner.learn()


def test_runs_of_a_task_never_overlap(learner):
    import fcntl

    teach(learner, FACTS)
    with open(learner.workspace.path / ".learn-chat.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(LifelongError, match="already going on"):
            learner.learn()


def test_strategies_plan(learner):
    teach(learner, FACTS)
    learner.learn(strategy="naive")
    teach(learner, MORE)
    joint = learner.learn(strategy="joint")
    assert joint.replayed_examples == 3 and joint.new_examples == 2


def test_ewc_stores_importance_and_penalises(learner):
    teach(learner, FACTS)
    first = learner.learn(strategy="ewc")
    adapter = Path(learner.version(first.version)["adapter_path"])
    assert (adapter / "ewc.safetensors").exists()
    from lifelong.plugins.strategies import EWC

    plan = EWC(learner, learner.task("chat"), None).plan([], str(adapter), None)
    model = learner.task("chat").train([{"input": "x?", "target": "y."}], str(adapter))
    assert plan.penalty(model).item() > 0


@pytest.mark.parametrize("method", ["adalora", "prefix"])
def test_other_peft_methods_train_and_serve(learner, method):
    learner.task("chat").settings.peft = method
    learner.config.learning.gate = False
    teach(learner, FACTS)
    report = learner.learn()
    assert report.promoted
    assert learner.ask("Who is the CEO?", retrieval=False).model_version == f"v{report.version}"


def test_metrics_summary():
    matrix = [[0.9], [0.7, 0.8], [0.5, 0.6, 1.0]]
    result = summarize(matrix)
    assert result["acc"] == pytest.approx(0.7)
    assert result["bwt"] == pytest.approx(((0.5 - 0.9) + (0.6 - 0.8)) / 2)
    assert result["forgetting"] == pytest.approx(((0.9 - 0.5) + (0.8 - 0.6)) / 2)


def test_metrics_summary_leaves_out_cycles_a_run_did_not_check():
    matrix = [[0.9], [0.7, 0.8], [None, 0.6, 1.0]]
    result = summarize(matrix)
    assert result["acc"] == pytest.approx(0.8)
    assert result["bwt"] == pytest.approx(0.6 - 0.8)
    assert result["forgetting"] == pytest.approx(0.8 - 0.6)


def test_the_gate_checks_the_latest_earlier_cycle_and_the_older_ones_in_turn():
    assert earlier_cycles_checked(4, 0) == [1, 2, 3] and earlier_cycles_checked(4, 3) == [1, 2, 3]
    last_checked = {}
    for cycle in range(6, 300):
        checked = earlier_cycles_checked(cycle, 4)
        assert len(set(checked)) == 4 and checked[-1] == cycle - 1 and all(0 < c < cycle for c in checked)
        for c in checked:
            if c in last_checked and cycle > 60:  # past the first sweeps: within a sweep's length
                assert cycle - last_checked[c] <= (cycle - 2) / 3 + 2
            last_checked[c] = cycle
    assert set(last_checked) == set(range(1, 299))


def test_a_chat_run_checks_only_the_earlier_cycles_its_task_bounds(learner):
    learner.task("chat").settings.gate_earlier_cycles = 1
    learner.config.learning.gate = False  # the row is what is asserted, not the verdict
    for fact in FACTS:
        teach(learner, [fact])
        report = learner.learn()
    assert report.cycle == 3
    assert report.metrics["row"][0] is None and report.metrics["before"][0] is None
    assert None not in report.metrics["row"][1:]
    result = CliRunner().invoke(build_app(), ["-w", str(learner.workspace.path), "report", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)[-1]["metrics"]["row"][0] is None, result.output
    assert "<rect" in accuracy_heatmap(learner.learning_runs("chat"))


def test_import_is_all_or_nothing(learner):
    with pytest.raises(InputError, match="row 2: missing column 'label'"):
        learner.import_examples("chat", [{"text": "a", "label": "b"}, {"text": "c"}])
    with pytest.raises(InputError, match="row 1: 'label' is empty"):
        learner.import_examples("chat", [{"text": "a", "label": " "}])
    with pytest.raises(InputError, match="must be a string"):
        learner.import_examples("chat", [{"text": "a", "label": 3}])
    with pytest.raises(NotFoundError, match="unknown task"):
        learner.import_examples("nope", [{"text": "a", "label": "b"}])
    assert learner._db["examples"].count == 0


def test_cli_learning_commands(learning_workspace, tmp_path):
    runner, app, w = CliRunner(), build_app(), ["-w", str(learning_workspace)]
    data = tmp_path / "facts.jsonl"
    data.write_text("".join(json.dumps({"text": q, "label": a}) + "\n" for q, a in FACTS))
    assert runner.invoke(app, [*w, "examples", "import", str(data), "--task", "chat"]).exit_code == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("text,other\nhello,1\n")
    result = runner.invoke(app, [*w, "examples", "import", str(bad), "--task", "chat"])
    assert result.exit_code == 1 and "missing column 'label'" in result.output
    listed = json.loads(runner.invoke(app, [*w, "examples", "--json"]).output)
    assert len(listed) == 3
    learned = runner.invoke(app, [*w, "learn", "--json"])
    assert learned.exit_code == 0, learned.output
    report = json.loads(learned.output)
    assert set(report) >= {"run", "strategy", "new", "replayed", "metrics", "status", "version", "seconds"}
    assert report["status"] == "promoted"
    versions = json.loads(runner.invoke(app, [*w, "versions", "--json"]).output)
    assert versions[0]["status"] == "active"
    assert "base model" in runner.invoke(app, [*w, "rollback"]).output
    assert runner.invoke(app, [*w, "rollback"]).exit_code == 1
    assert "now active" in runner.invoke(app, [*w, "promote", str(report["version"])]).output
    assert runner.invoke(app, [*w, "promote", "99"]).exit_code == 1
    plot = tmp_path / "history.png"
    shown = runner.invoke(app, [*w, "report", "--json", "--plot", str(plot)])
    assert shown.exit_code == 0 and json.loads(shown.stdout)[0]["status"] == "promoted"
    assert plot.read_bytes()[:4] == b"\x89PNG"
    again = runner.invoke(app, [*w, "learn"])
    assert again.exit_code == 1 and "no new examples" in again.output


KILLER = """
import os, signal, threading
from lifelong import hookimpl

@hookimpl
def before_learn():
    delay = float(os.environ["KILL_AFTER"])
    threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGKILL)).start()
"""


@pytest.mark.parametrize("delay", [0.0, 0.5, 1.2, 2.0])
def test_kill_9_keeps_previous_adapter_serving(learning_workspace, tmp_path, delay):
    from conftest import TINY_CONFIG, TINY_LEARNING

    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        first = agent.learn()
    (tmp_path / "killer.py").write_text(textwrap.dedent(KILLER))
    # Epochs enough that the run is still training when the kill comes, on any machine.
    config = TINY_CONFIG + TINY_LEARNING.replace("epochs = 300", "epochs = 100000")
    (learning_workspace / "lifelong.toml").write_text(config)
    with Agent.open(learning_workspace) as agent:
        teach(agent, MORE)
    env = {**os.environ, "KILL_AFTER": str(delay), "LIFELONG_LOAD_PLUGINS": os.environ["LIFELONG_LOAD_PLUGINS"] + ",killer",
           "LIFELONG_PLUGINS": str(tmp_path / "killer.py"),
           "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.run([sys.executable, "-m", "lifelong", "-w", str(learning_workspace), "learn"], env=env,
                          capture_output=True, text=True, timeout=300)
    (learning_workspace / "lifelong.toml").write_text(TINY_CONFIG + TINY_LEARNING)
    with Agent.open(learning_workspace) as agent:
        assert proc.returncode == -9, proc.stderr  # killed, not finished
        assert agent.active_version("chat")["number"] == first.version
        assert recall(agent, FACTS) == 3
        report = agent.learn()
        assert report.promoted
        assert recall(agent, FACTS) >= 2
        assert agent._db["learning_runs"].count_where("status = 'running'") == 0


def test_background_learning_does_not_block_ask(learning_workspace, monkeypatch):
    """An ask completes while a background run is held in progress (by tests/learning_gate.py)."""
    import threading

    import learning_gate
    from conftest import TINY_CONFIG, TINY_LEARNING

    (learning_workspace / "lifelong.toml").write_text(TINY_CONFIG.replace('["fakes"]', '["fakes", "learning_gate"]') + TINY_LEARNING)
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ["LIFELONG_LOAD_PLUGINS"] + ",learning_gate")
    learning_gate.started.clear()
    learning_gate.release.clear()
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        handle = agent.learn_in_background(every=0.1, min_new=3)
        try:
            assert learning_gate.started.wait(120), "the background run did not start"
            replies = []
            asking = threading.Thread(target=lambda: replies.append(agent.ask("Who is the CEO?", retrieval=False)))
            asking.start()
            asking.join(timeout=120)
            assert replies and not handle.reports, "ask waited for the learning run"
            learning_gate.release.set()
            deadline = time.time() + 300
            while not handle.reports and time.time() < deadline:
                time.sleep(0.1)
            assert handle.reports and handle.reports[0].promoted
            assert agent.ask("Who is the CEO?", retrieval=False).answer == "Mira."
        finally:
            learning_gate.release.set()
            handle.stop(timeout=60)


def test_a_run_learns_at_most_max_new_examples_the_oldest_first(learner):
    learner.config.learning.max_new = 2
    teach(learner, FACTS)
    first = learner.learn()
    assert first.new_examples == 2
    assert [e["input"] for e in learner.pending_examples("chat")] == [FACTS[2][0]]  # waits for the next run
    second = learner.learn()
    assert second.new_examples == 1 and learner.pending_examples("chat") == []


def test_a_run_after_a_refused_one_draws_its_replay_afresh(learner, monkeypatch):
    # The same examples from the same parent with the same replay would train the same candidate, refused again.
    replayed, strategy = [], Learner.strategy

    def recording(self, task_obj, name):
        strat = strategy(self, task_obj, name)
        plan = strat.plan

        def recorded(new, parent, rng):
            made = plan(new, parent, rng)
            replayed.append({e["id"] for e in made.examples} - {e["id"] for e in new})
            return made
        strat.plan = recorded
        return strat

    monkeypatch.setattr(Learner, "strategy", recording)
    teach(learner, FACTS + MORE)
    assert learner.learn().promoted
    learner.task("chat").settings.epochs = 1  # learns nothing: refused
    teach(learner, [("What is the slogan?", "Forward.")])
    assert not learner.learn().promoted and not learner.learn().promoted
    first, second = replayed[1:]
    assert first and len(first) == len(second) < 5 and first != second  # each a draw from the 5 kept


def test_examples_a_run_does_not_train_on_do_not_use_up_the_cap(learner):
    learner.config.learning.max_new = 2
    for question, answer in FACTS:  # thumbs-down ratings: the default objective (sft) trains nothing on them
        with write_transaction(learner._db):
            learner._examples.add("chat", question, answer, "rating", "train", None, None, -1)
    teach(learner, MORE)
    report = learner.learn()
    assert report.new_examples == 5 and report.metrics["objectives"] == {"sft": 2}
    assert learner.pending_examples("chat") == []


def test_cli_learn_says_what_still_waits(learning_workspace, tmp_path):
    runner, app, w = CliRunner(), build_app(), ["-w", str(learning_workspace)]
    assert runner.invoke(app, [*w, "config", "set", "learning.max_new", "2"]).exit_code == 0
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
    learned = runner.invoke(app, [*w, "learn"])
    assert learned.exit_code == 0 and "1 example(s) still wait to be learned" in learned.output
    assert "still wait" not in runner.invoke(app, [*w, "learn"]).output


def test_only_the_latest_refused_adapters_are_kept(learner):
    learner.task("chat").settings.epochs = 1  # learns nothing: refused
    teach(learner, FACTS)
    refused = [learner.learn() for _ in range(REFUSED_ADAPTERS_KEPT + 1)]
    assert not any(r.promoted for r in refused)
    oldest, *kept = [learner.version(r.version) for r in refused]
    assert oldest["adapter_path"] is None and "adapter deleted" in oldest["reason"]
    assert not (learner.adapters_dir / "chat" / f"v{refused[0].version}").exists()
    assert all(Path(v["adapter_path"]).is_dir() for v in kept)
    with pytest.raises(InputError, match="cannot be served: it has no adapter"):
        learner.promote(refused[0].version)
    assert learner.promote(refused[-1].version)["status"] == "active"  # a kept one can still be served by hand

import json

import pytest
from typer.testing import CliRunner

from lifelong import Agent, ConfigError, InputError, NotFoundError
from lifelong.cli import build_app
from lifelong.learning.evaluation import classification_report

GREET = ["hello there", "hello friend", "hello again", "hello everyone", "hello you", "hello world"]
BYE = ["goodbye now", "goodbye friend", "goodbye again", "goodbye everyone", "goodbye you", "goodbye world"]
THANKS = ["thanks a lot", "thanks friend", "thanks again", "thanks everyone", "thanks you", "thanks world"]
OPTIONS = {"epochs": 40, "learning_rate": 0.003, "batch_size": 8}


def rows(texts, label):
    return [{"text": t, "label": label} for t in texts]


@pytest.fixture
def intent(agent):
    agent.config.learning.holdout_fraction = 0.0
    agent.add_task("intent", plugin="classify", **OPTIONS)
    return agent


def test_add_task_validates_and_persists(agent, tiny_workspace):
    with pytest.raises(ConfigError, match="threshold"):
        agent.add_task("intent", plugin="classify", threshold=2)
    with pytest.raises(ConfigError, match="unknown key tasks.intent.colour"):
        agent.add_task("intent", plugin="classify", colour="red")
    with pytest.raises(NotFoundError, match="unknown task"):
        agent.add_task("intent", plugin="nope")
    assert "intent" not in Agent.open(tiny_workspace).tasks()
    agent.add_task("intent", plugin="classify", threshold=0.4)
    assert Agent.open(tiny_workspace).tasks()["intent"] == {"plugin": "classify", "threshold": 0.4}
    with pytest.raises(InputError, match="exists already"):
        agent.add_task("intent", plugin="classify")


def test_ask_before_learning_is_a_clear_error(intent):
    with pytest.raises(InputError, match="has not learned any label"):
        intent.ask("hello", task="intent")


def test_learns_labels_and_grows_for_new_ones(intent):
    intent.import_examples("intent", rows(GREET, "greet") + rows(BYE, "bye"))
    first = intent.learn(task="intent")
    assert first.promoted and first.metrics["row"][0] >= 0.9
    reply = intent.ask("hello friend", task="intent")
    assert reply.answer == "greet" and 0 < reply.confidence <= 1
    assert reply.model_version == f"v{first.version}"
    intent.import_examples("intent", rows(THANKS, "thanks"))
    intent.config.learning.replay_ratio = 2.0  # all 12 kept examples next to the 6 new ones
    second = intent.learn(task="intent", strategy="replay")
    assert second.promoted, second.reason
    assert [intent.ask(t, task="intent").answer for t in ("hello world", "goodbye now", "thanks again")] == ["greet", "bye", "thanks"]
    report = intent.evaluate("intent", rows(GREET, "greet") + rows(BYE, "bye") + rows(THANKS, "thanks"))
    assert report["accuracy"] >= 0.9 and report["macro_f1"] >= 0.9 and set(report["per_label"]) == {"greet", "bye", "thanks"}


def test_threshold_gives_out_of_scope_and_corrections_teach_labels(intent):
    intent.import_examples("intent", rows(GREET, "greet") + rows(BYE, "bye"))
    intent.learn(task="intent")
    intent.task("intent").settings.threshold = 0.999
    reply = intent.ask("zzz qqq", task="intent")
    assert reply.answer == "oos"
    record = intent.feedback(reply.id, correction="greet")
    example = intent.db["examples"].get(record["example_id"])
    assert (example["input"], example["target"], example["task"]) == ("zzz qqq", "greet", "intent")


def test_classification_report():
    report = classification_report(["a", "a", "b", "oos"], ["a", "b", "b", "a"], out_of_scope="oos")
    assert report["accuracy"] == 0.5
    assert report["per_label"]["a"]["recall"] == 0.5 and report["per_label"]["b"]["precision"] == 0.5
    assert report["out_of_scope_recall"] == 0.0
    assert {"gold": "a", "predicted": "b", "count": 1} in report["confusions"]


def test_cli_tasks_and_eval(tiny_workspace, tmp_path):
    runner, app, w = CliRunner(), build_app(), ["-w", str(tiny_workspace)]
    added = runner.invoke(app, [*w, "tasks", "add", "intent", "--plugin", "classify",
                                *[f"-o{k}={v}" for k, v in OPTIONS.items()], "-o", "threshold=0.2"])
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(app, [*w, "tasks", "--json"]).output)
    intent = next(t for t in listed if t["task"] == "intent")
    assert intent["options"]["threshold"] == 0.2 and intent["options"]["epochs"] == 40
    assert (intent["plugin"], intent["active"], intent["pending"]) == ("classify", None, 0)
    data = tmp_path / "train.csv"
    data.write_text("text,label\n" + "".join(f"{t},greet\n" for t in GREET) + "".join(f"{t},bye\n" for t in BYE))
    assert runner.invoke(app, [*w, "examples", "import", str(data), "--task", "intent"]).exit_code == 0
    assert runner.invoke(app, [*w, "learn", "--task", "intent"]).exit_code == 0
    result = runner.invoke(app, [*w, "eval", str(data), "--task", "intent", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["accuracy"] >= 0.9
    asked = json.loads(runner.invoke(app, [*w, "ask", "hello you", "--task", "intent", "--json"]).output)
    assert asked["answer"] == "greet" and "confidence" in asked
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "label": 3}\n')
    failed = runner.invoke(app, [*w, "eval", str(bad), "--task", "intent"])
    assert failed.exit_code == 1 and "must be a string" in failed.output
    unknown = runner.invoke(app, [*w, "eval", str(data), "--task", "nope"])
    assert unknown.exit_code == 1 and "unknown task" in unknown.output
    bad_option = runner.invoke(app, [*w, "tasks", "add", "x", "--plugin", "classify", "-o", "nonsense"])
    assert bad_option.exit_code == 1 and "KEY=VALUE" in bad_option.output

"""Each example runs end to end (on the tiny models here; on the bundled ones by default)."""

import importlib.util
import runpy
import sys
from pathlib import Path

from lifelong import Agent
from lifelong.core.task import Reply

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem + "_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_customer_support(learning_workspace, capsys):
    report = load(EXAMPLES / "customer_support" / "run.py").main(learning_workspace)
    out = capsys.readouterr().out
    assert "source: shipping.md" in out or "source: hours.md" in out
    assert "The CEO is Mira Okafor." in out  # the correction answers at once
    assert report.new_examples == 4 and report.version is not None


def test_financial_sentiment(learning_workspace, monkeypatch, capsys):
    import os

    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", os.environ.get("LIFELONG_LOAD_PLUGINS", "") + ",alert_plugin")
    monkeypatch.setenv("LIFELONG_PLUGINS", "")  # restored after the test: the example adds its plugin file
    module = load(EXAMPLES / "financial_sentiment" / "run.py")
    alerts = module.main(learning_workspace)
    out = capsys.readouterr().out
    assert out.count("headlines learned") == 3 and "monitoring new headlines" in out
    # The alerts raised are exactly those the logged answers call for.
    replayed = load(EXAMPLES / "financial_sentiment" / "alert_plugin.py")
    with Agent.open(learning_workspace) as agent:
        for row in reversed(agent._log.recent(100, task="sentiment")):
            if row["status"] == "ok":  # after_ask sees answered questions only
                replayed.after_ask("sentiment", Reply(row["id"], row["output"]))
    assert alerts == replayed.alerts


def test_alert_fires_when_negative_headlines_jump(capsys):
    plugin = load(EXAMPLES / "financial_sentiment" / "alert_plugin.py")
    for interaction_id, answer in enumerate(["positive"] * 5 + ["negative"] * 5, 1):
        plugin.after_ask("sentiment", Reply(interaction_id, answer))
    assert plugin.alerts == [{"interaction_id": 10, "negative_share": 1.0, "previous_share": 0.0}]
    assert "ALERT: negative headlines at 100% of the last 5, up from 0%" in capsys.readouterr().out


def test_embedded_agent(learning_workspace, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["embedded_agent.py", str(learning_workspace)])
    runpy.run_path(str(EXAMPLES / "embedded_agent.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Unworn items can be returned within 45 days." in out

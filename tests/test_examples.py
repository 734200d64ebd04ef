"""Each example runs end to end (on the tiny models here; on the bundled ones by default)."""

import importlib.util
import runpy
import sys
from pathlib import Path

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
    module = load(EXAMPLES / "financial_sentiment" / "run.py")
    alerts = module.main(learning_workspace)
    out = capsys.readouterr().out
    assert out.count("headlines learned") == 3 and "monitoring new headlines" in out
    # stream.jsonl turns negative halfway through: the jump must raise exactly that alert.
    assert len(alerts) >= 1 and alerts[0]["negative_share"] - alerts[0]["previous_share"] >= 0.4, alerts


def test_embedded_agent(learning_workspace, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["embedded_agent.py", str(learning_workspace)])
    runpy.run_path(str(EXAMPLES / "embedded_agent.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "Unworn items can be returned within 45 days." in out

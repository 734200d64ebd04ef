"""Loads the plugin through its entry point without pip: a dist-info folder on sys.path is
exactly what an install leaves behind."""

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelong.cli import build_app
from lifelong.core.plugins import PluginHost
from lifelong.testing import TaskTests

TEMPLATE = Path(__file__).resolve().parents[1]


def install_free(tmp_path, monkeypatch):
    dist = tmp_path / "lifelong_canned_answers-0.1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: lifelong-canned-answers\nVersion: 0.1.0\n")
    (dist / "entry_points.txt").write_text("[lifelong]\ncanned_answers = lifelong_canned_answers\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(TEMPLATE))
    # Only this plugin: the built-in before_ask implementations need a real agent.
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", "canned_answers")


def test_loads_through_entry_point(tmp_path, monkeypatch):
    install_free(tmp_path, monkeypatch)
    host = PluginHost()
    info = host.info["canned_answers"]
    assert info.source == "entry point (lifelong-canned-answers 0.1.0)"
    assert "before_ask" in info.hooks
    answer = host.hook.before_ask(agent=None, task="chat", text="What are your opening hours?")
    assert answer.startswith("We are open")
    assert host.hook.before_ask(agent=None, task="chat", text="Something else") is None


def test_adds_cli_command(tmp_path, monkeypatch):
    install_free(tmp_path, monkeypatch)
    result = CliRunner().invoke(build_app(), ["-w", str(tmp_path / "ws"), "canned"])
    assert result.exit_code == 0, result.output
    assert "opening hours" in result.output
    sys.modules.pop("lifelong_canned_answers", None)


class TestCannedTask(TaskTests):
    """lifelong's conformance kit: the task behaves as the agent relies on."""

    plugins = ["canned_answers"]
    task_plugin = "canned"
    examples = [("What are your opening hours?", "We are open 9:00-17:00, Monday to Friday.")]

    @pytest.fixture(autouse=True)
    def installed(self, tmp_path, monkeypatch):
        install_free(tmp_path, monkeypatch)
        yield
        sys.modules.pop("lifelong_canned_answers", None)

    def test_answers_from_the_table(self, task):
        assert task.answer("what are your opening hours?", []).text == self.examples[0][1]

import json

from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app

runner = CliRunner()


def invoke(workspace, *args):
    return runner.invoke(build_app(), ["-w", str(workspace), *args])


def test_help_lists_commands():
    result = runner.invoke(build_app(), ["--help"])
    assert result.exit_code == 0
    for command in ("init", "plugins", "logs", "config"):
        assert command in result.output


def test_init_creates_workspace(workspace):
    result = invoke(workspace, "init")
    assert result.exit_code == 0
    assert (workspace / "lifelong.toml").exists() and (workspace / "lifelong.db").exists()


def test_workspace_from_environment(workspace):
    assert runner.invoke(build_app(), ["init"]).exit_code == 0
    assert (workspace / "lifelong.db").exists()


def test_logs_json_and_show(workspace):
    agent = Agent.open(workspace)
    ids = [agent._log.log_interaction(task="chat", input=f"q{i}", output="a") for i in range(3)]
    result = invoke(workspace, "logs", "-n", "2", "--json")
    assert result.exit_code == 0
    assert [r["id"] for r in json.loads(result.output)] == ids[::-1][:2]
    shown = invoke(workspace, "logs", "show", str(ids[0]), "--json")
    assert json.loads(shown.output)["input"] == "q0"


def test_logs_show_unknown_id(workspace):
    result = invoke(workspace, "logs", "show", "999")
    assert result.exit_code == 1
    assert "no interaction with id 999" in result.output


def test_workspace_that_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    result = invoke(target, "init")
    assert result.exit_code == 1 and "is a file" in result.output

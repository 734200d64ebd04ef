"""The CLI details a new user meets while following the README."""

import json

from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app


def invoke(workspace, *args, **kwargs):
    return CliRunner().invoke(build_app(), ["-w", str(workspace), *map(str, args)], **kwargs)


def test_version_and_shell_completion():
    from importlib.metadata import version

    result = CliRunner().invoke(build_app(), ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"lifelong {version('lifelong')}"
    assert "--install-completion" in CliRunner().invoke(build_app(), ["--help"]).output


def test_config_shows_markup_in_values_as_written(workspace):
    result = invoke(workspace, "config")
    assert result.exit_code == 0 and "[n]" in result.output


def test_logs_path_query_and_show_as_json(tiny_workspace):
    with Agent.open(tiny_workspace) as agent:
        agent._log.log_interaction(task="chat", input="Where is HQ?", output="Oslo", sources=[{"document": "a.txt"}])
        agent._log.log_interaction(task="chat", input="Who is the CEO?", output="Mira")
    assert invoke(tiny_workspace, "logs", "path").output.strip() == str(tiny_workspace.resolve() / "lifelong.db")
    found = json.loads(invoke(tiny_workspace, "logs", "-q", "HQ", "--json").stdout)
    assert [r["input"] for r in found] == ["Where is HQ?"]
    shown = invoke(tiny_workspace, "logs", "show", "1").output
    assert 'sources: [{"document": "a.txt"}]' in shown and "{'document'" not in shown


def test_examples_list_and_questions_from_stdin(tiny_workspace):
    with Agent.open(tiny_workspace) as agent:
        agent.add_task("intent", plugin="classify")
        agent.import_examples("intent", [{"text": "cancel my card", "label": "cancel"}])
    listed = json.loads(invoke(tiny_workspace, "examples", "list", "--json").stdout)
    assert [(e["task"], e["target"]) for e in listed] == [("intent", "cancel")]
    asked = invoke(tiny_workspace, "ask", "-", "--no-retrieval", "--json", input="What is 2 + 2?\n")
    assert asked.exit_code == 0, asked.output
    with Agent.open(tiny_workspace) as agent:
        assert agent.interaction(json.loads(asked.stdout)["id"])["input"] == "What is 2 + 2?"


def test_ask_streams_by_default_and_not_with_no_stream(tiny_workspace):
    streamed = invoke(tiny_workspace, "ask", "Who is the CEO?", "--no-retrieval")
    whole = invoke(tiny_workspace, "ask", "Who is the CEO?", "--no-retrieval", "--no-stream")
    assert streamed.exit_code == 0 and whole.exit_code == 0, streamed.output + whole.output
    assert "#1 · base" in streamed.stdout and "#2 · base" in whole.stdout
    with Agent.open(tiny_workspace) as agent:
        first, second = agent.interaction(1), agent.interaction(2)
    assert first["status"] == second["status"] == "ok" and first["output"] == second["output"]

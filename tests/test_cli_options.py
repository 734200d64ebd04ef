"""The options users of llm, Ollama and the OpenAI CLI type first: config get/set, models,
ask -m/-s/-o/-c/--conversation; and help that reads well (an example per command, flags without
a type, no range that only guards against overflow)."""

import json
import shlex

import typer
from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app
from lifelong.cli.help import EXAMPLES
from lifelong.models.generator import Generator


def invoke(workspace, *args):
    return CliRunner().invoke(build_app(), ["-w", str(workspace), *map(str, args)], env={"LIFELONG_NO_SERVER": "1"})


def test_config_set_keeps_the_comments_and_get_reads_it_back(workspace):
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "lifelong.toml").write_text("# my settings\n[retrieval]\ntop_k = 3  # three is plenty\n")
    assert invoke(workspace, "config", "get", "learning.threads").output.strip() == "0"  # the default
    done = invoke(workspace, "config", "set", "learning.threads", "1")
    assert done.exit_code == 0, done.output
    assert invoke(workspace, "config", "set", "generation.system_prompt", "You are terse.").exit_code == 0
    text = (workspace / "lifelong.toml").read_text()
    assert "# my settings" in text and "top_k = 3  # three is plenty" in text
    assert invoke(workspace, "config", "get", "learning.threads").output.strip() == "1"
    assert invoke(workspace, "config", "get", "generation.system_prompt").output.strip() == "You are terse."


def test_config_set_refuses_a_bad_value_or_key_with_one_line_and_leaves_the_file(workspace):
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "lifelong.toml").write_text("[retrieval]\ntop_k = 3\n")
    for args, said in ((["retrieval.top_k", "0"], "retrieval.top_k must be > 0"),
                       (["tasks.chat.epochs", "many"], "tasks.chat.epochs must be of type int"),
                       (["retrieval.topk", "2"], "did you mean retrieval.top_k")):
        refused = invoke(workspace, "config", "set", *args)
        assert refused.exit_code == 1 and said in refused.output and len(refused.output.strip().splitlines()) == 1
        assert (workspace / "lifelong.toml").read_text() == "[retrieval]\ntop_k = 3\n"


def test_models_lists_what_each_task_serves_without_loading_a_model(tiny_workspace):
    listed = json.loads(invoke(tiny_workspace, "models", "--json").output)
    roles = {row["model"]: row for row in listed}
    assert roles["tiny-llm"]["role"] == "generator" and roles["tiny-llm"]["serving"] == "chat: base"
    assert roles["tiny-embedder"]["role"] == "embedder" and roles["tiny-llm"]["from"].startswith("plugin ")


def test_ask_takes_a_system_prompt_generation_settings_and_the_task_as_model(tiny_workspace, monkeypatch):
    seen = []
    real = Generator.generate

    def recorded(self, messages, *args, **kwargs):
        seen.append((messages, args, kwargs))
        return real(self, messages, *args, **kwargs)

    monkeypatch.setattr(Generator, "generate", recorded)
    done = invoke(tiny_workspace, "ask", "hello", "-m", "chat", "-s", "Be brief.", "-o", "max_tokens=3",
                  "-o", "temperature=0.5", "-o", "stop=.", "--no-stream")
    assert done.exit_code == 0, done.output
    messages, args, kwargs = seen[-1]
    assert messages[0] == {"role": "system", "content": "Be brief."}
    assert args[:2] == (3, 0.5) and kwargs["stop"] == (".",)
    for bad, said in ((["-o", "temp=1"], "KEY one of max_tokens"), (["-o", "temperature=9"], "from 0 to 2"),
                      (["-o", "max_tokens=0"], "an integer from 1")):
        refused = invoke(tiny_workspace, "ask", "hello", *bad)
        assert refused.exit_code == 1 and said in refused.output


def test_ask_continues_the_last_conversation_or_a_named_one(tiny_workspace):
    assert invoke(tiny_workspace, "ask", "first question", "--no-stream").exit_code == 0
    assert invoke(tiny_workspace, "ask", "second question", "-c", "--no-stream").exit_code == 0
    assert invoke(tiny_workspace, "ask", "elsewhere", "--no-stream").exit_code == 0
    with Agent.open(tiny_workspace) as agent:
        first, second, other = sorted(agent._log.recent(3), key=lambda r: r["id"])
        assert first["conversation"] == second["conversation"] != other["conversation"]
        conversation = first["conversation"]
    assert invoke(tiny_workspace, "ask", "third question", "--conversation", conversation, "--no-stream").exit_code == 0
    with Agent.open(tiny_workspace) as agent:
        assert [t["input"] for t in agent.turns(conversation)] == ["first question", "second question", "third question"]
    missing = invoke(tiny_workspace, "ask", "x", "--conversation", "nosuch")
    assert missing.exit_code == 1 and "no conversation 'nosuch'" in missing.output


def _commands(command, path=()):
    subs = getattr(command, "commands", None) or {}
    if path:
        yield " ".join(path), command
    for name, sub in subs.items():
        yield from _commands(sub, (*path, name))


def test_every_command_has_an_example_that_parses():
    root = typer.main.get_command(build_app())
    paths = dict(_commands(root))
    assert sorted(set(paths) - set(EXAMPLES)) == [], "commands without an example in lifelong/cli/help.py"
    assert sorted(set(EXAMPLES) - set(paths)) == [], "examples of commands that do not exist"
    for path, example in EXAMPLES.items():
        args = shlex.split(example)[1:]
        if args[0] == "-w":  # the one global option the examples use
            args = args[2:]
        words = path.split()
        assert args[: len(words)] == words, f"{example!r} is not an example of lifelong {path}"
        paths[path].make_context(path, args[len(words):])  # raises on an unknown option or a bad value


def test_help_shows_no_type_for_flags_and_no_overflow_ranges():
    root = typer.main.get_command(build_app())
    for path, _ in [("", root), *_commands(root)]:
        shown = CliRunner().invoke(build_app(), [*path.split(), "--help"], env={"COLUMNS": "120"}).output
        assert "<bool>" not in shown and "9223372036854775807" not in shown, f"lifelong {path} --help"
        if path:
            assert "Example: lifelong" in shown, f"lifelong {path} --help has no example"

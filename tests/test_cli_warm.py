"""The CLI's warm path (cli/warm.py): a running server of the workspace answers ask and takes
feedback; a stale or dead server file is ignored and the command runs in-process."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
import uvicorn
from typer.testing import CliRunner

from lifelong.cli import build_app
from lifelong.cli.warm import SERVER_FILE, announced, running_server
from lifelong.server import create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(tiny_workspace):
    """A server of ``tiny_workspace`` in this process, announced as ``lifelong serve`` does."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(tiny_workspace, token="s3cret"), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    with announced(tiny_workspace, "127.0.0.1", port, "s3cret"):
        yield tiny_workspace
    server.should_exit = True
    thread.join(10)


def cli(workspace, *args, server=True):
    env = {} if server else {"LIFELONG_NO_SERVER": "1"}
    result = CliRunner(env=env).invoke(build_app(), ["-w", str(workspace), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_search_through_the_server_and_in_process_list_the_same_hits(served, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shipping.txt").write_text("We ship to Norway within five business days.\n")
    cli(served, "ingest", str(tmp_path / "docs"), server=False)
    warm = json.loads(cli(served, "search", "Norway shipping", "-k", "2", "--json"))
    cold = json.loads(cli(served, "search", "Norway shipping", "-k", "2", "--json", server=False))
    assert warm == cold and warm[0]["document"].endswith("shipping.txt")


def test_ask_through_the_server_and_in_process_give_the_same_record(served):
    assert running_server(served) is not None
    assert oct((served / SERVER_FILE).stat().st_mode & 0o777) == "0o600"  # it holds the token
    question = "What is the capital of France?"
    warm = json.loads(cli(served, "ask", question, "--no-retrieval", "--json"))
    cold = json.loads(cli(served, "ask", question, "--no-retrieval", "--json", server=False))
    assert set(warm) == set(cold) and warm["answer"] == cold["answer"] and warm["answered_by"] == cold["answered_by"]
    assert warm["id"] + 1 == cold["id"]  # both logged in the workspace, one after the other
    plain = cli(served, "ask", question, "--no-retrieval")
    assert plain.splitlines()[0] == warm["answer"] and "answered by" in plain


def test_feedback_through_the_server_reaches_its_correction_memory_at_once(served):
    asked = json.loads(cli(served, "ask", "Who is the CEO of Acme?", "--no-retrieval", "--json"))
    assert "a training example now" in cli(served, "feedback", str(asked["id"]), "--correct", "Mira Okafor.")
    again = json.loads(cli(served, "ask", "Who is the CEO of Acme?", "--no-retrieval", "--json"))
    assert again["answer"] == "Mira Okafor." and again["answered_by"] == "correction"


def test_a_server_that_refuses_gives_its_one_line_error(served):
    result = CliRunner().invoke(build_app(), ["-w", str(served), "feedback", "999999", "--good"])
    assert result.exit_code != 0 and "999999" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("content", [
    "not json",
    json.dumps({"url": "http://127.0.0.1:9", "token": None, "pid": os.getpid()}),  # alive, nothing listening
    None,  # a process that has exited
])
def test_a_stale_server_file_is_ignored(tiny_workspace, content):
    tiny_workspace.mkdir(parents=True, exist_ok=True)
    if content is None:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        content = json.dumps({"url": f"http://127.0.0.1:{free_port()}", "token": None, "pid": int(dead.stdout)})
    (tiny_workspace / SERVER_FILE).write_text(content)
    assert running_server(tiny_workspace) is None
    reply = json.loads(cli(tiny_workspace, "ask", "hello", "--no-retrieval", "--json"))
    assert reply["id"] == 1


@pytest.mark.parametrize("flags, learned", [
    (["--bad"], "an answer to avoid"), (["--good"], "an answer to give"),
    (["--correct", "Paris."], "the corrected answer"), (["--prefer", "Paris."], "the preferred answer"),
])
def test_feedback_says_what_will_be_learned(tiny_workspace, flags, learned):
    from lifelong import Agent

    with Agent.open(tiny_workspace) as agent:  # an answer to rate (the tiny model's may be empty)
        logged = agent._log.log_interaction(task="chat", input="What is the capital of France?", output="Lyon.",
                                           answered_by="model")
    assert f"a training example now: {learned}" in cli(tiny_workspace, "feedback", str(logged), *flags)

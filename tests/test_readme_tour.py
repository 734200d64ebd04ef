"""The README's 5-minute tour, run as written: every command of its block, in order, on the
bundled models, each checked against what the README's comment says it shows. A command added
to the tour without a check here fails the test."""

import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifelong.cli import build_app

from conftest import ON_BUNDLED_MODELS

pytestmark = ON_BUNDLED_MODELS
ROOT = Path(__file__).resolve().parents[1]
# Interactive or serving until stopped: the tests of chat, serve, ui and review cover them.
NOT_RUN = {"chat", "serve", "ui", "review"}


def tour() -> list[list[str]]:
    """The tour's commands as argument lists, in the README's order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A 5-minute tour\s+```bash\n(.*?)```", readme, re.S).group(1)
    return [words for words in (shlex.split(line, comments=True) for line in block.splitlines()) if words]


def subcommand(words: list[str]) -> str:
    rest = words[1:]
    while rest and rest[0] == "-w":
        rest = rest[2:]
    return rest[0]


def test_the_readme_tour_runs_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copytree(ROOT / "examples" / "customer_support" / "docs", tmp_path / "examples" / "customer_support" / "docs")
    workspace = tmp_path / "workspace"
    monkeypatch.setenv("LIFELONG_WORKSPACE", str(workspace))
    app, runner = build_app(), CliRunner()
    outputs: dict[str, list[str]] = {}

    def run(args: list[str]) -> str:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"lifelong {shlex.join(args)}:\n{result.output}"
        return result.output

    checked = set()
    for words in tour():
        if words[0] == "source":
            continue  # the virtual environment: this test runs inside it
        assert words[0] == "lifelong", words
        name = subcommand(words)
        if name in NOT_RUN:
            continue
        out = run(words[1:])
        outputs.setdefault(name, []).append(out)
        line = shlex.join(words)
        checked.add(line)
        if name == "init":
            assert (workspace / "lifelong.toml").exists()
        elif name == "ingest":
            assert "6 added" in out, out  # the six support documents
        elif name == "search":
            assert "returns.md" in out, out
        elif name == "ask" and "--json" in words:
            reply = json.loads(out)
            assert reply["id"] == 2 and {"answer", "sources"} <= set(reply), reply
        elif name == "ask" and "Norway" in line:
            assert "shipping.md" in out and re.search(r"\[1\]", out), out  # grounded and cited
        elif name == "ask" and "Who runs" in line:
            assert "Mira Okafor" in out and "answered by correction" in out, out  # the correction already
        elif name == "feedback":  # a correction, or a preferred answer: a training example either way
            assert "a training example now" in out, out
        elif name == "learn":
            assert re.search(r"promoted|rejected", out), out
        elif name == "versions":
            assert "v1" in out, out
        elif name == "report":
            assert (tmp_path / "history.png").stat().st_size > 0
        elif name == "rollback":
            assert "now serves the base model" in out, out  # the one cycle's adapter retired
        elif name == "export":
            assert (tmp_path / "ws.tar.gz").stat().st_size > 0
        elif name == "import":
            # "serves the same answers there"
            question = "Who runs Larkspur Outfitters?"
            here = json.loads(run(["ask", question, "--json"]))
            there = json.loads(run(["-w", "elsewhere", "ask", question, "--json"]))
            assert there["answer"] == here["answer"] and there["model_version"] == here["model_version"]
        else:
            pytest.fail(f"the README's tour has a command this test does not check: {line}")
    assert {"init", "ingest", "search", "ask", "feedback", "learn", "versions", "report", "rollback", "export",
            "import"} <= set(outputs)

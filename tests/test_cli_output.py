"""What the CLI prints: listings as JSON objects named like the table's columns, tables that fit
80 columns, progress when stderr is a pipe, no library warnings, and the report's plot."""

import io
import json
import re
import os
import subprocess
import sys
import textwrap

import pytest
from rich.console import Console

from hostile import run_cli
from lifelong import Agent
from lifelong.cli import output

# Every listing command, with the arguments it needs in the hostile workspace (tests/hostile.py).
LISTINGS = [["logs"], ["documents"], ["search", "refunds"], ["versions"], ["report"], ["tasks"], ["examples"],
            ["review", "--list"], ["plugins"]]


@pytest.fixture
def ws(hostile_ws, tmp_path):
    """The hostile workspace (two learning runs of the classify task ``intent``) with a second
    refunds.txt deep in another folder, and an answer for the review queue."""
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "archive" / "refunds.txt"
    deep.parent.mkdir(parents=True)
    deep.write_text("Refunds [n] of sale items are not accepted.")
    assert run_cli(hostile_ws, ["ingest", deep]).exit_code == 0
    with Agent.open(hostile_ws) as agent:
        agent._log.log_interaction(task="chat", input="Is [bold]this[/bold] escaped?", output="It cites nothing",
                                  answered_by="model")
    return hostile_ws


def header(table: str) -> list[str]:
    """The column names of a rich table (the line above the rule under the header)."""
    lines = table.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.strip() and set(line.strip()) <= set("─ "))
    return lines[rule - 1].split()


@pytest.mark.parametrize("command", LISTINGS, ids=lambda c: c[0])
def test_every_listing_is_a_list_of_objects_with_the_table_columns(ws, command):
    table = run_cli(ws, command, env={"COLUMNS": "400"})
    listed = run_cli(ws, [*[a for a in command if a != "--list"], "--json"])
    assert table.exit_code == 0 and listed.exit_code == 0, table.output + listed.output
    rows = json.loads(listed.stdout)
    assert isinstance(rows, list) and rows and all(isinstance(r, dict) for r in rows), rows
    assert len({tuple(r) for r in rows}) == 1, "every row has the same keys"
    columns = header(table.stdout)
    assert columns and set(columns) <= set(rows[0]), (columns, list(rows[0]))


def test_learn_and_report_name_a_run_and_its_version_alike(ws):
    runs = json.loads(run_cli(ws, ["report", "--json"]).stdout)
    with Agent.open(ws) as agent:
        agent.import_examples("intent", [{"text": "bye for now", "label": "bye"}])  # not held out
    learned = run_cli(ws, ["learn", "--task", "intent", "--json"])
    assert learned.exit_code == 0, learned.output
    run = json.loads(learned.stdout)
    assert list(run) == list(runs[0]) and "run" in run and "id" not in run and "run_id" not in run
    assert run == json.loads(run_cli(ws, ["report", "--json"]).stdout)[-1]
    versions = json.loads(run_cli(ws, ["versions", "--json"]).stdout)
    assert run["version"] == versions[-1]["version"] and isinstance(run["version"], int)
    assert f"v{run['version']}" in run_cli(ws, ["versions"], env={"COLUMNS": "80"}).stdout
    tasks = {t["task"]: t for t in json.loads(run_cli(ws, ["tasks", "--json"]).stdout)}
    assert tasks["intent"]["active"] == (run["version"] if run["status"] == "promoted" else runs[-1]["version"])
    # A refused run leaves its example waiting for the next cycle.
    assert tasks["intent"]["pending"] == (0 if run["status"] == "promoted" else 1) and tasks["chat"]["active"] is None


def test_versions_are_numbered_per_task_and_promote_asks_which_task(ws):
    with Agent.open(ws) as agent:
        agent._versions.add("chat", None, None, status="rejected", reason="probe perplexity rose")
    listed = json.loads(run_cli(ws, ["versions", "--json"]).stdout)
    assert sorted((v["task"], v["version"]) for v in listed) == [("chat", 1), ("intent", 1), ("intent", 2)]
    ambiguous = run_cli(ws, ["promote", "1"])
    assert ambiguous.exit_code == 1 and "v1 exists for tasks" in ambiguous.output and "--task" in ambiguous.output
    promoted = run_cli(ws, ["promote", "1", "--task", "intent"])
    assert promoted.exit_code == 0 and "v1 is now active for task intent" in promoted.output
    missing = run_cli(ws, ["promote", "5", "--task", "intent"])
    assert missing.exit_code == 1 and "no version v5 of task 'intent'" in missing.output
    assert json.loads(run_cli(ws, ["ask", "hello there", "--task", "intent", "--json"]).output)["model_version"] == "v1"


@pytest.mark.parametrize("command", [*LISTINGS, ["config"]], ids=lambda c: c[0])
def test_tables_fit_in_80_columns(ws, command):
    result = run_cli(ws, command, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    wide = [line for line in result.stdout.splitlines() if len(line) > 80]
    assert not wide, "\n".join(wide)
    shown = result.stdout
    if command[0] in ("documents", "search"):
        # the shortest suffix that tells the two refunds.txt apart, never the temporary folders
        assert "archive/refunds.txt" in shown and "a-rather-long-folder" not in shown
    if command[0] == "report":
        assert header(shown) == ["run", "task", "cycle", "status", "version", "new", "replayed", "acc", "bwt", "ppl"]
    if command[0] == "review":
        assert "[bold]" in shown and "[/bold]" in shown  # user text is shown as written, not as markup
    if command[0] == "config":
        assert "[n]" in shown


def test_progress_goes_to_stderr_as_lines_when_it_is_not_a_terminal(tiny_workspace, tmp_path):
    (tmp_path / "a.txt").write_text("Larkspur ships to Norway. " * 50)
    result = run_cli(tiny_workspace, ["ingest", tmp_path / "a.txt"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(line.startswith("embedding chunks: ") and "/" in line for line in lines), result.stderr
    assert "\x1b[" not in result.stderr and "1 added" in result.stdout


def test_line_progress_writes_a_line_per_task_start_and_end_and_at_most_one_per_interval(monkeypatch):
    clock = iter(range(0, 1000, 2))  # each step takes 2 s
    monkeypatch.setattr(output.time, "monotonic", lambda: next(clock))
    sink = io.StringIO()
    with output.LineProgress(Console(file=sink, width=200), disable=False) as progress:
        task = progress.add_task("training", total=30)
        for _ in range(30):
            progress.update(task, advance=1)
    lines = sink.getvalue().splitlines()
    # start, every 10 s (5 steps) and the end: 60 s of steps make 7 lines, not 31
    assert lines[0].startswith("training: 0/30") and lines[-1].startswith("training: 30/30")
    assert len(lines) == 1 + 30 * 2 // output.LINE_EVERY, lines


TINY_CLI_CONFIG = textwrap.dedent("""
    [plugins]
    modules = ["lifelong.testing.tiny_models"]
    [models]
    generator = "tiny-llm"
    embedder = "tiny-embedder"
    [tasks.chat]
    plugin = "chat"
    epochs = 2
    paraphrases = 0
    self_distillation = 0.0
""")

PLANTED = """
import logging, warnings
from lifelong import hookimpl

@hookimpl
def before_learn(agent, task, examples):
    # what transformers or peft do: a Python warning, and a warning on their logger
    warnings.warn("planted library warning", UserWarning)
    logging.getLogger("transformers.planted").warning("planted log warning")
"""


def test_no_library_warnings_in_a_real_command(tmp_path):
    """A CLI process that loads, trains and answers with the tiny models (real transformers,
    peft, torch and sentence-transformers code) prints no warning of theirs, nor the two a
    plugin plants the way they do; --verbose shows them."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "planted.py").write_text(PLANTED)
    (ws / "lifelong.toml").write_text(TINY_CLI_CONFIG)
    for name, fact in (("one", "Who is the CEO?"), ("two", "Where is HQ?")):
        (ws / f"{name}.jsonl").write_text(json.dumps({"text": fact, "label": "Mira."}) + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRANSFORMERS_", "HF_HUB_DISABLE", "LIFELONG_"))}
    env["LIFELONG_WORKSPACE"] = str(ws)
    env["LIFELONG_PLUGINS"] = str(ws / "planted.py")
    script = "import sys; from lifelong.cli import main; sys.argv = ['lifelong', *sys.argv[1:]]; main()"

    def cli(*args):
        done = subprocess.run([sys.executable, "-W", "default", "-c", script, *args], env=env, capture_output=True,
                              text=True, timeout=900, cwd=ws)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stderr

    stderr = cli("examples", "import", "one.jsonl", "--task", "chat") + cli("learn") + cli("ask", "Who is the CEO?")
    noisy = [line for line in stderr.splitlines() if "warn" in line.lower() or "planted" in line or "%|" in line]
    assert not noisy, "\n".join(noisy)
    cli("examples", "import", "two.jsonl", "--task", "chat")
    verbose = cli("--verbose", "learn")
    assert "planted library warning" in verbose and "planted log warning" in verbose, verbose[-2000:]


# Every command a user runs on a workspace, in an order that gives each something to show.
EVERY_COMMAND = [
    ["init"], ["config"], ["config", "get", "retrieval.top_k"], ["config", "set", "retrieval.top_k", "3"], ["models"],
    ["plugins"], ["ingest", "docs"], ["search", "Norway"], ["documents"], ["ask", "Do you ship to Norway?"],
    ["ask", "Who is the CEO?", "--no-retrieval"], ["feedback", "2", "--correct", "Mira."], ["examples"], ["tasks"],
    ["learn"], ["versions"], ["report"], ["logs"], ["logs", "show", "1"], ["lineage", "--interaction", "1"],
    ["review", "--list"], ["export", "ws.tar.gz"], ["-w", "elsewhere", "import", "ws.tar.gz"],
    ["forget", "--interaction", "1", "--dry-run"], ["rollback"],
]
RUN_EVERY_COMMAND = """
import json, sys
from lifelong.cli import main
for args in json.loads(sys.argv[1]):
    sys.argv = ["lifelong", *args]
    print("=== " + " ".join(args), file=sys.stderr, flush=True)
    try:
        main()
    except SystemExit:
        pass
"""
# What lifelong itself writes to stderr: its errors and warnings, and progress lines.
OWN_LINE = re.compile(r"^(=== |Error: |warning: )|: \d+/\d+ · ")
NOISY = """
import logging
from lifelong import hookimpl

@hookimpl
def before_ask(agent, task, text):
    # as kernels does under bitsandbytes: a library's logger with no handler of its own
    logging.getLogger("kernels._planted").warning("Skipping publisher trust check (planted)")
"""


def test_no_command_writes_a_line_lifelong_did_not_write(tmp_path):
    """Every command, run as a user runs it (one process, the tiny models' real transformers,
    peft, torch and sentence-transformers code, a plugin whose library logs a warning): each
    line on stderr is lifelong's own."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "lifelong.toml").write_text(TINY_CLI_CONFIG)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "shipping.txt").write_text("We ship to Norway within five business days.\n")
    (tmp_path / "noisy.py").write_text(NOISY)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRANSFORMERS_", "HF_HUB_DISABLE", "LIFELONG_"))}
    env.update(LIFELONG_WORKSPACE=str(ws), LIFELONG_NO_SERVER="1", LIFELONG_PLUGINS=str(tmp_path / "noisy.py"))
    done = subprocess.run([sys.executable, "-W", "default", "-c", RUN_EVERY_COMMAND, json.dumps(EVERY_COMMAND)], env=env,
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    ran = [line[4:] for line in done.stderr.splitlines() if line.startswith("=== ")]
    assert ran == [" ".join(c) for c in EVERY_COMMAND]
    foreign = [line for line in done.stderr.splitlines() if line.strip() and not OWN_LINE.search(line)]
    assert foreign == [], "\n".join(foreign)


def test_report_plot_draws_each_task(ws, tmp_path):
    plot = tmp_path / "history.png"
    result = run_cli(ws, ["report", "--plot", plot])
    assert result.exit_code == 0, result.output
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > height > 200  # one row of three panels for the one task that learned


def test_report_plot_without_matplotlib_names_the_extra(ws, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    result = run_cli(ws, ["report", "--plot", tmp_path / "x.png"])
    assert result.exit_code == 1 and "pip install 'lifelong[plot]'" in result.output
    assert not (tmp_path / "x.png").exists()

"""learn, versions, promote, rollback, report and examples."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from ..core.runs import version_record
from ..errors import InputError
from ..files import not_a_regular_file
from ..validation import MAX_ID
from .output import console, print_json, print_listing, progress as _progress, shorten, version_name, when
from .plot import plot_history


def add_to(app: typer.Typer) -> None:
    app.command("learn")(learn)
    app.command("versions")(versions)
    app.command("promote")(promote)
    app.command("rollback")(rollback)
    app.command("report")(report)
    examples_app = typer.Typer(help="List and import training examples.", invoke_without_command=True)
    examples_app.callback()(examples)
    examples_app.command("list")(list_examples)
    examples_app.command("import")(import_examples)
    app.add_typer(examples_app, name="examples")


def parse_duration(text: str, option: str = "--every") -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        seconds = math.nan
    # Zero would spin, a negative or infinite interval cannot be slept.
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"{option} {text!r} is not a positive duration; use e.g. 30s, 10m or 1h")
    return seconds


def _print_report(report, as_json: bool) -> None:
    run = report.to_dict()
    if as_json:
        print_json(run)
        return
    verdict = "[green]promoted[/green]" if report.promoted else "[red]rejected[/red]"
    console.print(
        f"run {run['run']} · task {escape(run['task'])} · cycle {run['cycle']} · {escape(run['strategy'])}: "
        f"{run['new']} new + {run['replayed']} replayed · {run['seconds']:.0f} s\n"
        f"{version_name(run['version'])} {verdict}: {escape(run['reason'])}"
    )
    m = run["metrics"]
    console.print(f"scores by cycle {_scores(m.get('row'))} (before: {_scores(m.get('before'))})\n"
                  f"ACC {_fmt(run['acc'])} · BWT {_fmt(run['bwt'])}")
    objectives = m.get("objectives") or {}
    if set(objectives) - {"sft"}:  # a run of supervised items alone reads as before
        trained = ", ".join(f"{n} {name}" for name, n in sorted(objectives.items()))
        console.print(f"trained items by objective: {trained}")
    if m.get("preference_pairs"):
        console.print(f"{m['preference_pairs']} preference pairs: chosen ranked first {_fmt(m['preference_accuracy'])} "
                      f"(before {_fmt(m['preference_accuracy_before'])}) · reward accuracy {_fmt(m['reward_accuracy'])}")
    if "answers_every_question" in m:
        lost = m.get("every_question_lost") or []
        console.print("the adapter answers every question asked without sources (rated style)" if m["answers_every_question"]
                      else f"the adapter keeps to the questions it was taught: on every question it lost {len(lost)} "
                           f"behaviour probe question(s) its parent answered right, e.g. {escape(lost[0]) if lost else '-'}")
    if run["ppl"] is not None:
        console.print(f"probe perplexity {_fmt(run['ppl'], 2)} (before {_fmt(m.get('probe_perplexity_before'), 2)}) · "
                      f"behaviour probe {m.get('behaviour_right')} right (before {m.get('behaviour_right_before')})")


def _scores(row) -> str:
    # "-": a cycle this run's gate did not check (Task.gate_earlier_cycles)
    return " ".join("-" if s is None else f"{s:.2f}" for s in row or []) or "none"


def learn(
    ctx: typer.Context,
    task: str = typer.Option("chat", "--task", "-t", help="Task to train."),
    strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="replay, naive, joint or ewc (default: learning.strategy)."),
    watch: bool = typer.Option(False, "--watch", help="Keep running: re-fine-tune whenever enough new examples arrived."),
    every: str = typer.Option("10m", "--every", help="With --watch: how often to look for new examples (30s, 10m, 1h)."),
    min_new: Optional[int] = typer.Option(None, "--min-new", min=1, help="With --watch: new examples needed (default: learning.min_new)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    processes: int = typer.Option(1, "--processes", "-p", help="Train data-parallel in this many processes (one per GPU, or sharing the CPU cores)."),
    accelerate_config: Optional[Path] = typer.Option(None, "--accelerate-config", help="An accelerate config file: DeepSpeed, FSDP or several machines (docs/deployment.md: Scaling out)."),
    join: bool = typer.Option(False, "--join", help="On a machine other than machine 0: train this machine's share of the run machine 0 starts (with --accelerate-config)."),
    wait: str = typer.Option("10m", "--wait", help="With --join: how long to wait for machine 0 to start the run (30s, 10m, 1h)."),
):
    """Run one learning cycle on the new examples plus replay; promote the candidate only if it
    passes the evaluation gate."""
    agent = ctx.obj.agent
    if join:
        if watch or processes != 1:
            raise InputError("--join takes its processes from --accelerate-config, and joins one run: leave out --watch and --processes")
        if accelerate_config is None:
            raise InputError("--join needs --accelerate-config FILE: this machine's machine_rank, num_machines and machine 0's address")
        console.print(f"waiting for machine 0 to start a learning run of task {task}")
        run_id = agent.join_learning(accelerate_config, task, parse_duration(wait, "--wait"))
        console.print(f"run {run_id}: this machine's share is trained; machine 0 gates and records it")
        return
    if not watch:
        with _progress(not as_json) as progress:
            _print_report(agent.learn(task, strategy, progress=progress, processes=processes,
                                      accelerate_config=accelerate_config), as_json)
        waiting = len(agent.pending_examples(task))
        if waiting and not as_json:
            console.print(f"{waiting} example(s) still wait to be learned (a refused run's, or more than "
                          "learning.max_new): run lifelong learn again")
        return
    if processes != 1 or accelerate_config is not None:
        raise InputError("--processes and --accelerate-config apply to one run, not to --watch")
    interval = parse_duration(every)
    handle = agent.learn_in_background(task, interval, min_new, strategy, on_report=lambda r: _print_report(r, as_json))
    console.print(f"watching task {task}: learning when {handle.min_new} new examples are waiting, checking every {every}")
    try:
        handle.wait()
    except KeyboardInterrupt:
        # A run in progress ends with the process; the next run records it as interrupted.
        pass


def versions(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List model versions (adapters) and their status."""
    ctx.obj.agent.check_task_name(task)
    rows = [version_record(r) for r in ctx.obj.agent.versions(task)]
    print_listing(rows, ["version", "task", "status", "parent", "created_at", "reason"], as_json,
                  {"version": version_name, "parent": version_name, "created_at": when, "reason": lambda r: shorten(r, 80)})


def promote(
    ctx: typer.Context,
    version: int = typer.Argument(..., help="The version's number within its task: 3 for v3 (see 'lifelong versions')."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="The task whose version it is; needed when several tasks have one of that number."),
):
    """Make a version the active one of its task, whatever the gate said."""
    row = ctx.obj.agent.promote(version, task)
    typer.echo(f"v{row['number']} is now active for task {row['task']}")


def rollback(
    ctx: typer.Context,
    task: str = typer.Option("chat", "--task", "-t", help="Task whose active version is rolled back."),
    with_knowledge: bool = typer.Option(False, "--with-knowledge",
                                        help="Also bring the knowledge base back to the state the parent was trained with."),
):
    """Retire the active version and serve its parent again (or the base model)."""
    parent, restored = ctx.obj.agent.rollback(task, with_knowledge)
    typer.echo(f"task {task} now serves " + (f"v{parent['number']}" if parent else "the base model"))
    if restored is not None:
        typer.echo("knowledge: " + ", ".join(f"{len(paths)} documents {what}" for what, paths in restored.items()))
        for path in restored["missing"]:
            typer.echo(f"not restored (no longer kept, e.g. erased): {path}")


def report(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Draw the metric history to this PNG file."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """The learning-run history: scores per cycle, ACC, BWT, forgetting, probe perplexity."""
    ctx.obj.agent.check_task_name(task)
    runs = ctx.obj.agent.learning_runs(task)
    print_listing(runs, ["run", "task", "cycle", "status", "version", "new", "replayed", "acc", "bwt", "ppl"], as_json, {
        "version": version_name, "acc": _fmt, "bwt": _fmt, "ppl": lambda p: _fmt(p, 2),
    })
    if plot:
        plot_history(runs, plot)
        typer.echo(f"plot written to {plot}", err=as_json)


def _fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def examples(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    n: int = typer.Option(50, "-n", "--count", min=1, max=MAX_ID, help="How many (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List training examples with their split, origin and learning cycle."""
    if ctx.invoked_subcommand is None:
        list_examples(ctx, task, n, as_json)


def list_examples(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    n: int = typer.Option(50, "-n", "--count", min=1, max=MAX_ID, help="How many (newest first)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List training examples with their split, origin and learning cycle."""
    ctx.obj.agent.check_task_name(task)
    rows = ctx.obj.agent.examples(task, n)
    print_listing(rows, ["id", "task", "input", "target", "split", "origin", "cycle"], as_json,
                  {"input": lambda t: shorten(t, 40), "target": lambda t: shorten(t, 30)})


def import_examples(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A .jsonl or .csv file with text and label columns."),
    task: str = typer.Option(..., "--task", "-t", help="Task the examples teach."),
):
    """Import training examples; all rows or none."""
    typer.echo(f"imported {ctx.obj.agent.import_examples(task, read_rows(file))} examples into task {task}")


# A file of examples is read whole: past this, split it.
MAX_ROWS_FILE_MB = 512


def read_rows(file: Path) -> list:
    if file.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise InputError(f"{file}: use a .jsonl or .csv file")
    special = not_a_regular_file(file)  # a FIFO blocks, /dev/zero never ends
    if special:
        raise InputError(f"{file}: {special}; give a .jsonl or .csv file")
    try:
        if file.stat().st_size > MAX_ROWS_FILE_MB * 2**20:
            raise InputError(f"{file}: over {MAX_ROWS_FILE_MB} MB; split it into smaller files")
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{file}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8") from None
    except OSError as exc:
        raise InputError(f"{file}: {exc.strerror or exc}; give a readable .jsonl or .csv file") from None
    if file.suffix.lower() == ".csv":
        try:
            return list(csv.DictReader(text.splitlines()))
        except csv.Error as exc:
            raise InputError(f"{file}: not a readable CSV file ({exc})") from None
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:  # JSONDecodeError, or an integer too long to convert
                raise InputError(f"{file}: line {number} is not JSON ({getattr(exc, 'msg', exc)})") from None
            except RecursionError:
                raise InputError(f"{file}: line {number} is nested too deeply to read") from None
    return rows

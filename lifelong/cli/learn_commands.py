"""learn, versions, promote, rollback, report and examples."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from ..errors import InputError
from ..validation import MAX_ID
from .output import console, print_json, print_table, shorten


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


def parse_duration(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    try:
        seconds = float(text[:-1]) * units[text[-1]] if text[-1] in units else float(text)
    except (ValueError, IndexError):
        seconds = math.nan
    # Zero would spin, a negative or infinite interval cannot be slept.
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError(f"--every {text!r} is not a positive duration; use e.g. 30s, 10m or 1h")
    return seconds


def _progress(enabled: bool) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True), transient=True, disable=not enabled)


def _print_report(report, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    verdict = "[green]promoted[/green]" if report.promoted else "[red]rejected[/red]"
    console.print(
        f"run {report.run_id} · task {report.task} · cycle {report.cycle} · {report.strategy}: "
        f"{report.new_examples} new + {report.replayed_examples} replayed · {report.seconds:.0f} s · "
        f"version v{report.version} {verdict} ({escape(report.reason)})"
    )
    m = report.metrics
    probe = ""
    if m.get("probe_perplexity") is not None:
        probe = (f" · probe perplexity {_fmt(m['probe_perplexity'], 2)} (before {_fmt(m.get('probe_perplexity_before'), 2)})"
                 f" · behaviour probe {m.get('behaviour_right')} right (before {m.get('behaviour_right_before')})")
    console.print(f"  scores by cycle {m.get('row')} (before: {m.get('before')}) · ACC {_fmt(m.get('acc'))} · "
                  f"BWT {_fmt(m.get('bwt'))}{probe}")


def learn(
    ctx: typer.Context,
    task: str = typer.Option("chat", "--task", "-t", help="Task to train."),
    strategy: Optional[str] = typer.Option(None, "--strategy", "-s", help="replay, naive, joint or ewc (default: learning.strategy)."),
    watch: bool = typer.Option(False, "--watch", help="Keep running: re-fine-tune whenever enough new examples arrived."),
    every: str = typer.Option("10m", "--every", help="With --watch: how often to look for new examples (30s, 10m, 1h)."),
    min_new: Optional[int] = typer.Option(None, "--min-new", min=1, help="With --watch: new examples needed (default: learning.min_new)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
):
    """Run one learning cycle on the new examples plus replay; promote the candidate only if it
    passes the evaluation gate."""
    agent = ctx.obj.agent
    if not watch:
        with _progress(not as_json) as progress:
            _print_report(agent.learn(task, strategy, progress=progress), as_json)
        return
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
    rows = ctx.obj.agent.versions.list(task)
    if as_json:
        print_json(rows)
        return
    print_table([{**r, "reason": shorten(r["reason"], 50)} for r in rows],
                ["id", "task", "status", "parent_id", "created_at", "reason"])


def promote(
    ctx: typer.Context,
    version: int = typer.Argument(..., help="Version id (see 'lifelong versions')."),
):
    """Make a version the active one of its task, whatever the gate said."""
    row = ctx.obj.agent.versions.promote(version)
    typer.echo(f"v{row['id']} is now active for task {row['task']}")


def rollback(
    ctx: typer.Context,
    task: str = typer.Option("chat", "--task", "-t", help="Task whose active version is rolled back."),
):
    """Retire the active version and serve its parent again (or the base model)."""
    parent = ctx.obj.agent.versions.rollback(task)
    typer.echo(f"task {task} now serves " + (f"v{parent['id']}" if parent else "the base model"))


def report(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Draw the metric history to this PNG file."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """The learning-run history: scores per cycle, ACC, BWT, forgetting, probe perplexity."""
    agent = ctx.obj.agent
    runs = agent.runs.list(task)
    if as_json:
        print_json(runs)
    else:
        rows = [{
            "run": r["id"], "task": r["task"], "cycle": r["cycle"], "strategy": r["strategy"], "status": r["status"],
            "new": r["new_examples"], "replayed": r["replayed_examples"],
            "scores": " ".join(f"{s:.2f}" for s in r["metrics"].get("row", [])),
            "ACC": _fmt(r["metrics"].get("acc")), "BWT": _fmt(r["metrics"].get("bwt")),
            "probe ppl": _fmt(r["metrics"].get("probe_perplexity")), "s": _fmt(r["seconds"], 0),
        } for r in runs]
        print_table(rows, ["run", "task", "cycle", "strategy", "status", "new", "replayed", "scores", "ACC", "BWT", "probe ppl", "s"])
    if plot:
        _plot(runs, plot)
        typer.echo(f"plot written to {plot}", err=as_json)


def _fmt(value, digits=3):
    return "" if value is None else f"{value:.{digits}f}"


def _plot(runs, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'lifelong[plot]'") from None
    done = [r for r in runs if r["metrics"].get("row")]
    if not done:
        raise InputError("no finished learning runs to plot yet")
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("acc", "ACC"), ("bwt", "BWT")):
        points = [(r["id"], r["metrics"][key]) for r in done if r["metrics"].get(key) is not None]
        if points:
            ax.plot(*zip(*points), marker="o", label=label)
    ax.set_xlabel("learning run")
    ax.set_ylabel("score")
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.legend()
    ax.set_title("lifelong: learning history")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:  # ValueError: a suffix matplotlib cannot write
        raise InputError(f"--plot {path}: cannot write it ({exc})") from None
    finally:
        plt.close(fig)


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
    where, args = ("task = ?", [task]) if task else (None, [])
    rows = list(ctx.obj.agent.db["examples"].rows_where(where, args, order_by="id desc", limit=n))
    if as_json:
        print_json(rows)
        return
    print_table([{**r, "input": shorten(r["input"], 40), "target": shorten(r["target"], 40)} for r in rows],
                ["id", "task", "input", "target", "split", "origin", "cycle"])


def import_examples(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A .jsonl or .csv file with text and label columns."),
    task: str = typer.Option(..., "--task", "-t", help="Task the examples teach."),
):
    """Import training examples; all rows or none."""
    typer.echo(f"imported {ctx.obj.agent.import_examples(task, read_rows(file))} examples into task {task}")


def read_rows(file: Path) -> list:
    if file.suffix.lower() not in (".csv", ".jsonl", ".json"):
        raise InputError(f"{file}: use a .jsonl or .csv file")
    try:
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
            except json.JSONDecodeError as exc:
                raise InputError(f"{file}: line {number} is not JSON ({exc.msg})") from None
            except RecursionError:
                raise InputError(f"{file}: line {number} is nested too deeply to read") from None
    return rows

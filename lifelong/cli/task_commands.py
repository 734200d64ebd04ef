"""tasks, tasks add and eval."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import ConfigError, InputError, LifelongError
from .learn_commands import read_rows
from .output import console, print_json, print_listing, print_table, version_name


def add_to(app: typer.Typer) -> None:
    tasks_app = typer.Typer(help="List and add task instances.", invoke_without_command=True)
    tasks_app.callback()(tasks)
    tasks_app.command("add")(add)
    app.add_typer(tasks_app, name="tasks")
    app.command("eval")(evaluate)


def tasks(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")):
    """List configured tasks with their plugin and options."""
    if ctx.invoked_subcommand is not None:
        return
    agent = ctx.obj.agent
    rows, broken = [], []
    for name, options in agent.tasks().items():
        try:
            agent.task(name)  # its plugin is there and takes its options
        except LifelongError as exc:
            broken.append(str(exc))
        active = agent.active_version(name)
        rows.append({
            "task": name, "plugin": options["plugin"], "active": active["number"] if active else None,
            "pending": len(agent.pending_examples(name)),
            "options": {k: v for k, v in options.items() if k != "plugin"},
        })
    # active: the version serving (none: the base model); pending: examples no run has used yet.
    print_listing(rows, ["task", "plugin", "active", "pending", "options"], as_json, {
        "active": lambda v: version_name(v, "base"),
        "options": lambda options: ", ".join(f"{k}={v}" for k, v in options.items()),
    })
    if broken:
        raise ConfigError("; ".join(broken))


def _parse_option(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise InputError(f"--option {text!r}: use KEY=VALUE, e.g. threshold=0.4")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]  # numbers and booleans typed as in lifelong.toml
    except tomllib.TOMLDecodeError:
        value = raw
    return key, value


def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Name of the new task, e.g. intent."),
    plugin: str = typer.Option(..., "--plugin", "-p", help="Task plugin, e.g. classify (see 'lifelong plugins')."),
    option: Optional[List[str]] = typer.Option(None, "--option", "-o", help="KEY=VALUE plugin option; repeat for more."),
):
    """Add a task instance to lifelong.toml."""
    options = dict(_parse_option(o) for o in option or [])
    ctx.obj.agent.add_task(name, plugin=plugin, **options)
    typer.echo(f"task {name} ({plugin}) added")


def evaluate(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="A .jsonl or .csv file with text and label columns."),
    task: str = typer.Option(..., "--task", "-t", help="Task to evaluate."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
):
    """Score a task's active model on labelled rows: accuracy, macro-F1, per label, confusions."""
    report = ctx.obj.agent.evaluate(task, read_rows(file))
    if as_json:
        print_json(report)
        return
    console.print(f"{report['rows']} rows · model {report['model_version']} · accuracy {report['accuracy']:.3f} · "
                  f"macro-F1 {report['macro_f1']:.3f}"
                  + (f" · out-of-scope recall {report['out_of_scope_recall']:.3f}" if report.get("out_of_scope_recall") is not None else ""))
    rows = [{"label": k, **{m: f"{v:.3f}" if isinstance(v, float) else v for m, v in s.items()}} for k, s in report["per_label"].items()]
    print_table(rows, ["label", "precision", "recall", "f1", "support"])
    if report["confusions"]:
        print_table(report["confusions"], ["gold", "predicted", "count"], title="most frequent confusions")

"""init, plugins and logs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from ..core.agent import Agent
from ..core.plugins import PluginHost
from ..core.workspace import Workspace
from ..validation import MAX_ID
from .output import console, print_json, print_listing, shorten, when


class State:
    """Per-invocation state: the workspace option, and the agent opened on first need."""

    def __init__(self, workspace: Optional[Path]):
        self.workspace = workspace
        self._agent = None

    @property
    def agent(self) -> Agent:
        if self._agent is None:
            self._agent = Agent.open(self.workspace)
        return self._agent


def add_to(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("plugins")(plugins)
    logs_app = typer.Typer(help="List and show logged interactions.", invoke_without_command=True)
    logs_app.callback()(logs)
    logs_app.command("show")(logs_show)
    logs_app.command("path")(logs_path)
    app.add_typer(logs_app, name="logs")


def init(ctx: typer.Context):
    """Create the workspace (lifelong.toml, database, folders). Other commands do this too."""
    agent = ctx.obj.agent
    typer.echo(f"Workspace ready at {agent.workspace.path}")


def plugins(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List loaded plugins, where each came from, its hooks and what it registers."""
    ws = Workspace.resolve(ctx.obj.workspace)
    host = PluginHost(ws.load_config().plugins.modules)
    host.add_commands(typer.Typer())
    infos = [dataclasses.asdict(info) for info in host.info.values()]
    print_listing(infos, ["name", "source", "registers", "hooks"], as_json, {
        "registers": lambda r: "; ".join(f"{k}: {', '.join(v)}" for k, v in r.items()),
        "hooks": lambda hooks: ", ".join(h for h in hooks if not h.startswith("register_")),
    })


def logs(
    ctx: typer.Context,
    n: int = typer.Option(20, "-n", "--count", min=1, max=MAX_ID, help="How many recent interactions."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    query: Optional[str] = typer.Option(None, "-q", "--query", help="Only interactions with this text in the question or answer."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List the most recent interactions (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    agent = ctx.obj.agent
    agent.check_task_name(task)
    rows = agent.interactions(n, task, text=query)
    print_listing(rows, ["id", "created_at", "task", "input", "output", "status", "latency_ms"], as_json, {
        "created_at": when, "input": lambda t: shorten(t, 40), "output": lambda t: shorten(t, 40),
        "latency_ms": lambda ms: None if ms is None else f"{ms:.0f}",
    })


def logs_show(
    ctx: typer.Context,
    interaction_id: int = typer.Argument(..., help="Interaction id (see 'lifelong logs')."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """Show one interaction in full, with its feedback."""
    agent = ctx.obj.agent
    row = agent.interaction(interaction_id)
    row["feedback"] = agent.feedback_of(interaction_id)
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        console.print(f"[bold]{key}[/bold]: {escape(shown)}")


def logs_path(ctx: typer.Context):
    """Print the path of the database that holds the log (SQLite; open it with any SQLite tool)."""
    typer.echo(str(Workspace.resolve(ctx.obj.workspace).db_path))


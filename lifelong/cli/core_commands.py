"""init, config, plugins and logs."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape

from ..core.agent import Agent
from ..core.config import config_to_dict, describe
from ..core.plugins import PluginHost
from ..core.workspace import Workspace
from ..errors import ConfigError
from .output import console, print_json, print_table, shorten


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
    app.command("config")(show_config)
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


def show_config(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the effective configuration as JSON."),
):
    """Show the effective configuration, each plugin's options included, with each setting's
    help text."""
    ws = Workspace.resolve(ctx.obj.workspace)
    config = ws.load_config()
    try:
        options = PluginHost(config.plugins.modules, ws.path, config.plugins.options).options
    except ConfigError as exc:
        raise ConfigError(f"{ws.config_path}: {exc}") from None
    if as_json:
        data = config_to_dict(config)
        data["plugins"].update({plugin: dataclasses.asdict(values) for plugin, values in options.items()})
        print_json(data)
        return
    settings = [*describe(instance=config), *(row for plugin, values in options.items()
                                              for row in describe(type(values), f"plugins.{plugin}.", values))]
    rows = [{"key": key, "value": repr(value), "help": help_text} for key, value, help_text in settings]
    print_table(rows, ["key", "value", "help"], title=str(ws.config_path))
    if config.tasks:
        print_table([{"task": n, **o} for n, o in config.tasks.items()], ["task", "plugin"], title="tasks")


def plugins(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List loaded plugins, where each came from, its hooks and what it registers."""
    ws = Workspace.resolve(ctx.obj.workspace)
    host = PluginHost(ws.load_config().plugins.modules, base_dir=ws.path)
    host.add_commands(typer.Typer())
    infos = [dataclasses.asdict(info) for info in host.info.values()]
    if as_json:
        print_json(infos)
        return
    rows = [
        {
            "name": i["name"],
            "source": i["source"],
            "registers": "; ".join(f"{k}: {', '.join(v)}" for k, v in i["registers"].items()),
            "hooks": ", ".join(h for h in i["hooks"] if not h.startswith("register_")),
        }
        for i in infos
    ]
    print_table(rows, ["name", "source", "registers", "hooks"])


def logs(
    ctx: typer.Context,
    n: int = typer.Option(20, "-n", "--count", min=1, help="How many recent interactions."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    query: Optional[str] = typer.Option(None, "-q", "--query", help="Only interactions with this text in the question or answer."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List the most recent interactions (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    agent = ctx.obj.agent
    rows = agent.log.filtered(task=task, text=query, limit=n) if query else agent.log.recent(n, task=task)
    if as_json:
        print_json(rows)
        return
    view = [
        {**r, "input": shorten(r["input"], 40), "output": shorten(r["output"], 50), "ms": _ms(r)}
        for r in rows
    ]
    print_table(view, ["id", "created_at", "task", "input", "output", "status", "ms"])


def logs_show(
    ctx: typer.Context,
    interaction_id: int = typer.Argument(..., help="Interaction id (see 'lifelong logs')."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """Show one interaction in full, with its feedback."""
    agent = ctx.obj.agent
    row = agent.log.get(interaction_id)
    row["feedback"] = agent.log.feedback_for(interaction_id)
    if as_json:
        print_json(row)
        return
    for key, value in row.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        console.print(f"[bold]{key}[/bold]: {escape(shown)}")


def logs_path(ctx: typer.Context):
    """Print the path of the database that holds the log (SQLite; open it with any SQLite tool)."""
    typer.echo(str(Workspace.resolve(ctx.obj.workspace).db_path))


def _ms(row):
    return None if row["latency_ms"] is None else f"{row['latency_ms']:.0f}"

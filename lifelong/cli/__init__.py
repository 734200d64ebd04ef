"""The ``lifelong`` command line. One Typer app per command group, joined here."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path
from typing import List, Optional

import typer

try:  # typer >= 0.20 vendors click; before, it used click itself
    from typer._click.exceptions import UsageError
except ImportError:
    from click import UsageError
from typer.core import TyperGroup

from ..errors import LifelongError
from ..core.plugins import PluginHost, user_plugins
from ..models import work_offline
from ..quiet import quiet_libraries
from ..validation import printable
from . import (agent_commands, config_commands, core_commands, help, knowledge_commands, learn_commands, lineage_commands, memory_commands,
               models_command, portable_commands, review_command, serve_command, task_commands)


class _Group(TyperGroup):
    """Shows a LifelongError raised by any command as one line and exits with code 1; a bad
    argument is one line too (exit code 2), instead of a framed usage screen. Its help and its
    commands' are tidied (cli/help.py)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        help.tidy(self)

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if os.environ.get("LIFELONG_RAISE_ERRORS"):
                raise
            command = exc.ctx.command_path if exc.ctx else "lifelong"
            typer.echo(f"Error: {printable(exc.format_message())} (see '{command} --help')", err=True)
            raise typer.Exit(code=2) from None
        except LifelongError as exc:
            if os.environ.get("LIFELONG_RAISE_ERRORS"):
                raise
            typer.echo(f"Error: {printable(str(exc))}", err=True)
            raise typer.Exit(code=1) from None
        except sqlite3.DatabaseError as exc:
            if os.environ.get("LIFELONG_RAISE_ERRORS"):
                raise
            typer.echo(f"Error: the workspace's database cannot be read ({printable(str(exc))}); restore lifelong.db "
                       "from a backup or an export (nothing was changed)", err=True)
            raise typer.Exit(code=1) from None
        except OSError as exc:  # a path too long, a file that vanished: the input's fault, not a bug
            if os.environ.get("LIFELONG_RAISE_ERRORS") or exc.filename is None:
                raise
            typer.echo(f"Error: {printable(str(exc.filename))}: {exc.strerror or exc}", err=True)
            raise typer.Exit(code=1) from None


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"lifelong {version('lifelong')}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    app = typer.Typer(
        cls=_Group,
        help="lifelong: agents that keep learning after they ship.",
        no_args_is_help=True,
        add_completion=True,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root(
        ctx: typer.Context,
        version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version, help="Print the version and exit."),
        workspace: Optional[Path] = typer.Option(
            None,
            "--workspace",
            "-w",
            help="Workspace directory (default: $LIFELONG_WORKSPACE, else ~/.local/share/lifelong).",
        ),
        verbose: bool = typer.Option(
            False, "--verbose", "-v", envvar="LIFELONG_VERBOSE",
            help="Show the warnings, log lines and progress bars of transformers, peft, torch and the like.",
        ),
        plugin: List[str] = typer.Option(
            [], "--plugin", metavar="FILE_OR_MODULE",
            help="Load this plugin for the command: a .py file or an installed module (repeatable; adds to "
                 "$LIFELONG_PLUGINS). A workspace's config never loads a file.",
        ),
    ):
        if not verbose:
            quiet_libraries()
        if plugin:
            os.environ["LIFELONG_PLUGINS"] = ",".join([*user_plugins(), *plugin])
        ctx.obj = core_commands.State(workspace)

    core_commands.add_to(app)
    config_commands.add_to(app)
    models_command.add_to(app)
    knowledge_commands.add_to(app)
    lineage_commands.add_to(app)
    agent_commands.add_to(app)
    learn_commands.add_to(app)
    task_commands.add_to(app)
    serve_command.add_to(app)
    review_command.add_to(app)
    portable_commands.add_to(app)
    memory_commands.add_to(app)
    try:
        PluginHost().add_commands(app)
    except LifelongError:
        # A broken plugin must not take the CLI down: commands that need plugins report it.
        pass
    return app


def main():
    work_offline()  # the CLI's process is lifelong's own: nothing in it reaches the Hub
    # Warnings (a damaged adapter or index, and what was done about it) go to stderr, one line each.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    logging.getLogger("lifelong").addHandler(handler)
    build_app()(prog_name="lifelong")

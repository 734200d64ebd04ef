"""export and import: a workspace as one .tar.gz."""

from __future__ import annotations

from pathlib import Path

import typer

from ..core.portable import export_workspace, import_workspace
from ..core.workspace import Workspace, default_workspace


def add_to(app: typer.Typer) -> None:
    app.command("export")(export)
    app.command("import")(import_)


def export(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="The archive to write, FILE.tar.gz."),
):
    """Write the workspace (config, a consistent database snapshot, adapters, index) to one
    .tar.gz with relative paths; safe while 'lifelong serve' runs."""
    result = export_workspace(Workspace.resolve(ctx.obj.workspace, create=False), file)
    typer.echo(f"exported {result['members']} files and folders to {result['path']} ({result['bytes']} bytes)")


def import_(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="An archive written by 'lifelong export'."),
):
    """Unpack an exported workspace into --workspace, which must not hold a database yet."""
    result = import_workspace(file, ctx.obj.workspace or default_workspace())
    typer.echo(f"imported {file} into {result['workspace']}")
    if result["dropped_plugins"]:
        typer.echo(f"left out the plugin file(s) its lifelong.toml named: {', '.join(result['dropped_plugins'])} (an "
                   "imported workspace never runs code it ships; load a plugin you trust with --plugin FILE)")

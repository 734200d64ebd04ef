"""memory migrate: the workspace's SQLite memory copied into a shared PostgreSQL database."""

from __future__ import annotations

import typer

from ..core.config import check_database_url
from ..core.plugins import PluginHost
from ..core.workspace import Workspace
from ..errors import ConfigError
from .output import print_json, print_table


def add_to(app: typer.Typer) -> None:
    memory_app = typer.Typer(help="The memory's storage: move it to a shared PostgreSQL database.")
    memory_app.command("migrate")(migrate)
    app.add_typer(memory_app, name="memory")


def migrate(
    ctx: typer.Context,
    to: str = typer.Option(..., "--to", help="The empty PostgreSQL database to copy into: postgresql://user@host/db."),
    as_json: bool = typer.Option(False, "--json", help="Print the copied tables as JSON."),
):
    """Copy the workspace's SQLite memory (interactions, feedback, examples, buffers, versions,
    runs, documents and the plugins' tables) into an empty PostgreSQL database in one
    transaction, checked by row counts and checksums. The SQLite file is left as it was."""
    from ..memory.transfer import copy_to_postgres

    check_database_url(to, "--to")
    workspace = Workspace.resolve(ctx.obj.workspace, create=False)
    config = workspace.load_config()
    try:
        plugins = PluginHost(config.plugins.modules, config.plugins.options)
    except ConfigError as exc:
        raise ConfigError(f"{workspace.config_path}: {exc}") from None
    report = copy_to_postgres(workspace.db_path, to, plugins.migrations)
    if as_json:
        print_json(report)
        return
    print_table(report, ["table", "rows", "checksum"], formats={"checksum": lambda c: c[:16]})
    typer.echo(f"copied {sum(r['rows'] for r in report)} rows; counts and checksums match. To use it, set "
               f"[memory] database in {workspace.config_path}, or LIFELONG_DATABASE_URL")

"""Shared output helpers: JSON for machines, rich tables for people."""

import json

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: list[dict], columns: list[str], title: str | None = None) -> None:
    # Cells are data, never markup: a system prompt's "[n]" must show as written.
    table = Table(title=escape(title) if title else None)
    for column in columns:
        table.add_column(escape(column))
    for row in rows:
        table.add_row(*["" if row.get(c) is None else escape(str(row.get(c))) for c in columns])
    console.print(table)


def shorten(text: str | None, width: int = 60) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"

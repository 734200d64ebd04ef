"""Shared output helpers: JSON for machines, rich tables for people.

A listing is one list of rows (dicts) printed either way: ``--json`` prints the rows as they are,
the table shows some of their keys as columns, under the key's own name, so a script reads the
same names a person sees (docs/cli.md)."""

import json
import time
from pathlib import PurePath
from typing import Callable

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

console = Console()


def print_json(data) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def print_table(rows: list[dict], columns: list[str], title: str | None = None,
                formats: dict[str, Callable] | None = None) -> None:
    """``formats``: how a column's value is shown (shortened text, v3 for a version); the
    others show as they are."""
    formats = formats or {}
    # A rule under the header and two spaces between columns, no frame: the width goes to the
    # data, and ten columns fit in 80 characters.
    table = Table(title=escape(title) if title else None, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  padding=(0, 1, 0, 0))
    for column in columns:
        table.add_column(escape(column), overflow="fold")
    for row in rows:
        cells = [formats[c](row.get(c)) if c in formats else row.get(c) for c in columns]
        # Cells are data, never markup: a system prompt's "[n]" must show as written.
        table.add_row(*["" if cell is None else escape(str(cell)) for cell in cells])
    console.print(table)


def print_listing(rows: list[dict], columns: list[str], as_json: bool, formats: dict[str, Callable] | None = None,
                  title: str | None = None) -> None:
    if as_json:
        print_json(rows)
    else:
        print_table(rows, columns, title, formats)


def shorten(text: str | None, width: int = 60) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def version_name(version: int | None, none: str = "") -> str:
    """A version as people read it (v3); JSON carries the number."""
    return none if version is None else f"v{version}"


def when(timestamp: str | None) -> str:
    """An ISO 8601 UTC timestamp to the minute: '2025-01-31 14:05'."""
    return "" if not timestamp else timestamp[:16].replace("T", " ")


def unique_suffixes(paths: list[str]) -> dict[str, str]:
    """Each path's shortest tail of whole components that no other path in ``paths`` ends with:
    /home/a/docs/faq.md and /home/a/old/faq.md show as docs/faq.md and old/faq.md."""
    parts = {p: PurePath(p).parts for p in set(paths)}
    shown = {}
    for path, own in parts.items():
        for n in range(1, len(own) + 1):
            tail = own[-n:]
            if not any(other[-n:] == tail for p, other in parts.items() if p != path):
                break
        shown[path] = str(PurePath(*tail)) if own else path
    return shown


def progress(enabled: bool = True, counts: bool = False) -> Progress:
    """Progress on stderr, so stdout stays the result. On a terminal, a live bar; otherwise (a
    pipe, a log file, CI) plain lines, at most one every LINE_EVERY seconds per task."""
    err = Console(stderr=True)
    if not err.is_terminal:
        return LineProgress(console=err, disable=not enabled)
    columns = (TextColumn("{task.description}"), BarColumn(), *([MofNCompleteColumn()] if counts else []), TimeElapsedColumn(),
               TimeRemainingColumn(compact=True))
    return Progress(*columns, console=err, transient=True, disable=not enabled)


LINE_EVERY = 10.0


class LineProgress(Progress):
    """rich's Progress without its live display: a plain line is written when a task starts,
    finishes, or LINE_EVERY seconds after its last line."""

    def __init__(self, console: Console, disable: bool):
        super().__init__(console=console, auto_refresh=False, transient=True, disable=disable)
        self._last_line: dict = {}
        self._ended: set = set()

    # No live display at all: rich's would still print its last frame (or a blank line) on stop.
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def add_task(self, description, *args, **kwargs):
        task_id = super().add_task(description, *args, **kwargs)
        self._line(task_id, force=True)
        return task_id

    def update(self, task_id, *args, **kwargs):
        super().update(task_id, *args, **kwargs)
        self._line(task_id)

    def advance(self, task_id, advance: float = 1) -> None:
        super().advance(task_id, advance)
        self._line(task_id)

    def _line(self, task_id, force: bool = False) -> None:
        task, now = self._tasks[task_id], time.monotonic()
        due = now - self._last_line.get(task_id, -LINE_EVERY) >= LINE_EVERY
        if self.disable or task_id in self._ended or not (force or due or task.finished):
            return
        if task.finished:
            self._ended.add(task_id)
        self._last_line[task_id] = now
        done = f"{task.completed:.0f}/{task.total:.0f}" if task.total else f"{task.completed:.0f}"
        left = f" · about {task.time_remaining:.0f} s left" if task.time_remaining and not task.finished else ""
        self.console.print(Text(f"{task.description}: {done} · {task.elapsed or 0:.0f} s{left}"), soft_wrap=True)

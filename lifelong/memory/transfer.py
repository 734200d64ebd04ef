"""Copying a workspace's SQLite memory into an empty PostgreSQL database, table for table, in
one transaction, then checking that both hold the same rows (counts and checksums). The SQLite
file is opened read-only: nothing in it changes."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import psycopg

from ..errors import InputError, StorageError
from .db import open_database
from .postgres import redacted

# Kept by each engine for itself: migration records, SQLite's full-text index.
_OWN_TABLES = ("_migrations", "_sqlite_migrations", "sqlite_sequence")


def checksum(rows) -> str:
    """The same for the same rows in any order, whichever engine they come from."""
    digests = sorted(hashlib.sha256(json.dumps([_plain(v) for v in row]).encode()).digest() for row in rows)
    return hashlib.sha256(b"".join(digests)).hexdigest()


def _plain(value):
    return value.hex() if isinstance(value, (bytes, memoryview)) else value


def copy_to_postgres(sqlite_path: Path, url: str, plugins: dict[str, list[tuple]]) -> list[dict]:
    """Copy every table of ``sqlite_path`` that the PostgreSQL schema has; returns one
    ``{"table", "rows", "checksum"}`` per table. Raises InputError when the target already
    holds rows or the source's schema is older than this version's."""
    if not Path(sqlite_path).is_file():
        raise InputError(f"{sqlite_path}: no SQLite memory to migrate; give the workspace with --workspace")
    source = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    try:
        _check_source_current(source, sqlite_path, plugins)
        target = open_database(url, plugins)
        try:
            return _copy(source, target, url)
        finally:
            target.close()
    finally:
        source.close()


def _check_source_current(source, path, plugins) -> None:
    from .migrations import migrations

    applied = {(r[0], r[1]) for r in source.execute("select migration_set, name from _sqlite_migrations")}
    wanted = [("lifelong", name) for name in (m.name for m in migrations._migrations)]
    wanted += [(f"plugin:{plugin}", name) for plugin, steps in plugins.items() for name, *_ in steps]
    missing = [f"{s}/{n}" for s, n in wanted if (s, n) not in applied]
    if missing:
        raise InputError(f"{path} lacks the migration {missing[0]}: open the workspace once with this "
                         "version of lifelong (any command), then migrate")


def _copy(source, target, url) -> list[dict]:
    in_source = {r[0] for r in source.execute("select name from sqlite_master where type = 'table'")}
    tables = [t for t in _in_dependency_order(target) if t in in_source and t not in _OWN_TABLES]
    held = {t: target.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}
    if any(held.values()):
        table, rows = next((t, n) for t, n in held.items() if n)
        raise InputError(f"database {redacted(url)} already holds {rows} rows in {table}: migrate into an "
                         "empty database (create a new one, or drop this one's tables)")
    report = []
    # One transaction, checked before it commits: a copy that fails or differs leaves nothing.
    with target.transaction():
        for table in tables:
            columns = target.columns(table)
            present = {r[1] for r in source.execute(f"pragma table_info({table})")}
            if set(columns) - present:
                raise StorageError(f"table {table} lacks the columns {sorted(set(columns) - present)} in the SQLite "
                                   "memory; open the workspace once with this version of lifelong, then migrate")
            select = f"select {', '.join(columns)} from {table}"
            try:
                with target.conn.cursor().copy(f"copy {table} ({', '.join(columns)}) from stdin") as copy:
                    for row in source.execute(select):
                        copy.write_row(row)
            except psycopg.Error as exc:
                raise StorageError(f"table {table}: PostgreSQL refused a row ({str(exc).splitlines()[0]}); nothing "
                                   f"was copied into {redacted(url)}") from None
            if "id" in columns:  # new rows go on after the copied ids
                target.execute(f"select setval(pg_get_serial_sequence('{table}', 'id'), max(id)) from {table} "
                               "having count(*) > 0")
            expected = list(source.execute(select))
            stored = target.execute(select).fetchall()
            digest = checksum(stored)
            if len(stored) != len(expected) or digest != checksum(expected):
                raise StorageError(f"table {table}: {len(stored)} rows stored of {len(expected)}, or their checksums "
                                   f"differ; nothing was copied into {redacted(url)}")
            report.append({"table": table, "rows": len(stored), "checksum": digest})
    return report


def _in_dependency_order(db) -> list[str]:
    """The tables of ``db`` with each after those its foreign keys point to."""
    tables = db.table_names()
    needs = {t: set() for t in tables}
    for child, parent in db.execute("select conrelid::regclass::text, confrelid::regclass::text from pg_constraint "
                                    "where contype = 'f'"):
        if child in needs and parent != child:
            needs[child].add(parent)
    ordered: list[str] = []
    while needs:
        ready = sorted(t for t, parents in needs.items() if parents <= set(ordered)) or sorted(needs)  # a cycle: as is
        ordered.extend(ready)
        for t in ready:
            del needs[t]
    return ordered

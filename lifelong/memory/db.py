"""Opening the workspace database: WAL, a busy timeout, foreign keys, then the migrations."""

from __future__ import annotations

import contextlib
import fcntl
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from .migrations import migrations

BUSY_TIMEOUT_S = 60


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating if needed) and migrate. Safe to call from several processes at once."""
    # isolation_level=None: no implicit transactions; every write goes through write_transaction.
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
    conn.execute("PRAGMA foreign_keys = ON")
    db = sqlite_utils.Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    migrate(db, Path(f"{path}.migrate.lock") if str(path) != ":memory:" else None)
    return db


def migrate(db: sqlite_utils.Database, lock_path: Path | None = None) -> None:
    if not migrations.pending(db):
        return
    # Two processes opening a fresh workspace at once must not both apply a migration.
    with _file_lock(lock_path):
        migrations.apply(db)


@contextlib.contextmanager
def _file_lock(path: Path | None):
    if path is None:
        yield
        return
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """One IMMEDIATE transaction: it takes the write lock up front (waiting up to the busy
    timeout) so concurrent writers queue instead of failing with "database is locked"."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")

"""Opening the workspace database: WAL, a busy timeout, foreign keys, then the migrations."""

from __future__ import annotations

import contextlib
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..errors import StorageError
from ..files import file_lock
from .migrations import migrations

BUSY_TIMEOUT_S = 60


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def open_database(path: Path | str, more: list[Migrations] = ()) -> sqlite_utils.Database:
    """Open (creating if needed) and apply the core migrations, then the sets in ``more``
    (plugins' tables). Safe to call from several processes at once."""
    with _explained(path, (sqlite3.DatabaseError, PermissionError)):
        # isolation_level=None: no implicit transactions; every write goes through write_transaction.
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        if str(path) != ":memory:":
            db.enable_wal()
        migrate(db, Path(f"{path}.migrate.lock") if str(path) != ":memory:" else None, [migrations, *more])
    return db


# SQLite's words for a fault of the file or its disk, and what the user can do about each.
_FAULTS = {
    "permission denied": "it or its folder is not writable; fix the permissions",
    "readonly": "it is read-only; make the file, its folder, and its -wal and -shm files writable",
    "unable to open": "it cannot be opened; check that its folder exists and is writable",
    "disk is full": "the disk is full; free some space",
    "disk i/o error": "the disk failed to read or write it; check the disk, or restore the file from a backup",
    "not a database": "it is not a SQLite database, or it is damaged; restore it from a backup or move it away to start afresh",
    "malformed": "it is damaged; restore it from a backup, or recover it with 'sqlite3 FILE .recover'",
    "locked": f"another process held it for over {BUSY_TIMEOUT_S} s; try again when that process is done",
}


@contextlib.contextmanager
def _explained(path, kinds=(sqlite3.DatabaseError,)):
    """A storage fault as one line: which file, why, what to do. Other errors pass through."""
    try:
        yield
    except kinds as exc:
        text = str(exc).lower()
        why = next((advice for key, advice in _FAULTS.items() if key in text), None)
        if why is None:
            raise
        raise StorageError(f"database {path}: {why} (SQLite: {exc})") from exc


def database_file(db: sqlite_utils.Database) -> str:
    return next((row[2] for row in db.execute("pragma database_list") if row[1] == "main"), "") or ":memory:"


def migrate(db: sqlite_utils.Database, lock_path: Path | None = None, sets: list[Migrations] = (migrations,)) -> None:
    pending = [found for found in sets if found.pending(db)]
    if not pending:
        return
    # Two processes opening a fresh workspace at once must not both apply a migration.
    with file_lock(lock_path) if lock_path else contextlib.nullcontext():
        for found in pending:
            found.apply(db)


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database):
    """One IMMEDIATE transaction: it takes the write lock up front (waiting up to the busy
    timeout) so concurrent writers queue instead of failing with "database is locked"."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    with _explained(database_file(db)):
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
        db.conn.execute("COMMIT")

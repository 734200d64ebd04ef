"""Opening the memory: the workspace's SQLite file (WAL, a busy timeout, foreign keys) or a
shared PostgreSQL database (postgres.py), then the migrations of that backend. The stores take
either; ``dialect``, ``write_transaction``, ``serialize`` and ``exclusive`` are what differs."""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from ..errors import ConfigError, StorageError
from ..files import file_lock
from .migrations import migrations, named_set

BUSY_TIMEOUT_S = 60


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def open_database(location: Path | str, plugins: dict[str, list[tuple]] | None = None):
    """Open (creating if needed) and apply the core migrations, then the plugins' (``{plugin:
    [(name, sqlite migration, postgresql migration)]}``, as ``register_migrations`` gives them).
    ``location``: a SQLite file, or a postgresql:// URL. Safe to call from several processes at once."""
    plugins = plugins or {}
    if is_url(location):
        try:
            from . import postgres, postgres_migrations
        except ImportError as exc:
            raise ConfigError(f"a PostgreSQL database needs psycopg ({exc}); install it with "
                              "pip install 'lifelong[postgres]'") from None

        db = postgres.PostgresDatabase(location)
        try:
            postgres_migrations.migrate(db, {"lifelong": postgres_migrations.CORE,
                                             **postgres_migrations.plugin_sets(plugins)})
        except BaseException:
            db.close()
            raise
        return db
    path = location
    more = [named_set(f"plugin:{plugin}", [step[:2] for step in steps]) for plugin, steps in plugins.items()]
    with _explained(path, (sqlite3.DatabaseError, PermissionError)):
        # isolation_level=None: no implicit transactions; every write goes through write_transaction.
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        lock = Path(f"{path}.migrate.lock") if str(path) != ":memory:" else None
        if lock:
            _use_wal(db, lock)
        migrate(db, lock, [migrations, *more])
        _check_tables(db, path)
    return db


def _use_wal(db, lock_path: Path) -> None:
    """Write-ahead logging, so readers go on while a process writes. Switching a file to it needs
    the file to itself, and SQLite answers "database is locked" at once, without the busy
    timeout, when another process writes meanwhile (seen with four processes opening a fresh
    workspace under load): the switch is made once, under the migrations' lock; a file already
    in WAL mode is left as it is."""
    if db.journal_mode == "wal":
        return
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(file_lock(lock_path))
        except OSError:  # a read-only folder or file system: SQLite's own error then says which
            pass
        db.enable_wal()  # checks the mode again: another process may have switched it meanwhile


@functools.cache
def _core_tables() -> frozenset[str]:
    """The tables the core migrations make, as a fresh database has them."""
    fresh = sqlite_utils.Database(memory=True)
    migrate(fresh)
    return frozenset(fresh.table_names())


def _check_tables(db, path) -> None:
    """A table the migrations made and someone dropped since is a damaged database: sqlite-utils
    would read it as empty and write a new one of another shape, hiding the damage and adding to it."""
    missing = sorted(_core_tables() - set(db.table_names()))
    if missing:
        db.conn.close()
        raise StorageError(f"{path}: the database has lost its table(s) {', '.join(missing)}; restore lifelong.db from "
                           "a backup or an export (nothing was changed)")


def is_url(location) -> bool:
    return isinstance(location, str) and "://" in location


def dialect(db) -> str:
    """"sqlite" or "postgresql": for the few queries the two engines spell differently."""
    return getattr(db, "dialect", "sqlite")


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
def write_transaction(db):
    """One write transaction. SQLite: IMMEDIATE, taking the write lock up front (waiting up to
    the busy timeout) so concurrent writers queue instead of failing with "database is locked".
    PostgreSQL: an ordinary one; ``serialize`` orders the few writes that must not interleave."""
    if dialect(db) == "postgresql":
        with db.transaction():
            yield db
        return
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


def compact(db) -> bool:
    """Rewrite the SQLite file without the space of deleted rows, and empty its WAL, so that
    deleted text is gone from the disk; False when a reader kept the WAL from being emptied
    (then the next checkpoint does it). PostgreSQL reclaims dead rows itself (VACUUM)."""
    if dialect(db) == "postgresql":
        return True
    with _explained(database_file(db)):
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.execute("VACUUM")
        busy = db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    return not busy


def serialize(db, key: str) -> None:
    """Inside a write transaction: no other transaction that serializes on ``key`` runs until
    this one ends. SQLite already writes one transaction at a time; PostgreSQL takes an
    advisory lock (two replicas promoting versions of one task at once)."""
    if dialect(db) == "postgresql":
        db.lock(key)


@contextlib.contextmanager
def exclusive(db, key: str, lock_file: Path):
    """Hold ``key`` for the block, across transactions, or raise BlockingIOError at once when
    another process holds it. SQLite: a lock on ``lock_file`` (one machine); PostgreSQL: a
    session advisory lock (any machine on the database). Either goes with a killed holder."""
    if dialect(db) != "postgresql":
        with file_lock(lock_file, wait=False):
            yield
        return
    if not db.try_session_lock(key):
        raise BlockingIOError(key)
    try:
        yield
    finally:
        db.unlock_session(key)

"""The PostgreSQL backend: the part of sqlite_utils' ``Database`` that the stores use, over
psycopg 3, so every store runs one code path on either backend.

The stores write portable SQL with ``?`` placeholders; this class turns them into psycopg's
``%s``. What differs between the engines (full-text search, advisory locks) is asked of the
database by the few stores that need it (``dialect``)."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.rows import dict_row

from ..errors import DatabaseUnavailable

CONNECT_TIMEOUT_S = 10
# A connection unused this long is checked before use: one that a restarted server dropped in
# the meantime is then made again, instead of failing the request that finds it.
CHECK_AFTER_IDLE_S = 5
_COME_BACK = "check that the server runs: calls succeed again once it is back"


def redacted(url: str) -> str:
    """``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _sql(sql: str, has_args: bool) -> str:
    # psycopg reads % as the start of a placeholder only when arguments are passed.
    return sql.replace("%", "%%").replace("?", "%s") if has_args else sql


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, url: str):
        self.url = url
        self._session_locks: set[str] = set()
        self._setups: list[Callable[[psycopg.Connection], None]] = []
        self._open_transactions = 0
        self._reconnecting = threading.Lock()
        self.conn = self._connect("cannot connect", "check that the server runs, and the host, port, user, password "
                                  "and database name in the URL")
        self._used_at = time.monotonic()

    def _connect(self, failure: str, advice: str) -> psycopg.Connection:
        try:
            # autocommit: no implicit transactions, as with SQLite's isolation_level=None; every
            # write goes through write_transaction.
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            raise DatabaseUnavailable(f"database {redacted(self.url)}: {failure} ({_first_line(exc)}); {advice}") from None
        for setup in self._setups:
            setup(conn)
        return conn

    def add_connection_setup(self, setup: Callable[[psycopg.Connection], None]) -> None:
        """Run ``setup`` on the connection now and on each one made after a lost one (types to
        adapt, session settings)."""
        setup(self.conn)
        self._setups.append(setup)

    @contextlib.contextmanager
    def _connected(self):
        """The connection, made again first when it was lost (the server restarted, the network
        failed) or, after a quiet spell, found lost. A connection lost during the block is a
        DatabaseUnavailable: this call fails, with a line that says so, and the next reconnects."""
        if not self._open_transactions:
            with self._reconnecting:
                if not self.conn.closed and time.monotonic() - self._used_at > CHECK_AFTER_IDLE_S:
                    with contextlib.suppress(psycopg.OperationalError):
                        self.conn.execute("")  # what psycopg_pool's check does: closes a lost connection
                if self.conn.broken:
                    self.conn = self._connect("the connection was lost and cannot be made again", _COME_BACK)
        try:
            yield self.conn
        except psycopg.OperationalError as exc:
            if not self.conn.broken:
                raise  # the server answered: a query's own fault
            raise DatabaseUnavailable(f"database {redacted(self.url)}: the connection was lost ({_first_line(exc)}); "
                                      f"{_COME_BACK}") from None
        finally:
            self._used_at = time.monotonic()

    def __getitem__(self, name: str) -> "PostgresTable":
        return PostgresTable(self, name)

    def execute(self, sql: str, args=()):
        """A cursor over tuples, as sqlite3's ``execute`` returns."""
        with self._connected() as conn:
            return conn.execute(_sql(sql, bool(args)), list(args) or None)

    def executemany(self, sql: str, rows) -> None:
        with self._connected() as conn, conn.cursor() as cursor:
            cursor.executemany(_sql(sql, True), rows)

    def query(self, sql: str, args=()):
        """Rows as dicts, as sqlite_utils' ``query`` yields them."""
        with self._connected() as conn:
            yield from conn.cursor(row_factory=dict_row).execute(_sql(sql, bool(args)), list(args) or None)

    def table_names(self) -> list[str]:
        return [r[0] for r in self.execute(
            "select table_name from information_schema.tables where table_schema = current_schema() order by 1")]

    def columns(self, table: str) -> list[str]:
        """The columns a copy reads and writes: those not computed by the database."""
        # A pgvector column holds copies of stored embeddings, made from them where missing.
        return [r[0] for r in self.execute(
            "select column_name from information_schema.columns where table_schema = current_schema() "
            "and table_name = ? and is_generated = 'NEVER' and udt_name <> 'vector' order by ordinal_position", [table])]

    @contextlib.contextmanager
    def transaction(self):
        """One transaction (a savepoint inside another). Under READ COMMITTED, writes that read
        before they change also take ``lock(...)`` where two replicas could interleave."""
        with self._connected() as conn, conn.transaction():
            self._open_transactions += 1
            try:
                yield self
            finally:
                self._open_transactions -= 1

    def lock(self, key: str) -> None:
        """Hold an advisory lock on ``key`` until the current transaction ends: what SQLite's
        one writer at a time gives for free."""
        self.execute("select pg_advisory_xact_lock(hashtextextended(?, 0))", [key])

    def try_session_lock(self, key: str) -> bool:
        """Take the advisory lock ``key`` for this connection, without waiting; it is released
        by ``unlock_session`` or when the connection ends (a killed process frees it)."""
        # PostgreSQL grants a session a lock it already holds: two threads sharing this
        # connection must still exclude each other.
        if key in self._session_locks:
            return False
        taken = self.execute("select pg_try_advisory_lock(hashtextextended(?, 0))", [key]).fetchone()[0]
        if taken:
            self._session_locks.add(key)
        return taken

    def unlock_session(self, key: str) -> None:
        self.execute("select pg_advisory_unlock(hashtextextended(?, 0))", [key])
        self._session_locks.discard(key)

    def close(self) -> None:
        self.conn.close()


_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


class PostgresTable:
    """The table methods of sqlite_utils the stores use, with the same arguments."""

    def __init__(self, db: PostgresDatabase, name: str):
        if not _NAME.match(name):
            raise ValueError(f"table name {name!r}")
        self.db, self.name = db, name
        self.last_pk = None

    def insert(self, row: dict) -> "PostgresTable":
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        self.last_pk = self.db.execute(
            f"insert into {self.name} ({columns}) values ({marks}) returning id", list(row.values())).fetchone()[0]
        return self

    def insert_all(self, rows) -> None:
        rows = list(rows)
        if not rows:
            return
        columns = list(rows[0])
        marks = ", ".join("?" * len(columns))
        self.db.executemany(f"insert into {self.name} ({', '.join(columns)}) values ({marks})",
                            [[row[c] for c in columns] for row in rows])

    def upsert(self, row: dict, pk: str) -> None:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != pk)
        self.db.execute(f"insert into {self.name} ({columns}) values ({marks}) on conflict ({pk}) do update set {updates}",
                        list(row.values()))

    def update(self, pk, changes: dict) -> None:
        assignments = ", ".join(f"{c} = ?" for c in changes)
        self.db.execute(f"update {self.name} set {assignments} where id = ?", [*changes.values(), pk])

    def delete(self, pk) -> None:
        self.db.execute(f"delete from {self.name} where id = ?", [pk])

    def get(self, pk) -> dict:
        rows = list(self.rows_where("id = ?", [pk]))
        if not rows:
            raise LookupError(f"no row {pk} in {self.name}")
        return rows[0]

    def rows_where(self, where: str | None = None, args=(), order_by: str | None = None, limit: int | None = None):
        sql = f"select * from {self.name}"
        if where:
            sql += f" where {where}"
        if order_by:
            sql += f" order by {order_by}"
        if limit is not None:
            sql += f" limit {int(limit)}"
        return self.db.query(sql, args)

    @property
    def rows(self):
        return self.rows_where()

    @property
    def count(self) -> int:
        return self.db.execute(f"select count(*) from {self.name}").fetchone()[0]

    def exists(self) -> bool:
        return self.name in self.db.table_names()

"""A throwaway PostgreSQL server for the tests and benchmarks: a fresh cluster in a temporary
folder (``initdb``), started on a free local port, removed when done. It uses the server
binaries of the machine (Debian's ``postgresql`` package: ``make postgres`` installs it).
PostgreSQL refuses to run as root; as root the cluster belongs to the ``postgres`` user."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def server_binaries() -> Path | None:
    """The folder with initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))  # not on PATH in Debian
    return Path(debian[-1]).parent if debian else None


def unavailable() -> str | None:
    """Why a server cannot be started here, or None."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'lifelong[postgres]')"
    if server_binaries() is None:
        return "the PostgreSQL server is not installed (make postgres installs Debian's package)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the server as"
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class TemporaryServer:
    """``with TemporaryServer() as server: server.create_database("x")`` -> its URL.
    ``durable=False`` (the tests): no fsync, as a test's data need not outlive a crash; the
    benchmarks keep it, as SQLite keeps its own."""

    def __init__(self, durable: bool = False):
        self.durable = durable
        self.bin = server_binaries()
        self.folder = Path(tempfile.mkdtemp(prefix="lifelong-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self._as_postgres = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> "TemporaryServer":
        """Make the cluster (the first time) and start the server; after ``shut_down``, start it
        again on the same port with the same data."""
        if not self.data.exists():
            if self._as_postgres:
                shutil.chown(self.folder, "postgres", "postgres")
            self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--no-sync")
        # Sockets in our own folder; connections for the replicas tests' threads.
        options = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c max_connections=200"
                   + ("" if self.durable else " -c fsync=off"))
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.folder / "server.log"), "-o", options,
                  "-w", "start")
        return self

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, owner: str | None = None) -> str:
        """A new database and its URL. ``owner``: a user made for it without superuser rights
        (who may not create extensions such as pgvector), who connects to it."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            if owner and not conn.execute("select 1 from pg_roles where rolname = %s", [owner]).fetchone():
                conn.execute(f'create role "{owner}" login nosuperuser')
            conn.execute(f'create database "{name}"' + (f' owner "{owner}"' if owner else ""))
        return self.url(name) if owner is None else self.url(name).replace("postgres@", f"{owner}@", 1)

    def pgvector_unavailable(self) -> str | None:
        """Why pgvector cannot be used on this server, or None."""
        import psycopg

        try:
            import pgvector.psycopg  # noqa: F401
        except ImportError:
            return "the pgvector package is not installed (pip install 'lifelong[postgres]')"
        with psycopg.connect(self.url()) as conn:
            if not conn.execute("select 1 from pg_available_extensions where name = 'vector'").fetchone():
                return "the server has no pgvector extension (make postgres builds it from Debian's source package)"
        return None

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'drop database if exists "{name}" with (force)')

    def shut_down(self) -> None:
        """Stop the server as an operator would (its clients' connections end), keeping its data."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "TemporaryServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

"""Portable workspaces: ``export`` writes lifelong.toml, a consistent snapshot of the database,
the adapters and the vector index to one .tar.gz with relative paths; ``import`` unpacks it
into a new workspace, which then serves the same answers (adapter paths are stored relative to
the workspace, so nothing inside points back at the original machine)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from ..errors import InputError
from ..files import atomic_write
from .workspace import CONFIG_FILE, DATABASE_FILE, Workspace

SUFFIXES = (".tar.gz", ".tgz")
FOLDERS = ("adapters", "index")


def _check_suffix(path: Path) -> None:
    if not path.name.endswith(SUFFIXES):
        raise InputError(f"{path}: name the archive FILE.tar.gz")


def export_workspace(workspace: Workspace, target: Path) -> dict:
    """Write the archive next to ``target`` and rename it into place, so a failed export never
    leaves half an archive. The database is copied with SQLite's backup API: a server may go
    on reading and writing meanwhile."""
    target = Path(target).expanduser()
    _check_suffix(target)
    if os.environ.get("LIFELONG_DATABASE_URL") or workspace.load_config().memory.database:
        raise InputError(f"the memory of workspace {workspace.path} is a PostgreSQL database, which export does not "
                         "copy; back it up with pg_dump")
    if not workspace.db_path.exists():
        raise InputError(f"workspace {workspace.path} has no database yet: nothing to export")
    if not target.parent.is_dir():
        raise InputError(f"{target}: the folder {target.parent} does not exist")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".lifelong-export-") as tmp, atomic_write(target) as partial:
        snapshot = Path(tmp) / DATABASE_FILE
        source, copy = sqlite3.connect(workspace.db_path), sqlite3.connect(snapshot)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
        finally:
            source.close()
            copy.close()
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(workspace.config_path, arcname=CONFIG_FILE)
            tar.add(snapshot, arcname=DATABASE_FILE)
            for folder in FOLDERS:
                if (workspace.path / folder).is_dir():
                    # .tmp-* folders are adapters a killed run left half-written.
                    tar.add(workspace.path / folder, arcname=folder,
                            filter=lambda info: None if Path(info.name).name.startswith(".tmp-") else info)
            members = len(tar.getmembers())
    return {"path": str(target), "bytes": target.stat().st_size, "members": members}


def import_workspace(archive: Path, workspace_path: Path) -> dict:
    """Unpack ``archive`` into ``workspace_path``, which must not hold a database yet (an import
    never overwrites what is stored). Every member is checked before anything is written."""
    archive = Path(archive).expanduser()
    _check_suffix(archive)
    target = Path(workspace_path).expanduser().resolve()
    if (target / DATABASE_FILE).exists():
        raise InputError(f"workspace {target} already holds a database; import into a new folder with --workspace")
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            _check_members(archive, members)
            target.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=target, prefix=".lifelong-import-") as tmp:
                tar.extractall(tmp, filter="data")
                dropped = _drop_plugin_files(Path(tmp) / CONFIG_FILE)
                for name in (CONFIG_FILE, DATABASE_FILE, *FOLDERS):
                    unpacked = Path(tmp) / name
                    if not unpacked.exists():
                        continue
                    if (target / name).is_dir():
                        shutil.rmtree(target / name)  # the empty folders a fresh workspace has
                    os.replace(unpacked, target / name)
    except FileNotFoundError:
        raise InputError(f"{archive}: no such file") from None
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InputError(f"{archive}: not a readable .tar.gz workspace archive ({exc})") from None
    return {"workspace": str(target), "members": len(members), "dropped_plugins": dropped}


def _drop_plugin_files(config: Path) -> list[str]:
    """Take out of an imported lifelong.toml the plugin files it names: an archive is data from
    someone else, and a .py file it ships must never run (core/plugins.py). Returns them."""
    import tomllib

    import tomli_w

    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return []  # opening the workspace reports what is wrong with it
    plugins = data.get("plugins")
    table = plugins if isinstance(plugins, dict) else None
    modules = table.get("modules") if table is not None else plugins  # `plugins = [...]`, the old form
    if not isinstance(modules, list):
        return []
    dropped = [m for m in modules if isinstance(m, str) and m.endswith(".py")]
    if dropped:
        kept = [m for m in modules if m not in dropped]
        if table is not None:
            table["modules"] = kept
        else:
            data["plugins"] = kept
        config.write_text(tomli_w.dumps(data), encoding="utf-8")
    return dropped


def _check_members(archive: Path, members) -> None:
    names = {m.name for m in members}
    if DATABASE_FILE not in names or CONFIG_FILE not in names:
        raise InputError(f"{archive}: not a lifelong workspace archive ({DATABASE_FILE} and {CONFIG_FILE} are missing)")
    for member in members:
        top = Path(member.name).parts[0] if Path(member.name).parts else ""
        if Path(member.name).is_absolute() or ".." in Path(member.name).parts or top not in (CONFIG_FILE, DATABASE_FILE, *FOLDERS):
            raise InputError(f"{archive}: unexpected member {member.name!r}; nothing was imported")
        if not (member.isfile() or member.isdir()):
            raise InputError(f"{archive}: member {member.name!r} is not a plain file or folder; nothing was imported")

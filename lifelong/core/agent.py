"""Agent: a workspace with its plugins loaded, the entry point of the embedded Python API."""

from __future__ import annotations

from pathlib import Path

from ..memory import InteractionLog, open_database
from .plugins import PluginHost
from .workspace import Workspace


class Agent:
    """``Agent.open(path)`` binds to a workspace (created on first use) and loads its plugins."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        self.config = workspace.load_config()
        self.plugins = PluginHost(self.config.plugins, base_dir=workspace.path)
        self.db = open_database(workspace.db_path)
        self.log = InteractionLog(self.db, before_log=self._before_log)

    @classmethod
    def open(cls, path: Path | str | None = None) -> "Agent":
        return cls(Workspace.resolve(path))

    def _before_log(self, record: dict) -> None:
        self.plugins.hook.before_log(agent=self, record=record)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

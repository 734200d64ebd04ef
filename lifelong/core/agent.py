"""Agent: a workspace with its plugins loaded, the entry point of the embedded Python API."""

from __future__ import annotations

import os
from functools import cached_property
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

    @property
    def model_cache(self) -> Path:
        """De-quantised model weights, shared by every workspace of the user."""
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lifelong" / "models"
        return Path(os.environ.get("LIFELONG_MODEL_CACHE") or default)

    def _model(self, spec: str, fallback):
        if spec in self.plugins.registry.names("models"):
            return self.plugins.registry.get("models", spec)(self)
        return fallback(spec)

    @cached_property
    def embedder(self):
        from ..models import load_embedder

        return self._model(self.config.models.embedder, load_embedder)

    @cached_property
    def retriever(self):
        cls = self.plugins.registry.get("retrievers", self.config.retrieval.retriever)
        return cls(self)

    # --- knowledge -----------------------------------------------------------------------------

    def ingest(self, paths, progress=None):
        """Add files and folders to the knowledge base; returns an IngestReport (``skipped``
        lists each file left out, with the reason)."""
        if isinstance(paths, (str, Path)):
            paths = [paths]
        return self.retriever.ingest(paths, progress=progress)

    def search(self, query: str, k: int | None = None, mode: str | None = None):
        """Chunks for ``query`` (mode: dense, keyword or hybrid), best first."""
        return self.retriever.search(query, k=k, mode=mode)

    def forget(self, document: str) -> int:
        """Remove a document and its vectors; returns how many chunks went."""
        return self.retriever.forget(document)

    def _before_log(self, record: dict) -> None:
        self.plugins.hook.before_log(agent=self, record=record)

    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

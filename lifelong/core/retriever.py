"""What a retriever plugin provides: subclass ``Retriever`` and register it with
``register_retrievers``; ``[retrieval] retriever = "NAME"`` picks it. The agent, its tasks and
the CLI reach the knowledge base through these methods only."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError


@dataclass
class Hit:
    """One retrieved chunk: ``score`` is higher for better hits (its scale is the retriever's)."""

    chunk_id: int
    document: str
    position: int
    score: float
    text: str


@dataclass
class IngestReport:
    """What an ingest did, file by file."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    chunks: int = 0

    @property
    def ok(self) -> bool:
        return not self.skipped


class Retriever(ABC):
    """A knowledge base, created as ``cls(agent)`` once per agent; it keeps its files under
    ``agent.workspace.path`` and embeds with ``agent.embedder``. Bad input (an empty query,
    ``k < 1``, an unknown document) raises ``InputError``; a file that cannot be read is reported
    in ``IngestReport.skipped`` and the others are ingested."""

    def __init__(self, agent):
        self.agent = agent

    @abstractmethod
    def ingest(self, paths: list[Path], progress=None, follow_links: bool = False) -> IngestReport:
        """Add files and folders (recursively); an unchanged file is left as it is, a changed one
        replaced. ``progress`` is a rich Progress to report to, or None. A folder's symbolic
        links that lead outside it are skipped (with the reason), unless ``follow_links``: a
        folder someone else made must not pull in other files of the machine."""

    @abstractmethod
    def add_text(self, text: str, source: str, origin: str = "agent") -> int:
        """Store ``text`` written by the agent itself under the name ``source`` (replacing an
        earlier text of that name), searchable at once; ``origin`` is listed by ``documents``.
        Returns how many chunks were added."""

    @abstractmethod
    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        """At most ``k`` hits for ``query``, best first (None: the retriever's default).
        ``mode`` is dense, keyword or hybrid; a retriever with a single way of searching may
        ignore it."""

    @abstractmethod
    def forget(self, document: str) -> int:
        """Remove a document (its path as ingested, or a ``source`` name); returns how many chunks
        went."""

    @abstractmethod
    def documents(self) -> list[dict]:
        """One dict per document: ``path``, ``origin`` (file or what ``add_text`` was given),
        ``chunks`` (how many) and ``ingested_at`` (ISO time)."""

    def purge(self, documents: list[str]) -> None:
        """Called after an erasure has forgotten ``documents``: remove whatever of them the
        retriever's storage still holds (a search index that deletes lazily, earlier versions
        kept for ``restore``), so that their text is gone from the disk. By default there is
        nothing to remove."""

    def snapshot(self) -> str | None:
        """An id of the knowledge base as it is now, recorded with each model version trained
        on it; ``restore`` brings that state back. None (the default): no snapshots are kept."""
        return None

    def restore(self, snapshot: str) -> dict:
        """Bring the documents back to ``snapshot``: returns the paths ``removed``, ``restored``
        and ``missing`` (no longer kept, e.g. erased: left as they are)."""
        raise InputError(f"the retriever {type(self).__name__} keeps no knowledge snapshots to restore")

    @abstractmethod
    def is_empty(self) -> bool:
        """True when there is nothing to search (the agent then skips retrieval)."""

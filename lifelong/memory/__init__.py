"""Memory: the SQLite log, the replay buffers and the vector index."""

from .db import open_database, write_transaction
from .log import InteractionLog

__all__ = ["open_database", "write_transaction", "InteractionLog"]

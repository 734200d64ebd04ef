"""Memory: the log, the examples, the replay buffers, the versions and the documents, in the
workspace's SQLite file or a shared PostgreSQL database; and the vector index."""

from .db import open_database, write_transaction
from .log import InteractionLog

__all__ = ["open_database", "write_transaction", "InteractionLog"]

"""Built-in knowledge retrieval: chunking, embeddings, FAISS and keyword (SQLite FTS5 or
PostgreSQL full-text) hybrid search. Its options are ``[plugins.retrieval]``; its tables
(documents, chunks and their keyword index) are its own migrations, on either backend."""

from lifelong.api import hookimpl

from .options import RetrievalOptions
from .retriever import FaissRetriever
from .schema import MIGRATIONS


@hookimpl
def register_retrievers(register):
    register("faiss", FaissRetriever)


@hookimpl
def plugin_options():
    return RetrievalOptions


@hookimpl
def register_migrations(register):
    for name, migration, postgresql in MIGRATIONS:
        register(name, migration, postgresql=postgresql)

"""Built-in knowledge retrieval: chunking, embeddings, FAISS and SQLite FTS5 hybrid search.
Its options are ``[plugins.retrieval]``; its tables (documents, chunks and their FTS5 index)
are its own migrations."""

from lifelong import hookimpl

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

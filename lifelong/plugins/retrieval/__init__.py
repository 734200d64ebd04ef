"""Built-in knowledge retrieval: chunking, embeddings, FAISS and SQLite FTS5 hybrid search."""

from lifelong import hookimpl

from .retriever import FaissRetriever


@hookimpl
def register_retrievers(register):
    register("faiss", FaissRetriever)

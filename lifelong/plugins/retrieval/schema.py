"""The retriever's tables, as its own named migrations. Workspaces made before the plugins
owned their tables got the same tables from the core's migrations (m003 and m010 there): each
migration here leaves what already exists as it is, so it is a no-op on those."""


def m001_documents_and_chunks(db):
    db["documents"].create(
        {"id": int, "path": str, "sha256": str, "size": int, "ingested_at": str, "origin": str},
        pk="id",
        not_null={"path", "sha256"},
        if_not_exists=True,
    )
    db["documents"].create_index(["path"], unique=True, if_not_exists=True)
    db["chunks"].create(
        # embedding: float32 little-endian bytes, so the vector index can be rebuilt from SQLite
        {"id": int, "document_id": int, "position": int, "text": str, "sha256": str, "embedding": bytes},
        pk="id",
        foreign_keys=[("document_id", "documents", "id")],
        not_null={"document_id", "text", "sha256"},
        if_not_exists=True,
    )
    db["chunks"].create_index(["document_id", "position"], if_not_exists=True)
    db["chunks"].create_index(["sha256"], if_not_exists=True)
    if not db["chunks_fts"].exists():
        db["chunks"].enable_fts(["text"], create_triggers=True, tokenize="porter")


def m002_corrections_leave_the_documents(db):
    # Corrections used to be stored as knowledge documents too, and their "Question: ...
    # Answer: ..." chunks then crept into the context of unrelated questions. They answer from
    # the examples table now; the vector index notices the change and rebuilds itself.
    ids = [r[0] for r in db.execute("select id from documents where origin = 'feedback' and path like 'correction:%'")]
    for doc_id in ids:
        db.execute("delete from chunks where document_id = ?", [doc_id])
        db.execute("delete from documents where id = ?", [doc_id])


MIGRATIONS = [m001_documents_and_chunks, m002_corrections_leave_the_documents]

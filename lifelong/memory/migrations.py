"""Named, append-only schema migrations, applied on every open. Never edit one that shipped:
add a new function below it. Plugins' tables are the plugins' own migrations, each plugin's
a set of its own (``named_set``)."""

from pathlib import Path
from typing import Callable

from sqlite_utils.migrations import Migrations

from . import provenance

migrations = Migrations("lifelong")


@migrations()
def m001_interactions(db):
    db["interactions"].create(
        {
            "id": int,
            "created_at": str,  # ISO 8601, UTC
            "task": str,
            "input": str,
            "output": str,
            "sources": str,  # JSON list of {chunk_id, document, score}
            "model_version": str,
            "latency_ms": float,
            "prompt_tokens": int,
            "completion_tokens": int,
            "status": str,  # ok | error
            "error": str,
        },
        pk="id",
        not_null={"created_at", "task", "input", "status"},
    )
    db["interactions"].create_index(["task", "created_at"])


@migrations()
def m002_feedback(db):
    db["feedback"].create(
        {"id": int, "interaction_id": int, "created_at": str, "rating": int, "correction": str},
        pk="id",
        foreign_keys=[("interaction_id", "interactions", "id")],
        not_null={"interaction_id", "created_at"},
    )
    db["feedback"].create_index(["interaction_id"])


# m003_documents_and_chunks created the built-in retriever's tables; they are its own
# migrations now (lifelong/plugins/retrieval/schema.py), which leave them as they are where
# this one ran.


@migrations()
def m004_examples(db):
    db["examples"].create(
        {
            "id": int,
            "created_at": str,
            "task": str,
            "input": str,
            "target": str,  # the answer text, or the label
            "split": str,  # train | heldout
            "origin": str,  # correction | rating | import
            "interaction_id": int,
            "cycle": int,  # the learning cycle the example first joined; NULL until then
        },
        pk="id",
        foreign_keys=[("interaction_id", "interactions", "id")],
        not_null={"created_at", "task", "input", "target", "split", "origin"},
    )
    db["examples"].create_index(["task", "cycle"])


@migrations()
def m005_replay_buffer(db):
    db["replay_buffer"].create(
        {"task": str, "example_id": int, "added_at": str, "weight": float},
        pk=("task", "example_id"),
        foreign_keys=[("example_id", "examples", "id")],
    )
    db["buffer_state"].create({"task": str, "seen": int}, pk="task")


@migrations()
def m006_learning(db):
    db["model_versions"].create(
        {
            "id": int,
            "task": str,
            "created_at": str,
            "adapter_path": str,
            "parent_id": int,
            "status": str,  # candidate | active | rejected | retired
            "reason": str,
        },
        pk="id",
        foreign_keys=[("parent_id", "model_versions", "id")],
        not_null={"task", "created_at", "status"},
    )
    db["model_versions"].create_index(["task", "status"])
    db["learning_runs"].create(
        {
            "id": int,
            "task": str,
            "cycle": int,
            "strategy": str,
            "started_at": str,
            "finished_at": str,
            "status": str,  # running | promoted | rejected | failed
            "version_id": int,
            "new_examples": int,
            "replayed_examples": int,
            "metrics": str,  # JSON: accuracy matrix row, probe, ACC/BWT/forgetting
            "reason": str,
            "seconds": float,
        },
        pk="id",
        foreign_keys=[("version_id", "model_versions", "id")],
        not_null={"task", "strategy", "started_at", "status"},
    )


@migrations()
def m007_relative_adapter_paths(db):
    """Adapter folders relative to the workspace, so a copied or moved workspace serves its own
    adapters and never the original's."""
    for row_id, path in db.execute("select id, adapter_path from model_versions where adapter_path is not null").fetchall():
        parts = Path(path).parts
        if Path(path).is_absolute() and "adapters" in parts:
            start = len(parts) - 1 - parts[::-1].index("adapters")
            db.execute("update model_versions set adapter_path = ? where id = ?", [str(Path(*parts[start:])), row_id])


@migrations()
def m008_adapter_checksums(db):
    """The sha256 of each adapter file, so a damaged adapter is caught before it serves. Adapters
    saved before this are trusted as they are now."""
    import hashlib
    import json

    db["model_versions"].add_column("adapter_files", str)  # JSON {relative file: sha256}
    database = next((row[2] for row in db.execute("pragma database_list") if row[1] == "main"), "")
    if not database:
        return
    root = Path(database).parent
    for row_id, path in db.execute("select id, adapter_path from model_versions where adapter_path is not null").fetchall():
        folder = root / path
        if folder.is_dir():
            files = {str(f.relative_to(folder)): hashlib.sha256(f.read_bytes()).hexdigest()
                     for f in sorted(folder.rglob("*")) if f.is_file()}
            db.execute("update model_versions set adapter_files = ? where id = ?", [json.dumps(files), row_id])


@migrations()
def m009_conversations_and_answer_paths(db):
    # answered_by: who wrote the answer (model, generate, extract, not_in_sources, correction...);
    # grounding: why a generated answer failed the grounding check, when it did.
    db["interactions"].add_column("conversation", str)
    db["interactions"].add_column("answered_by", str)
    db["interactions"].add_column("grounding", str)
    db["interactions"].create_index(["conversation"])


# m010_corrections_leave_the_documents moved to the retriever's migrations with its tables.


@migrations()
def m012_answer_confidence(db):
    # A classifier's confidence in its answer, so the review queue can put the least sure
    # answers, and those near the out-of-scope threshold, in front of a person.
    db["interactions"].add_column("confidence", float)


@migrations()
def m013_version_numbers(db):
    """Versions numbered per task (v1, v2... of each task), the name users see; ``id`` stays the
    internal key. Interactions logged before keep their version under its new name."""
    db["model_versions"].add_column("number", int)
    db.execute("update model_versions set number = (select count(*) from model_versions earlier "
               "where earlier.task = model_versions.task and earlier.id <= model_versions.id)")
    db.execute("update interactions set model_version = (select 'v' || v.number from model_versions v "
               "where v.task = interactions.task and 'v' || v.id = interactions.model_version) "
               "where exists (select 1 from model_versions v where v.task = interactions.task "
               "and 'v' || v.id = interactions.model_version)")
    db["model_versions"].create_index(["task", "number"], unique=True)


@migrations()
def m014_preference_examples(db):
    # Preference learning (learning/objectives.py): a feedback row may be a preference (two answers
    # to its question, one chosen); an example may carry the worse answer of a pair (``rejected``)
    # and the rating it came from (``rating``: +1 desirable, -1 undesirable).
    db["feedback"].add_column("chosen", str)
    db["feedback"].add_column("rejected", str)
    db["examples"].add_column("rejected", str)
    db["examples"].add_column("rating", int)


@migrations()
def m015_lineage_subjects_and_training_sets(db):
    """What every row and model learned from (memory/lineage.py): the person an interaction is
    about, the examples each learning run trained on and the version it started from, the
    knowledge documents written from interactions, and a record of each erasure."""
    db["interactions"].add_column("subject", str)
    db["interactions"].create_index(["subject"])
    db["learning_runs"].add_column("parent_version_id", int)
    db["lineage_run_examples"].create(
        # replayed: 0 for the run's new examples, 1 for those it replayed from earlier cycles
        {"run_id": int, "example_id": int, "replayed": int},
        pk=("run_id", "example_id"),
        foreign_keys=[("run_id", "learning_runs", "id"), ("example_id", "examples", "id")],
    )
    db["lineage_run_examples"].create_index(["example_id"])
    db["lineage_documents"].create(
        {"document": str, "interaction_id": int},
        pk=("document", "interaction_id"),
        foreign_keys=[("interaction_id", "interactions", "id")],
    )
    db["lineage_documents"].create_index(["interaction_id"])
    db["lineage_erasures"].create(
        # summary: JSON counts and version numbers, never the erased text or the subject itself
        {"id": int, "created_at": str, "subject_sha256": str, "summary": str},
        pk="id",
        not_null={"created_at", "summary"},
    )
    # Runs from before lineage was kept learned at least their cycle's examples.
    db.execute("""insert into lineage_run_examples (run_id, example_id, replayed)
                  select r.id, e.id, 0 from learning_runs r join examples e on e.task = r.task and e.cycle = r.cycle
                  where r.status = 'promoted'""")


@migrations()
def m016_knowledge_snapshots(db):
    # The knowledge-base snapshot (Retriever.snapshot) a version was trained and assessed with.
    db["model_versions"].add_column("knowledge", str)


@migrations()
def m017_one_active_version_per_task(db):
    """At most one active version per task, enforced as PostgreSQL's m001 always did (found by
    tests/test_schema_agreement.py). Promotion already retired the previous version in the same
    transaction; a database where two were active anyway keeps the newest."""
    db.execute("update model_versions set status = 'retired' where status = 'active' and id < "
               "(select max(newer.id) from model_versions newer where newer.task = model_versions.task "
               "and newer.status = 'active')")
    db.execute("create unique index model_versions_one_active on model_versions (task) where status = 'active'")


@migrations()
def m018_answer_provenance(db):
    """Who answered each interaction and what stored data the answer repeats, one typed row
    each (memory/provenance.py), read by erasure and lineage instead of answer labels."""
    db.execute("create table answer_provenance (interaction_id integer not null references interactions (id), "
               "kind text not null, ref text not null, primary key (interaction_id, kind, ref))")
    db.execute("create index answer_provenance_kind_ref on answer_provenance (kind, ref)")
    provenance.backfill(db)


def named_set(name: str, named: list[tuple[str, Callable]]) -> Migrations:
    """The migration set ``name`` (how ``_sqlite_migrations`` records it) of ``(migration name,
    function)`` pairs, applied in that order."""
    found = Migrations(name)
    for migration_name, function in named:
        found(name=migration_name)(function)
    return found

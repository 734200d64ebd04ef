"""Lineage: which rows, documents and model versions depend on which interactions, and the
deletion of all of it. An example records its interaction, a buffer entry its example, a
knowledge document the interactions it was written from, a learning run the examples it
trained on and the version it started from; a version inherits what its parent learned."""

from __future__ import annotations

import hashlib
import json

from . import provenance
from .db import utcnow


def _marks(ids) -> str:
    return ",".join("?" * len(ids))


class Lineage:
    def __init__(self, db):
        self.db = db

    # --- recording -------------------------------------------------------------------------

    def record_run(self, run_id: int, examples: list[dict], new_ids: set[int]) -> None:
        """The examples a run trains on (rows of the examples table; others have no lineage)."""
        rows = {e["id"]: int(e["id"] not in new_ids) for e in examples if e.get("id") is not None}
        self.db["lineage_run_examples"].insert_all(
            {"run_id": run_id, "example_id": example_id, "replayed": replayed} for example_id, replayed in rows.items())

    def record_document(self, document: str, interaction_ids: list[int]) -> None:
        known = {r[0] for r in self.db.execute("select interaction_id from lineage_documents where document = ?", [document])}
        self.db["lineage_documents"].insert_all(
            {"document": document, "interaction_id": i} for i in dict.fromkeys(interaction_ids) if i not in known)

    def forget_document(self, document: str) -> None:
        self.db.execute("delete from lineage_documents where document = ?", [document])

    # --- what depends on interactions --------------------------------------------------------

    def interactions_of(self, subject: str) -> list[int]:
        return [r[0] for r in self.db.execute("select id from interactions where subject = ? order by id", [subject])]

    def dependants(self, interaction_ids: list[int]) -> dict:
        """Everything derived from ``interaction_ids``: the ids of feedback, examples, buffer
        entries ((task, example id)), documents (names), other interactions whose answer repeated
        the data (their provenance, memory/provenance.py, names one of the interactions, an
        example made from one, or one of their documents), learning runs that trained on it, and
        versions whose weights hold it (those runs' versions and all their descendants)."""
        ids = list(interaction_ids)
        if not ids:
            return {"interactions": [], "feedback": [], "examples": [], "buffer": [], "documents": [], "answers": [],
                    "runs": [], "versions": []}
        marks = _marks(ids)
        documents = [r[0] for r in self.db.execute(
            f"select distinct document from lineage_documents where interaction_id in ({marks}) order by document", ids)]
        own_examples = self._ids(f"select id from examples where interaction_id in ({marks})", ids)
        answers = sorted(set(provenance.answers_repeating(self.db, own_examples, ids, documents)) - set(ids))
        # An answer repeated the data: a rating of it taught that answer, and a preference about it
        # (a pair the user picked from, or with it as the worse answer) holds it.
        feedback = self._ids(f"""select id from feedback where interaction_id in ({marks})
                                 or (chosen is not null and interaction_id in ({_marks(answers) or 'null'}))""",
                             [*ids, *answers])
        examples = sorted({*own_examples, *self._ids(
            f"select id from examples where origin in ('rating', 'preference') and interaction_id in ({_marks(answers) or 'null'})",
            answers)})
        buffer = [tuple(r) for r in self.db.execute(
            f"select task, example_id from replay_buffer where example_id in ({_marks(examples) or 'null'})", examples)]
        runs = self._ids(f"""select distinct run_id from lineage_run_examples
                             where example_id in ({_marks(examples) or 'null'})""", examples)
        trained = self._ids(f"""select version_id from learning_runs
                                where id in ({_marks(runs) or 'null'}) and version_id is not null""", runs)
        return {"interactions": ids, "feedback": feedback, "examples": examples, "buffer": buffer,
                "documents": documents, "answers": answers, "runs": runs, "versions": self.descendants(trained)}

    def descendants(self, version_ids: list[int]) -> list[int]:
        """``version_ids`` and every version trained from one of them, directly or not."""
        found, frontier = set(version_ids), list(version_ids)
        while frontier:
            children = self._ids(f"select id from model_versions where parent_id in ({_marks(frontier)})", frontier)
            frontier = [c for c in children if c not in found]
            found.update(frontier)
        return sorted(found)

    # --- what a version learned from ---------------------------------------------------------

    def learned_from(self, version_id: int) -> list[dict]:
        """The version and its ancestors, nearest first, each with the examples its run trained
        on (``example``, ``replayed``, ``interaction``, ``subject``)."""
        chain, current = [], version_id
        while current is not None:
            # Lists, not generators left open: an open statement would keep VACUUM from running.
            version = list(self.db.query("select * from model_versions where id = ?", [current]))[0]
            run = next(iter(list(self.db.query("select id from learning_runs where version_id = ? order by id desc limit 1",
                                               [current]))), None)
            examples = [] if run is None else [dict(r) for r in self.db.query(
                """select l.example_id as example, l.replayed, e.origin, e.interaction_id as interaction, i.subject
                   from lineage_run_examples l join examples e on e.id = l.example_id
                   left join interactions i on i.id = e.interaction_id
                   where l.run_id = ? order by l.example_id""", [run["id"]])]
            chain.append({"version": version["number"], "task": version["task"], "status": version["status"],
                          "run": run["id"] if run else None, "examples": examples})
            current = version["parent_id"]
        return chain

    # --- deletion -------------------------------------------------------------------------------

    def delete(self, found: dict) -> None:
        """Delete the rows of ``found`` (as ``dependants`` gives it), blank the answers that
        repeated the data, and mark its versions and their runs erased; call inside a write
        transaction. Documents are the retriever's: the caller forgets them."""
        examples, versions = found["examples"], found["versions"]
        both = [*found["interactions"], *found["answers"]]
        for sql, ids in (
            (f"delete from replay_buffer where example_id in ({_marks(examples)})", examples),
            (f"delete from lineage_run_examples where example_id in ({_marks(examples)})", examples),
            (f"delete from examples where id in ({_marks(examples)})", examples),
            # A correction of such an answer is the corrector's own, but its pair kept the answer.
            (f"update examples set rejected = null where interaction_id in ({_marks(found['answers'])})", found["answers"]),
            (f"update interactions set output = null, sources = '[]', answered_by = 'erased' where id in ({_marks(found['answers'])})",
             found["answers"]),
            (f"delete from lineage_documents where interaction_id in ({_marks(found['interactions'])})", found["interactions"]),
            # A blanked answer no longer repeats anything.
            (f"delete from answer_provenance where interaction_id in ({_marks(both)})", both),
            (f"delete from feedback where id in ({_marks(found['feedback'])})", found["feedback"]),
            (f"delete from interactions where id in ({_marks(found['interactions'])})", found["interactions"]),
            (f"""update model_versions set status = 'erased', adapter_path = null, adapter_files = null,
                 reason = 'it learned from erased data' where id in ({_marks(versions)})""", versions),
            (f"""update learning_runs set status = 'erased', reason = 'its version learned from erased data'
                 where version_id in ({_marks(versions)})""", versions),
        ):
            if ids:
                self.db.execute(sql, list(ids))

    def tasks_of(self, found: dict) -> list[str]:
        """The tasks whose examples or versions are in ``found``."""
        examples, versions = found["examples"], found["versions"]
        rows = self.db.execute(f"""select task from examples where id in ({_marks(examples) or 'null'})
                                   union select task from model_versions where id in ({_marks(versions) or 'null'})""",
                               [*examples, *versions])
        return sorted({r[0] for r in rows})

    def learned_as_new(self, task: str, versions: list[int], leaving: list[int] = ()) -> list[int]:
        """The examples, other than ``leaving``, that the promoted runs of ``versions`` learned
        as new."""
        ids = self._ids(f"""select distinct l.example_id from lineage_run_examples l
                            join learning_runs r on r.id = l.run_id join examples e on e.id = l.example_id
                            where l.replayed = 0 and r.task = ? and e.cycle is not null
                            and r.version_id in ({_marks(versions) or 'null'})""", [task, *versions])
        return sorted(set(ids) - set(leaving))

    def relearn(self, task: str, ids: list[int]) -> None:
        """Make examples of ``task`` wait for the next learning run again, out of the replay
        buffer (which is offered them again once they are learned). Call inside a write
        transaction."""
        if ids:
            offered = self.db.execute(f"select count(*) from examples where split = 'train' and id in ({_marks(ids)})",
                                      ids).fetchone()[0]
            self.db.execute(f"update examples set cycle = null where id in ({_marks(ids)})", ids)
            self.db.execute(f"delete from replay_buffer where task = ? and example_id in ({_marks(ids)})", [task, *ids])
            # The buffer saw them when their cycles were promoted; it will see them again.
            self.db.execute("update buffer_state set seen = case when seen > ? then seen - ? else 0 end where task = ?",
                            [offered, offered, task])

    def log_erasure(self, subject: str | None, summary: dict) -> int:
        """Record an erasure: counts and version numbers, and a hash of the subject (so an
        erasure can be confirmed to someone who names it), never the erased content."""
        digest = hashlib.sha256(subject.encode("utf-8")).hexdigest() if subject is not None else None
        return self.db["lineage_erasures"].insert(
            {"created_at": utcnow(), "subject_sha256": digest, "summary": json.dumps(summary)}).last_pk

    def erasures(self) -> list[dict]:
        return [dict(r, summary=json.loads(r["summary"])) for r in self.db["lineage_erasures"].rows_where(order_by="id")]

    def _ids(self, sql: str, args) -> list[int]:
        return sorted({r[0] for r in self.db.execute(sql, list(args))})

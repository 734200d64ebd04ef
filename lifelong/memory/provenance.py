"""Answer provenance: who answered each interaction (an adapter version, a plugin) and what
stored data the answer repeats (examples, interactions, documents), one typed row each in
``answer_provenance``. Erasure and lineage read these rows; nothing parses answer labels."""

from __future__ import annotations

import json
import re

# A row's kind: "version" (the adapter that generated the answer, by id), "plugin" (the
# before_ask plugin that answered instead of the model), "example", "interaction", "document"
# (stored data the answer repeats).


def _marks(values) -> str:
    return ",".join("?" * len(values))


def record(db, interaction_id: int, rows: list[tuple[str, str]]) -> None:
    """Store ``(kind, ref)`` rows for an interaction; call inside the write that logs it."""
    for kind, ref in dict.fromkeys(rows):
        db.execute("insert into answer_provenance (interaction_id, kind, ref) values (?, ?, ?)",
                   [interaction_id, kind, str(ref)])


def of(db, interaction_id: int) -> list[dict]:
    return [{"kind": r[0], "ref": r[1]} for r in db.execute(
        "select kind, ref from answer_provenance where interaction_id = ? order by kind, ref", [interaction_id])]


def answers_repeating(db, examples: list[int], interactions: list[int], documents: list[str]) -> list[int]:
    """Interactions whose answer repeats one of ``examples``, ``interactions`` or ``documents``."""
    found = set()
    for kind, refs in (("example", [str(e) for e in examples]), ("interaction", [str(i) for i in interactions]),
                       ("document", list(documents))):
        if refs:
            found.update(r[0] for r in db.execute(
                f"select distinct interaction_id from answer_provenance where kind = ? and ref in ({_marks(refs)})",
                [kind, *refs]))
    return sorted(found)


_CORRECTION = re.compile(r"correction:(\d+)")
_VERSION = re.compile(r"v(\d+)")


def backfill(db) -> None:
    """The provenance of answers logged before the table existed, read once from what they
    recorded then: ``correction:N`` as model version (the corrections plugin, example N), ``vN``
    (that version of the task) and the documents of their sources."""
    versions = {(r[0], r[1]): r[2] for r in db.execute("select task, number, id from model_versions")}
    rows = list(db.execute("select id, task, model_version, sources from interactions where status = 'ok'"))
    for interaction_id, task, label, sources in rows:
        found = []
        if label and (correction := _CORRECTION.fullmatch(label)):
            found += [("plugin", "corrections"), ("example", correction.group(1))]
        elif label and (version := _VERSION.fullmatch(label)) and (task, int(version.group(1))) in versions:
            found.append(("version", versions[task, int(version.group(1))]))
        try:
            cited = json.loads(sources or "[]")
        except ValueError:
            cited = []
        found += [("document", s["document"]) for s in cited if isinstance(s, dict)
                  and isinstance(s.get("document"), str) and not s["document"].startswith("correction:")]
        record(db, interaction_id, found)

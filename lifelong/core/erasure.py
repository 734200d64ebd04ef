"""Erasure: a person's data out of every table, the knowledge base and the adapters' weights.

What depends on the interactions is found through lineage (memory/lineage.py) and deleted in
one transaction. The weights follow SISA (Bourtoule et al. 2021): only what depends on the
deleted data is retrained. Every version that learned from it, and every version trained from
one of those, is deleted from disk; a task whose active version was among them serves its
nearest clean ancestor at once, and the examples the erased versions learned as new (less the
erased ones) wait for learning again. An ordinary learning run then retrains them from that
ancestor, through the gate: an erasure from the last cycle retrains one cycle's examples, one
from the first retrains them all."""

from __future__ import annotations

import contextlib
import logging
import shutil
from dataclasses import asdict, dataclass, field

from ..errors import InputError, LifelongError
from ..memory.db import compact, write_transaction
from ..validation import check_id, check_subject
from .learner import learning_lock

log = logging.getLogger("lifelong")


@dataclass
class TaskPlan:
    """What erasure does to one task whose active version learned from the data."""

    task: str
    erased_active: int  # version numbers of the task (v3: 3)
    serves: int | None  # the nearest clean ancestor (None: the base model)
    relearn: list[int]  # examples to learn again from it


@dataclass
class ErasureReport:
    removed: dict  # kind -> how many: interactions, feedback, examples, buffer, documents, answers, runs
    versions: list[dict]  # versions deleted because they learned from the data: {"task", "version"}
    tasks: list[TaskPlan]
    dry_run: bool
    erasure: int | None = None  # the id of the logged erasure
    retrained: list[dict] = field(default_factory=list)  # the learning runs that retrained, as run records
    not_retrained: dict = field(default_factory=dict)  # task -> why no run retrained it
    database_compacted: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


def interactions_of(agent, user: str | None, interaction: int | None) -> list[int]:
    """The ids of ``user``'s interactions, or ``[interaction]``: exactly one of the two."""
    if (user is None) == (interaction is None):
        raise InputError("name a user or an interaction (one of the two)")
    if interaction is not None:
        check_id(interaction, "interaction")
        agent._log.get(interaction)
        return [interaction]
    user = check_subject(user)
    if user is None:
        raise InputError("the user is empty; give the id the interactions were asked with")
    return agent._lineage.interactions_of(user)


def erase(agent, user: str | None = None, interaction: int | None = None, dry_run: bool = False) -> ErasureReport:
    found = agent._lineage.dependants(interactions_of(agent, user, interaction))
    if dry_run:
        return _report(agent, found, _plans(agent, found), True)
    with contextlib.ExitStack() as locks:
        for task in agent._lineage.tasks_of(found):
            locks.enter_context(learning_lock(agent, task))
        # Under the locks no run can start training on the data: look again, it may have grown.
        found = agent._lineage.dependants(interactions_of(agent, user, interaction))
        plans = _plans(agent, found)
        folders = [agent._versions.by_id(v)["adapter_path"] for v in found["versions"]]
        for document in found["documents"]:
            with contextlib.suppress(InputError):  # forgotten already, by hand or by an erasure cut short
                agent.forget(document)
        report = _report(agent, found, plans, False)
        with write_transaction(agent._db):
            agent._lineage.delete(found)
            for plan in plans:
                agent._lineage.relearn(plan.task, plan.relearn)
                if plan.serves is not None:
                    agent._versions.promote(agent._versions.get(plan.serves, plan.task)["id"])
            report.erasure = agent._lineage.log_erasure(user, {k: v for k, v in report.to_dict().items()
                                                              if k in ("removed", "versions")})
        for folder in folders:
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
        agent.retriever.purge(found["documents"])
        report.database_compacted = compact(agent._db)
        if not report.database_compacted:
            log.warning("another process is reading the database: its write-ahead log is emptied at the next checkpoint")
    _retrain(agent, report)
    return report


def _plans(agent, found: dict) -> list[TaskPlan]:
    """For each task whose active version learned from the data: the clean ancestor that
    serves instead and the examples to learn again from it."""
    tainted, plans = set(found["versions"]), []
    for task in agent._lineage.tasks_of(found):
        active = agent._versions.active(task)
        if active is None or active["id"] not in tainted:
            continue
        chain, version = [], active
        while version is not None and (version["id"] in tainted or agent._versions.problem(version) is not None):
            chain.append(version["id"])
            version = agent._versions.by_id(version["parent_id"]) if version["parent_id"] is not None else None
        relearn = agent._lineage.learned_as_new(task, chain, leaving=found["examples"])
        plans.append(TaskPlan(task, active["number"], version["number"] if version else None, relearn))
    return plans


def _report(agent, found: dict, plans: list[TaskPlan], dry_run: bool) -> ErasureReport:
    removed = {kind: len(found[kind]) for kind in
               ("interactions", "feedback", "examples", "buffer", "documents", "answers", "runs")}
    return ErasureReport(removed, version_names(agent, found["versions"]), plans, dry_run)


def version_names(agent, version_ids: list[int]) -> list[dict]:
    """Versions as users name them: ``{"task", "version"}`` (the task's version number)."""
    rows = [agent._versions.by_id(v) for v in version_ids]
    return [{"task": row["task"], "version": row["number"]} for row in rows]


def _retrain(agent, report: ErasureReport) -> None:
    """Ordinary learning runs for each task that lost its active version, from the ancestor now
    serving, until nothing waits (a run learns at most learning.max_new examples): on a
    rejection the ancestor keeps serving and the examples keep waiting."""
    for plan in report.tasks:
        if not plan.relearn:
            report.not_retrained[plan.task] = "nothing left to learn again"
            continue
        try:
            while True:
                run = agent.learn(plan.task)
                report.retrained.append(run.to_dict())
                if not run.promoted or not agent.pending_examples(plan.task):
                    break
        except LifelongError as exc:
            report.not_retrained[plan.task] = f"{exc}; the examples wait for 'lifelong learn --task {plan.task}'"

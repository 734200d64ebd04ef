"""One learning cycle: new examples + replay -> a candidate adapter -> the evaluation gate ->
promoted or rejected. Runs of the same task never overlap, and a run killed at any point
leaves the previous active adapter serving and the next run working."""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..learning.behaviour import lost_questions
from ..learning.gate import PAIRS, decide
from ..learning.objectives import counts, route
from ..learning.threads import cycle_threads
from ..learning.metrics import preference_metrics, summarize
from ..memory.db import exclusive, write_transaction
from ..memory.lineage import Lineage
from ..errors import InputError, LearningCancelled, LifelongError
from ..files import atomic_write
from .launch import Launch, join_training, run_training, running_job
from .runs import run_record
from .task import LearnableTask

REFUSED_ADAPTERS_KEPT = 3


@dataclass
class LearningReport:
    run_id: int
    task: str
    strategy: str
    cycle: int
    new_examples: int
    replayed_examples: int
    promoted: bool
    version: int | None
    reason: str
    seconds: float
    metrics: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The run record (core/runs.py), as ``lifelong report --json`` lists it."""
        return run_record(run=self.run_id, task=self.task, cycle=self.cycle, strategy=self.strategy,
                          status="promoted" if self.promoted else "rejected", version=self.version,
                          new=self.new_examples, replayed=self.replayed_examples, seconds=self.seconds,
                          reason=self.reason, metrics=self.metrics)


class Learner:
    """``launch``: how training runs (core/launch.py); by default in this process."""

    def __init__(self, agent, launch: Launch = Launch()):
        self.agent = agent
        self.db = agent._db
        self.launch = launch

    def run(self, task: str = "chat", strategy: str | None = None, progress=None) -> LearningReport:
        config = self.agent.config.learning
        strategy = strategy or config.strategy
        task_obj = self.agent.learnable_task(task)
        # An unknown strategy or buffer name fails here, before the lock and the dead-run cleanup.
        self.agent.plugins.registry.get("learners", strategy)
        self.agent.plugins.registry.get("buffers", config.buffer)
        if not self.launch.in_process and type(task_obj).load_trained is LearnableTask.load_trained:
            raise InputError(f"task {task!r} ({type(task_obj).__name__}) cannot train in several processes: "
                             "it does not implement load_trained")
        with learning_lock(self.agent, task):
            close_dead_runs(self.agent, task)
            new = self._oldest_learnable(task_obj, self.agent._examples.pending(task))
            if not new:
                raise InputError(
                    f"no new examples for task {task!r}: correct or rate answers, or import examples, first"
                )
            with cycle_threads(config.threads) as threads:
                return self._cycle(task_obj, strategy, new, progress, threads)

    def _oldest_learnable(self, task_obj, pending: list[dict]) -> list[dict]:
        """The pending examples up to the ``max_new``-th one a run trains on, oldest first, so
        what a refused run left pending is learned before what came after. Those in between that
        it does not train on (held out, or a rating the objective leaves out) come along, as
        they would in an uncapped run: a window of them alone would stop the queue for good."""
        config, trained = self.agent.config.learning, 0
        if not config.max_new:
            return pending
        for n, example in enumerate(pending, 1):
            trained += example["split"] == "train" and bool(route([example], config.objective, task_obj.objectives))
            if trained == config.max_new:
                return pending[:n]
        return pending

    def join(self, task: str, wait: float) -> int:
        """Train, on this machine, its share of the run of ``task`` that machine 0 is starting or
        has started (``self.launch``: this machine's accelerate config), waiting up to ``wait``
        seconds for it; returns the run's id. This machine writes nothing: machine 0 saves the
        adapter, gates it and records the run. Raises TrainingProcessError when a process fails."""
        self.launch.check_joins()
        self.agent.learnable_task(task)
        deadline = time.monotonic() + wait
        while (job := running_job(self.agent.adapters_dir / task, self._running(task))) is None:
            if time.monotonic() > deadline:
                raise LifelongError(f"no multi-machine learning run of task {task!r} started within {wait:.0f} s; "
                                    "start it on machine 0 with 'lifelong learn --accelerate-config FILE'")
            time.sleep(1.0)
        log = self.agent.workspace.path / "logs" / f"learn-run-{job['run_id']}-joined.log"
        join_training(self.launch, {**job, "workspace": str(self.agent.workspace.path)}, log)
        return job["run_id"]

    def _running(self, task: str) -> set[int]:
        return {run["id"] for run in self.agent._runs.list(task, "running")}

    def strategy(self, task_obj, strategy: str):
        """The strategy ``strategy`` of this run, over the task's replay buffer."""
        buffer = self.agent.replay_buffer(task_obj.name, group=task_obj.replay_group)
        return self.agent.plugins.registry.get("learners", strategy)(self.agent, task_obj, buffer)

    def _cycle(self, task_obj, strategy, new, progress, threads: int) -> LearningReport:
        task, config, started = task_obj.name, self.agent.config.learning, time.perf_counter()
        cycle = 1 + self.agent._examples.last_cycle(task)
        strat = self.strategy(task_obj, strategy)
        train_new = [e for e in new if e["split"] == "train"]
        if not train_new:
            raise InputError(f"all {len(new)} new examples of task {task!r} are held out; add more")
        active = self.agent._versions.serving(task)
        parent_path = active["adapter_path"] if active else None
        # A run after a refused one may learn the same examples: its replay draw differs, or it
        # would train the same candidate and be refused again.
        attempt = sum(run["cycle"] == cycle for run in self.agent._runs.list(task))
        plan_seed = f"{config.seed}:{cycle}:{attempt}"
        plan = strat.plan(train_new, parent_path, random.Random(plan_seed))
        # Replayed examples are routed like new ones: each run learns every example by the same rule.
        # A task may train what it has learned before differently (Task.train: ``replayed``).
        # New ones first: where a new example repeats a replayed one, route keeps the new.
        new_ids = {e["id"] for e in train_new}
        marked = sorted(({**e, "replayed": e["id"] not in new_ids} for e in plan.examples), key=lambda e: e["replayed"])
        items = route(marked, config.objective, task_obj.objectives)
        if not items:
            raise InputError(f"the {len(train_new)} new examples of task {task!r} are thumbs-down ratings, which "
                             f"objective {config.objective!r} does not learn: set [learning] objective = \"kto\" or "
                             "\"auto\", or correct the answers")
        # The knowledge the candidate trains and is assessed with, for rollback --with-knowledge.
        knowledge = self.agent.retriever.snapshot()
        with write_transaction(self.db):
            run_id = self.agent._runs.start(task, cycle, strategy, len(train_new), plan.replayed,
                                           active["id"] if active else None)
            Lineage(self.db).record_run(run_id, plan.examples, {e["id"] for e in train_new})
        self.agent.plugins.hook.before_learn(agent=self.agent, task=task, examples=plan.examples)
        adapter_path = None
        try:
            if progress:
                step = progress.add_task(f"cycle {cycle}: {len(train_new)} new + {plan.replayed} replayed examples, "
                                         f"{len(items)} to train on, {threads} thread(s)", total=1)
                progress.update(step, advance=1)
            if self.launch.in_process:
                model = task_obj.train(items, parent_path, penalty=plan.penalty, progress=progress)
                version_id = self.agent._versions.add(task, None, active["id"] if active else None)
                adapter_path = self._save(task_obj, model, version_id)
            else:
                job = {"workspace": str(self.agent.workspace.path), "task": task, "strategy": strategy, "plan_seed": plan_seed,
                       "new": train_new, "examples": items, "parent_path": parent_path, "run_id": run_id}
                model = None  # loaded from the saved adapter only if a strategy needs it
                version_id, adapter_path = self._train_launched(task, job, run_id, active, progress)
            sets = self._evaluation_sets(task, cycle, new)
            # Shown as a step of its own, so a job cancelled while the gate assesses stops here
            # (JobProgress raises on update) instead of promoting.
            step = progress.add_task("assessing the candidate and its parent", total=2) if progress else None
            candidate, candidate_probe = task_obj.assess(str(adapter_path), sets)
            if progress:
                progress.update(step, advance=1)
            before, before_probe = task_obj.assess(parent_path, sets)
            if progress:
                progress.update(step, advance=1)
        except BaseException as exc:
            if adapter_path is not None:  # no version will ever serve it
                shutil.rmtree(adapter_path, ignore_errors=True)
            status = "cancelled" if isinstance(exc, LearningCancelled) else "failed"
            self._finish(run_id, status, None, {}, f"{type(exc).__name__}: {exc}", started)
            raise
        promoted, reason = decide(cycle, candidate, before, candidate_probe, before_probe, self.agent.config.learning)
        metrics = self._metrics(task, run_id, cycle, candidate, before, candidate_probe, before_probe)
        metrics.update(objectives=counts(items), **preference_metrics(candidate.get(PAIRS, {}).get(cycle),
                                                                      before.get(PAIRS, {}).get(cycle)))
        with write_transaction(self.db):
            self.agent._versions.set_adapter(version_id, adapter_path)
            self.agent._versions.set_knowledge(version_id, knowledge)
            if promoted:
                self.agent._versions.promote(version_id)
                self.agent._examples.mark_cycle([e["id"] for e in new], cycle)
            else:
                self.agent._versions.reject(version_id, reason)
            seconds = self._finish(run_id, "promoted" if promoted else "rejected", version_id, metrics, reason, started)
        if not promoted:
            # Kept for 'lifelong promote' by hand; without a bound, every refusal would add an
            # adapter (about 13 MB on SmolLM2) for good.
            for folder in self.agent._versions.release_refused(task, REFUSED_ADAPTERS_KEPT):
                shutil.rmtree(folder, ignore_errors=True)
        if promoted:
            strat.after_cycle(train_new, model or task_obj.load_trained(str(adapter_path)), adapter_path)
        report = LearningReport(
            run_id, task, strategy, cycle, len(train_new), plan.replayed, promoted,
            self.agent._versions.by_id(version_id)["number"], reason, seconds, metrics,
        )
        self.agent.plugins.hook.after_learn(agent=self.agent, task=task, report=report)
        return report

    def _evaluation_sets(self, task, cycle, new) -> dict:
        """Per cycle: its held-out examples, or its training examples when none were held out
        (facts taught by correction are checked for recall)."""
        def pick(examples):
            held = [e for e in examples if e["split"] == "heldout"]
            return held or examples

        sets = {c: pick(self.agent._examples.of_cycle(task, c)) for c in earlier_cycles_checked(cycle, self.agent.task(task).gate_earlier_cycles)}
        sets[cycle] = pick(new)
        return sets

    def _metrics(self, task, run_id, cycle, candidate, before, candidate_probe, before_probe) -> dict:
        """This run's row of the accuracy matrix, and ACC/BWT/forgetting over the promoted
        lineage so far plus this row."""
        rows = [r["metrics"]["row"] for r in self.agent._runs.list(task, "promoted", before_cycle=cycle)]
        # None: a cycle the gate did not check in this run (Task.gate_earlier_cycles).
        row = [candidate.get(j, 0.0) if j in candidate else None for j in range(1, cycle + 1)]
        was = [before.get(j, 0.0) if j in candidate else None for j in range(1, cycle + 1)]
        metrics = {"row": row, "before": was, **summarize([*rows, row])}
        if candidate_probe is not None and before_probe is not None:
            metrics.update({
                "probe_perplexity": candidate_probe["perplexity"], "probe_perplexity_before": before_probe["perplexity"],
                "behaviour_right": sum(candidate_probe["behaviour"].values()),
                "behaviour_right_before": sum(before_probe["behaviour"].values()),
                "behaviour_lost": lost_questions(before_probe["behaviour"], candidate_probe["behaviour"]),
                **candidate_probe.get("report", {}),
            })
        return metrics

    def _save(self, task_obj, model, version_id) -> Path:
        root = self.agent.adapters_dir / task_obj.name
        root.mkdir(parents=True, exist_ok=True)
        final = root / f"v{self.agent._versions.by_id(version_id)['number']}"
        with atomic_write(final) as tmp:  # a crash never leaves half an adapter
            tmp.mkdir()
            task_obj.save_adapter(model, tmp)
        return final

    def _train_launched(self, task, job, run_id, active, progress) -> tuple[int, Path]:
        """Train in the processes of ``self.launch``; process 0 writes the adapter into a
        private folder, which is moved into place once every process has finished."""
        root = self.agent.adapters_dir / task
        root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".tmp-launch-", dir=root))  # removed by close_dead_runs if we die
        try:
            log = self.agent.workspace.path / "logs" / f"learn-run-{run_id}.log"
            run_training(self.launch, job, folder, log, progress)
            version_id = self.agent._versions.add(task, None, active["id"] if active else None)
            final = root / f"v{self.agent._versions.by_id(version_id)['number']}"
            os.replace(folder, final)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return version_id, final

    def _finish(self, run_id, status, version_id, metrics, reason, started) -> float:
        """Record how the run ended; returns its duration, as recorded (the report shows the same)."""
        seconds = round(time.perf_counter() - started, 2)
        self.agent._runs.finish(run_id, status, version_id, metrics, reason, seconds)
        return seconds

def earlier_cycles_checked(cycle: int, most: int) -> list[int]:
    """The earlier cycles the gate checks in run ``cycle``: all of them, or with ``most`` > 0 the
    latest and ``most - 1`` of the older ones, in sweeps from the oldest (cycles added since a
    sweep began join its end): each is checked again within about ``(cycle - 2) / (most - 1)``
    runs, the fewest that checking ``most - 1`` of them per run allows."""
    if most <= 0 or cycle - 1 <= most:
        return list(range(1, cycle))
    take, position, picked = most - 1, 1, []
    for run in range(most + 2, cycle + 1):  # the runs that checked only some cycles, in order
        picked = []
        for _ in range(take):
            picked.append(position)
            position = position % (run - 2) + 1  # older cycles of that run: 1 .. run - 2
    return sorted(set(picked)) + [cycle - 1]


def close_dead_runs(agent, task: str) -> None:
    """Runs of ``task`` left 'running' by a process that died, their candidates and half-written
    adapters; call holding the task's learning lock (no run is alive then)."""
    with write_transaction(agent._db):
        agent._runs.interrupted(task)
        agent._versions.reject_candidates(task, "interrupted")
    for leftover in (agent.adapters_dir / task).glob(".tmp-*"):
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)  # a launch's job file


def close_dead_runs_of_all_tasks(agent) -> None:
    """When a workspace opens: the runs still 'running' whose task's lock nobody holds are
    dead (the lock goes with its process), and are marked interrupted at once."""
    for task in sorted({run["task"] for run in agent._runs.list(status="running")}):
        try:
            with learning_lock(agent, task):
                close_dead_runs(agent, task)
        except LifelongError:
            continue  # a run of this task is alive


@contextlib.contextmanager
def learning_lock(agent, task):
    """Runs of one task never overlap: on PostgreSQL not even from two machines. An erasure
    holds it too, so that no run trains on what is being erased."""
    held = contextlib.ExitStack()
    try:
        held.enter_context(exclusive(agent._db, f"lifelong:learn:{task}", agent.workspace.path / f".learn-{task}.lock"))
    except BlockingIOError:
        raise LifelongError(f"a learning run of task {task!r} is already going on; wait for it") from None
    with held:
        yield

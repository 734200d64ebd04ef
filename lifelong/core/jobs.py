"""The one background learner of an agent: learning runs started on request (``POST /v1/learn``,
the dashboard's "learn now") and runs a watch starts when enough new examples are waiting
(``learn_in_background``, ``lifelong learn --watch``) queue for a single thread with an agent
of its own. Runs never overlap, so two of them never fight for the same cores, and the learning
agent stays open between runs, so a later run on the same parent reuses what the first loaded.
The thread runs at a lower priority, so answering stays fast while it trains."""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from ..errors import InputError, LearningCancelled, LifelongError, NotFoundError
from ..learning.threads import lower_priority_of_this_thread

log = logging.getLogger("lifelong")

# A job waiting or going on: another of its task is refused instead of queued behind it.
UNFINISHED = ("queued", "running", "cancelling")


class JobProgress:
    """The part of rich's Progress that training reports to (``add_task``, ``update``); it keeps
    the latest step for readers and stops the run once its job is cancelled."""

    def __init__(self, cancelled: threading.Event):
        self.cancelled = cancelled
        self.description, self.completed, self.total = "queued", 0.0, None
        self.started = time.monotonic()  # of the current step

    def add_task(self, description: str, total=None, **_):
        self._check()
        self.description, self.completed, self.total, self.started = description, 0.0, total, time.monotonic()
        return 0

    def update(self, task_id, advance: float = 0, description: str | None = None, **_):
        self._check()
        self.completed += advance
        if description:
            self.description = description

    def _check(self):
        if self.cancelled.is_set():
            raise LearningCancelled("cancelled on request")

    def to_dict(self) -> dict:
        fraction = None if not self.total else round(min(1.0, self.completed / self.total), 3)
        left = None
        if fraction and fraction < 1:  # at the pace of the step so far
            left = round((time.monotonic() - self.started) * (1 - fraction) / fraction)
        return {"description": self.description, "completed": self.completed, "total": self.total, "fraction": fraction,
                "seconds_left": left}


@dataclass
class LearningJob:
    id: str
    task: str
    strategy: str | None
    status: str = "queued"  # queued | running | cancelling | succeeded | failed | cancelled
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    report: object = None  # the LearningReport of a finished run
    error: str | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    progress: JobProgress | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "object": "learning.job", "task": self.task, "strategy": self.strategy,
                "status": self.status, "created_at": int(self.created_at),
                "finished_at": int(self.finished_at) if self.finished_at else None,
                "progress": self.progress.to_dict(), "result": None if self.report is None else self.report.to_dict(),
                "error": self.error}


class Watch:
    """What ``learn_in_background`` returns: learns ``task`` whenever ``min_new`` new examples
    are waiting, looking at once and then every ``every`` seconds. ``reports``: each finished
    run's LearningReport, oldest first."""

    def __init__(self, learner: "BackgroundLearner", task: str, every: float, min_new: int, strategy: str | None,
                 on_report: Callable | None):
        self.learner, self.task, self.every, self.min_new = learner, task, every, min_new
        self.strategy, self.on_report = strategy, on_report
        self.reports = []
        self.due = time.monotonic()
        self.job: LearningJob | None = None  # its latest run
        self._stopped = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def stop(self, timeout: float | None = None) -> None:
        """Start no further run; wait up to ``timeout`` seconds for the one in progress, if any."""
        self._stopped.set()
        self.learner.wake()
        if self.job is not None:
            self.job.done.wait(timeout)

    def wait(self) -> None:
        """Block until the watch is stopped (or for ever): what ``lifelong learn --watch`` does."""
        self._stopped.wait()

    def finished(self, job: LearningJob) -> None:
        if job.report is not None:
            self.reports.append(job.report)
            if self.on_report is not None:
                self.on_report(job.report)
        elif job.error:
            log.warning("background learning of %s: %s", self.task, job.error)


class BackgroundLearner:
    """The learning runs of one agent, one at a time in one thread (started on first use).
    ``serving``: the agent whose requests start runs; it checks a request at once (the task
    learns, the strategy exists, new examples are waiting) so a request fails with a reason
    instead of a job that fails a moment later. ``open_agent``: the learning thread's own agent
    (own connection and model copies), so serving goes on meanwhile."""

    def __init__(self, serving, open_agent: Callable):
        self.serving, self.open_agent = serving, open_agent
        self._jobs: dict[str, LearningJob] = {}
        self._watches: list[Watch] = []
        self._queue: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, task: str, strategy: str | None = None) -> LearningJob:
        """Queue a run of ``task``; it starts when the run before it (if any) has ended."""
        self.serving.check_learnable(task, strategy)
        if not self.serving.pending_examples(task):
            raise InputError(f"no new examples for task {task!r}: correct or rate answers, or import examples, first")
        job = self._new_job(task, strategy)
        self._queue.put(job)
        return job

    def watch(self, task: str, every: float, min_new: int, strategy: str | None = None,
              on_report: Callable | None = None) -> Watch:
        self.serving.check_learnable(task, strategy)  # a typo must fail now, not in the thread
        handle = Watch(self, task, every, min_new, strategy, on_report)
        with self._lock:
            self._watches.append(handle)
        self.wake()
        return handle

    def _new_job(self, task: str, strategy: str | None) -> LearningJob:
        with self._lock:
            if self._closed.is_set():
                raise LifelongError("the agent is closed: open it again to learn")
            if any(j.task == task and j.status in UNFINISHED for j in self._jobs.values()):
                raise LifelongError(f"a learning run of task {task!r} is already going on; wait for it or cancel it")
            job = LearningJob(uuid.uuid4().hex[:12], task, strategy)
            job.progress = JobProgress(job.cancel_requested)
            self._jobs[job.id] = job
            self._start_thread()
        return job

    def wake(self) -> None:
        """Have the learning thread look at its watches now (one was added or stopped)."""
        with self._lock:
            self._start_thread()
        self._queue.put(None)

    def _start_thread(self) -> None:  # under self._lock
        if self._thread is None and not self._closed.is_set():
            self._thread = threading.Thread(target=self._work, name="lifelong-learner", daemon=True)
            self._thread.start()

    def _work(self) -> None:
        lower_priority_of_this_thread()  # answering stays fast while a run trains
        agent = None
        try:
            while not self._closed.is_set():
                try:
                    job = self._queue.get(timeout=self._until_next_watch())
                except queue.Empty:
                    job = None
                if job is not None and self._take(job):
                    agent = agent or self.open_agent()
                    self._run(agent, job)
                for handle in self._due_watches():
                    agent = agent or self.open_agent()
                    self._look(agent, handle)
        finally:
            if agent is not None:
                agent.close()

    def _take(self, job: LearningJob) -> bool:
        with self._lock:
            if job.status != "queued" or self._closed.is_set():  # cancelled while it waited
                return False
            job.status = "running"
            return True

    def _until_next_watch(self) -> float | None:
        with self._lock:
            self._watches = [w for w in self._watches if not w.stopped]
            dues = [w.due for w in self._watches]
        return max(0.0, min(dues) - time.monotonic()) if dues else None

    def _due_watches(self) -> list[Watch]:
        now = time.monotonic()
        with self._lock:
            return [w for w in self._watches if not w.stopped and w.due <= now]

    def _look(self, agent, handle: Watch) -> None:
        try:
            if len(agent.pending_examples(handle.task)) < handle.min_new:
                return
            try:
                handle.job = self._new_job(handle.task, handle.strategy)
            except LifelongError:  # a requested run of the task is queued: it learns the same examples
                return
            if self._take(handle.job):
                self._run(agent, handle.job)
            handle.finished(handle.job)
        finally:
            handle.due = time.monotonic() + handle.every

    def _run(self, agent, job: LearningJob) -> None:
        try:
            job.report = agent.learn(job.task, job.strategy, progress=job.progress)
            job.status = "succeeded"
        except LearningCancelled:
            job.status = "cancelled"
        except Exception as exc:  # reported through the job; the serving process goes on
            job.status = "failed"
            job.error = str(exc) if isinstance(exc, LifelongError) else f"{type(exc).__name__}: {exc}"
        _finish(job)

    def get(self, job_id: str) -> LearningJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no learning job {job_id!r}; POST /v1/learn starts one")
        return job

    def list(self) -> list[LearningJob]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def cancel(self, job_id: str) -> LearningJob:
        """Stop the job at its next training step (a queued one never starts); a finished job
        stays as it is."""
        job = self.get(job_id)
        with self._lock:  # the learning thread takes a queued job under the same lock
            if job.status == "queued":
                job.status = "cancelled"
                _finish(job)
            elif job.status == "running":
                job.status = "cancelling"
                job.cancel_requested.set()
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> LearningJob:
        """Block until the job has finished (tests, scripts)."""
        job = self.get(job_id)
        job.done.wait(timeout)
        return job

    def close(self, timeout: float = 30.0) -> None:
        """Stop every watch, cancel what is queued or running, and wait up to ``timeout`` seconds
        for the thread to end (a run cancelled between training steps ends at the next one)."""
        with self._lock:
            self._closed.set()
            watches, jobs = list(self._watches), list(self._jobs.values())
        for handle in watches:
            handle._stopped.set()
        for job in jobs:
            if job.status in ("queued", "running"):
                self.cancel(job.id)
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout)


def _finish(job: LearningJob) -> None:
    job.finished_at = time.time()
    job.done.set()

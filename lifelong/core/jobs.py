"""Learning runs started in the background (``POST /v1/learn``, the dashboard's "learn now"):
each job runs in a thread with an agent of its own, reports its progress, and can be cancelled
at its next training step."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

from ..errors import InputError, LearningCancelled, LifelongError, NotFoundError
from ..learning.threads import lower_priority_of_this_thread


class JobProgress:
    """The part of rich's Progress that training reports to (``add_task``, ``update``); it keeps
    the latest step for readers and stops the run once its job is cancelled."""

    def __init__(self, cancelled: threading.Event):
        self.cancelled = cancelled
        self.description, self.completed, self.total = "starting", 0.0, None
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
    status: str = "running"  # running | cancelling | succeeded | failed | cancelled
    created_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    result: dict | None = None
    error: str | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    progress: JobProgress | None = None

    def to_dict(self) -> dict:
        return {"id": self.id, "object": "learning.job", "task": self.task, "strategy": self.strategy,
                "status": self.status, "created_at": int(self.created_at),
                "finished_at": int(self.finished_at) if self.finished_at else None,
                "progress": self.progress.to_dict(), "result": self.result, "error": self.error}


class LearningJobs:
    """The background learning jobs of one server. ``start`` checks what can be checked at once
    (the task learns, the strategy exists, new examples are waiting, no run of the task is going
    on) so a request fails with a reason instead of a job that fails a moment later."""

    def __init__(self, workspace, agent):
        self.workspace, self.agent = workspace, agent  # agent: the serving one, for the checks
        self._jobs: dict[str, LearningJob] = {}
        self._lock = threading.Lock()

    def start(self, task: str, strategy: str | None = None) -> LearningJob:
        self.agent.check_learnable(task, strategy)
        if not self.agent.examples.pending(task):
            raise InputError(f"no new examples for task {task!r}: correct or rate answers, or import examples, first")
        with self._lock:
            if any(j.task == task and j.status in ("running", "cancelling") for j in self._jobs.values()):
                raise LifelongError(f"a learning run of task {task!r} is already going on; wait for it or cancel it")
            job = LearningJob(uuid.uuid4().hex[:12], task, strategy)
            job.progress = JobProgress(job.cancel_requested)
            self._jobs[job.id] = job
        threading.Thread(target=self._run, args=(job,), name=f"lifelong-job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: LearningJob) -> None:
        from .agent import Agent

        lower_priority_of_this_thread()  # the server's answers stay fast while the job trains
        try:
            # Its own agent: its own connection and model copies, so serving goes on meanwhile.
            with Agent(self.workspace) as learner:
                job.result = learner.learn(job.task, job.strategy, progress=job.progress).to_dict()
            job.status = "succeeded"
        except LearningCancelled:
            job.status = "cancelled"
        except Exception as exc:  # reported through the job; the serving process goes on
            job.status, job.error = "failed", str(exc) if isinstance(exc, LifelongError) else f"{type(exc).__name__}: {exc}"
        job.finished_at = time.time()
        job.done.set()

    def get(self, job_id: str) -> LearningJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no learning job {job_id!r}; POST /v1/learn starts one")
        return job

    def list(self) -> list[LearningJob]:
        return sorted(self._jobs.values(), key=lambda j: j.created_at, reverse=True)

    def cancel(self, job_id: str) -> LearningJob:
        """Stop the job at its next training step; a finished job stays as it is."""
        job = self.get(job_id)
        if job.status == "running":
            job.status = "cancelling"
            job.cancel_requested.set()
        return job

    def wait(self, job_id: str, timeout: float | None = None) -> LearningJob:
        """Block until the job has finished (tests, scripts)."""
        job = self.get(job_id)
        job.done.wait(timeout)
        return job

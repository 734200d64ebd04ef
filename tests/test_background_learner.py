"""The one background learner (core/jobs.py): requested and watched runs queue for one thread
and one learning agent. Driven by a recording agent, so each test takes well under a second."""

import threading
from types import SimpleNamespace

import pytest

from lifelong.core.jobs import BackgroundLearner
from lifelong.errors import InputError, LifelongError


class RecordingAgent:
    """What the learner calls on its agents: each ``learn`` waits for ``release`` and records
    how many runs were going on at once."""

    def __init__(self, pending: int = 1):
        self.pending_count = pending
        self.release = threading.Semaphore(0)
        self.started = threading.Semaphore(0)
        self.running = self.most_at_once = 0
        self.learned, self.opened, self.closed = [], 0, 0
        self.fail_with: Exception | None = None

    def pending_examples(self, task):
        return [object()] * self.pending_count

    def check_learnable(self, task, strategy=None):
        if task == "nosuch":
            raise InputError("unknown task 'nosuch'")

    def open_learning_agent(self):
        self.opened += 1
        return self

    def learn(self, task, strategy=None, progress=None):
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.started.release()
        try:
            assert self.release.acquire(timeout=30), "the test never released the run"
            progress.add_task("training", total=1)
            if self.fail_with is not None:
                raise self.fail_with
            self.learned.append(task)
            self.pending_count = 0
            return SimpleNamespace(task=task, promoted=True, to_dict=lambda: {"task": task, "promoted": True})
        finally:
            self.running -= 1

    def close(self):
        self.closed += 1


@pytest.fixture
def agent():
    return RecordingAgent()


@pytest.fixture
def learner(agent):
    learner = BackgroundLearner(agent, agent.open_learning_agent)
    yield learner
    for _ in range(10):
        agent.release.release()
    learner.close(timeout=10)


def test_requested_runs_queue_for_one_thread_and_one_learning_agent(agent, learner):
    first, second = learner.start("chat"), learner.start("classify")
    assert agent.started.acquire(timeout=10)
    assert first.status == "running" and second.status == "queued"
    agent.release.release()
    agent.release.release()
    assert learner.wait(second.id, timeout=10).status == "succeeded"
    assert first.status == "succeeded" and agent.learned == ["chat", "classify"]
    assert agent.most_at_once == 1 and agent.opened == 1  # the learning agent stays open between runs
    assert second.to_dict()["result"] == {"task": "classify", "promoted": True}


def test_a_second_run_of_a_task_is_refused_while_one_waits_or_runs(agent, learner):
    learner.start("chat")
    with pytest.raises(LifelongError, match="already going on"):
        learner.start("chat")


def test_a_cancelled_queued_run_never_starts(agent, learner):
    first = learner.start("chat")
    queued = learner.start("classify")
    assert learner.cancel(queued.id).status == "cancelled" and queued.done.is_set()
    agent.release.release()
    assert learner.wait(first.id, timeout=10).status == "succeeded"
    learner.close(timeout=10)
    assert agent.learned == ["chat"]


def test_a_running_run_is_cancelled_at_its_next_step(agent, learner):
    job = learner.start("chat")
    assert agent.started.acquire(timeout=10)
    assert learner.cancel(job.id).status == "cancelling"
    agent.release.release()
    assert learner.wait(job.id, timeout=10).status == "cancelled" and agent.learned == []


def test_a_failed_run_says_why_and_the_learner_goes_on(agent, learner):
    agent.fail_with = RuntimeError("out of memory")
    failed = learner.start("chat")
    agent.release.release()
    assert learner.wait(failed.id, timeout=10).error == "RuntimeError: out of memory"
    agent.fail_with = None
    agent.pending_count = 1
    again = learner.start("chat")
    agent.release.release()
    assert learner.wait(again.id, timeout=10).status == "succeeded"


def test_requests_are_checked_at_once(agent, learner):
    with pytest.raises(InputError, match="nosuch"):
        learner.start("nosuch")
    with pytest.raises(InputError, match="nosuch"):
        learner.watch("nosuch", every=1, min_new=1)
    agent.pending_count = 0
    with pytest.raises(InputError, match="no new examples"):
        learner.start("chat")
    assert learner.list() == []


def test_a_watch_learns_when_enough_examples_wait_and_its_runs_are_jobs(agent, learner):
    reports = []
    agent.pending_count = 2
    watch = learner.watch("chat", every=0.05, min_new=3, on_report=reports.append)
    assert not agent.started.acquire(timeout=0.3)  # 2 of 3 waiting: no run
    agent.pending_count = 3
    assert agent.started.acquire(timeout=10)
    agent.release.release()
    watch.stop(timeout=10)
    assert [r.task for r in watch.reports] == ["chat"] == [r.task for r in reports]
    assert [j.status for j in learner.list()] == ["succeeded"]  # listed beside requested runs


def test_a_requested_run_waits_behind_a_watched_one(agent, learner):
    watch = learner.watch("chat", every=60, min_new=1)
    assert agent.started.acquire(timeout=10)
    requested = learner.start("classify")
    assert requested.status == "queued" and agent.most_at_once == 1
    agent.release.release()
    agent.release.release()
    assert learner.wait(requested.id, timeout=10).status == "succeeded"
    watch.stop(timeout=10)
    assert agent.learned == ["chat", "classify"] and agent.most_at_once == 1


def test_closing_cancels_what_waits_and_closes_the_learning_agent(agent, learner):
    running, queued = learner.start("chat"), learner.start("classify")
    watch = learner.watch("other", every=60, min_new=1)
    assert agent.started.acquire(timeout=10)
    agent.release.release()
    learner.close(timeout=10)
    assert queued.status == "cancelled" and watch.stopped and agent.closed == 1
    assert running.done.is_set() and agent.learned in ([], ["chat"])  # cancelled at its next step
    with pytest.raises(LifelongError, match="closed"):
        learner.start("chat")

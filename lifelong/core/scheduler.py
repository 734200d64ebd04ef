"""Periodic re-fine-tuning in a background thread, so ``ask`` is never blocked by training."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ..errors import LifelongError
from ..learning.threads import lower_priority_of_this_thread

log = logging.getLogger("lifelong")


class BackgroundLearning:
    """At once and then every ``every`` seconds, run a learning cycle of ``task`` when
    ``min_new`` new examples are waiting. The thread has its own agent from ``open_agent`` (own
    SQLite connection and model copies); the serving agent picks up a promoted adapter on its
    next ask. ``on_report`` is called with each run's report; a run that fails is a warning."""

    def __init__(self, open_agent: Callable, task: str, every: float, min_new: int, strategy: str | None = None,
                 on_report: Callable | None = None):
        self.open_agent, self.task, self.every, self.min_new = open_agent, task, every, min_new
        self.strategy, self.on_report = strategy, on_report
        self.reports = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lifelong-learn-{task}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        lower_priority_of_this_thread()  # answering stays fast while a cycle runs
        agent = self.open_agent()
        try:
            while not self._stop.is_set():
                if len(agent.examples.pending(self.task)) >= self.min_new:
                    self._learn(agent)
                self._stop.wait(self.every)
        finally:
            agent.close()

    def _learn(self, agent) -> None:
        try:
            report = agent.learn(self.task, self.strategy)
        except LifelongError as exc:
            log.warning("background learning of %s: %s", self.task, exc)
            return
        self.reports.append(report)
        if self.on_report is not None:
            self.on_report(report)

    def wait(self) -> None:
        """Block until the loop ends (after ``stop``, or never): what ``lifelong learn --watch`` does."""
        self._thread.join()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the run in progress, if any."""
        self._stop.set()
        self._thread.join(timeout)

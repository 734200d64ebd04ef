"""Periodic re-fine-tuning in a background thread, so ``ask`` is never blocked by training."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from ..errors import LifelongError

log = logging.getLogger("lifelong")


class BackgroundLearning:
    """Every ``every`` seconds, run a learning cycle of ``task`` when ``min_new`` new examples
    are waiting. The thread has its own agent from ``open_agent`` (own SQLite connection and
    model copies); the serving agent picks up a promoted adapter on its next ask."""

    def __init__(self, open_agent: Callable, task: str, every: float, min_new: int):
        self.open_agent, self.task, self.every, self.min_new = open_agent, task, every, min_new
        self.reports = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"lifelong-learn-{task}", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        agent = self.open_agent()
        try:
            while not self._stop.wait(self.every):
                if len(agent.examples.pending(self.task)) < self.min_new:
                    continue
                try:
                    self.reports.append(agent.learn(self.task))
                except LifelongError as exc:
                    log.warning("background learning of %s: %s", self.task, exc)
        finally:
            agent.close()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the run in progress, if any."""
        self._stop.set()
        self._thread.join(timeout)

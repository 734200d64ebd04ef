"""One process of a multi-process learning cycle, started by ``accelerate launch`` (core/launch.py):
``python -m lifelong.core.training_worker JOB``. JOB (JSON) holds the workspace, the task, the
strategy, the seed of its plan, its new examples, the examples to train on, the parent adapter, the output
folder and the launching process's id.

Every process opens the workspace, rebuilds the strategy's penalty (the same plan the learner
made: same buffer, same seed), and trains on its share of each batch; process 0 then writes
the adapter into the output folder. No process writes to the database, the metrics or the
served adapters: the launching process alone does, after all have finished."""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
import traceback
from pathlib import Path

from .launch import ERROR_PREFIX, PROGRESS_PREFIX


class ProgressLines:
    """The subset of rich's Progress the training loop uses, printed as lines for the
    launching process to show in its own progress bar."""

    def __init__(self):
        self.task, self.total, self.completed, self.description = 0, 0, 0, ""

    def add_task(self, description, total=None, **_):
        self.task += 1  # a step of its own (loading, the starting model's answers, training)
        self.total, self.completed, self.description = total or 0, 0, description
        self._print()
        return self.task

    def update(self, task_id, advance: float = 0, description: str = "", **_):
        self.completed += advance
        self.description = description or self.description
        self._print()

    def _print(self):
        state = {"task": self.task, "total": self.total, "completed": self.completed, "description": self.description}
        print(PROGRESS_PREFIX + json.dumps(state), flush=True)


def exit_with(parent_pid: int) -> None:
    """End this process when the lifelong process that launched the run is gone (killed): its
    run is over, and nobody would read what this one trains."""

    def watch():
        while True:
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            time.sleep(1.0)

    threading.Thread(target=watch, daemon=True).start()


def train(job: dict) -> None:
    import torch
    from accelerate import PartialState

    from ..devices import resolve_device
    from ..learning.threads import cycle_threads
    from .agent import Agent
    from .learner import Learner

    agent = Agent.open(job["workspace"])
    # The process group first: on GPUs it makes this process's own GPU the current one, which
    # "auto" then picks.
    state = PartialState(cpu=resolve_device(agent.config.models.device).type == "cpu")
    if state.device.type == "cuda":
        agent.config.models.device = f"cuda:{torch.cuda.current_device()}"
    task = agent.learnable_task(job["task"])
    strategy = Learner(agent).strategy(task, job["strategy"])
    plan = strategy.plan(job["new"], job["parent_path"], random.Random(job["plan_seed"]))
    progress = ProgressLines() if state.is_main_process else None
    # The launch gave each process its share of the cores (core/launch.py), unless the workspace says.
    with cycle_threads(agent.config.learning.threads or torch.get_num_threads()):
        model = task.train(job["examples"], job["parent_path"], penalty=plan.penalty, progress=progress)
    if state.is_main_process:
        task.save_adapter(model, Path(job["output"]))
    state.wait_for_everyone()
    state.destroy_process_group()
    agent.close()


def main(argv: list[str]) -> int:
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    exit_with(job["parent_pid"])
    try:
        train(job)
    except Exception as exc:
        traceback.print_exc()
        rank = os.environ.get("RANK", "?")
        print(f"{ERROR_PREFIX}process {rank}: {type(exc).__name__}: {exc}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

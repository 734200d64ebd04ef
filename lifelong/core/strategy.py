"""What a continual-learning strategy plugin provides: subclass ``Strategy`` and register it
with ``register_learners``; ``[learning] strategy = "NAME"`` picks it.

Following avalanche's split, a strategy decides *when* the replay buffer is mixed in (``plan``,
before training) and updated (``after_cycle``, once a candidate is promoted); the buffer
decides *what is kept* (``lifelong.ReplayBuffer``)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass
class Plan:
    """What one learning run trains on."""

    examples: list[dict]
    #: How many of ``examples`` came from earlier cycles (reported with the run).
    replayed: int = 0
    #: An extra loss term, ``penalty(model) -> tensor``, added to the training loss (EWC).
    penalty: Callable | None = None


class Strategy:
    """Created as ``cls(agent, task, buffer)`` for each run: ``task`` is the ``LearnableTask``
    and ``buffer`` its ``ReplayBuffer``. The default trains on the new examples alone and offers
    them to the buffer once promoted."""

    def __init__(self, agent, task, buffer):
        self.agent, self.task, self.buffer = agent, task, buffer

    def plan(self, new: list[dict], parent_path: str | None, rng: random.Random) -> Plan:
        """What the run trains on, given this cycle's ``new`` training examples and the active
        adapter at ``parent_path`` (None: the base model). ``rng`` is seeded per cycle."""
        return Plan(list(new))

    def after_cycle(self, new: list[dict], model, adapter_path: Path) -> None:
        """Called once the candidate trained on ``new`` is promoted and saved at
        ``adapter_path``."""
        self.buffer.update(new)

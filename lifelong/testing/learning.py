"""``BufferTests`` and ``StrategyTests``: what the learner relies on from replay-buffer policies
(*what is kept*) and continual-learning strategies (*when* the buffer is used)."""

from __future__ import annotations

import random

import pytest

from lifelong.api import Plan, ReplayBuffer, Strategy

from .workspace import AgentSuite

TASK = "under_test"


def offer(agent, n: int, start: int = 0, labels: int = 3) -> list[dict]:
    """``n`` new training examples of the task, as the learner hands them over."""
    agent.import_examples(TASK, [{"text": f"question {i}", "label": f"label {i % labels}"} for i in range(start, start + n)])
    return [e for e in reversed(agent.examples(TASK, n)) if e["split"] == "train"]


class BufferTests(AgentSuite):
    #: The name the buffer policy is registered under.
    buffer: str = ""
    config = '\n[learning]\nholdout_fraction = 0.0\n\n[tasks.under_test]\nplugin = "classify"\n'

    def make(self, agent, max_size: int, seed: int = 0) -> ReplayBuffer:
        return agent.replay_buffer(TASK, self.buffer, max_size, seed, group=lambda e: e["target"])

    def test_is_a_replay_buffer(self, agent):
        assert issubclass(agent.plugins.registry.get("buffers", self.buffer), ReplayBuffer)

    def test_keeps_at_most_max_size_of_what_was_offered(self, agent):
        buffer, offered = self.make(agent, 5), []
        for start in range(0, 30, 10):
            rows = offer(agent, 10, start)
            offered += rows
            buffer.update(rows)
            assert 1 <= len(buffer) <= 5
        assert {e["id"] for e in buffer.items()} <= {e["id"] for e in offered}
        assert buffer.seen == 30

    def test_state_lives_in_the_database(self, agent):
        buffer = self.make(agent, 4)
        buffer.update(offer(agent, 12))
        assert [e["id"] for e in self.make(agent, 4).items()] == [e["id"] for e in buffer.items()]

    def test_same_seed_same_choice(self, agent):
        rows = offer(agent, 20)
        kept = []
        for _ in range(2):
            buffer = self.make(agent, 6, seed=7)
            buffer.clear()
            buffer.update(rows)
            kept.append([e["id"] for e in buffer.items()])
        assert kept[0] == kept[1]

    def test_resize_shrinks(self, agent):
        buffer = self.make(agent, 8)
        buffer.update(offer(agent, 16))
        buffer.resize(3)
        assert 1 <= len(buffer) <= 3


class StrategyTests(AgentSuite):
    #: The name the strategy is registered under.
    strategy: str = ""
    # A classifier with a linear head learns in a fraction of a second on the tiny encoder;
    # the gate is off so that every run is promoted and reaches after_cycle.
    config = ('\n[learning]\nholdout_fraction = 0.0\ngate = false\nbuffer_size = 4\n\n'
              '[tasks.under_test]\nplugin = "classify"\nhead = "linear"\nepochs = 1\n')

    def make(self, agent) -> Strategy:
        cls = agent.plugins.registry.get("learners", self.strategy)
        buffer = agent.replay_buffer(TASK, "reservoir", 4, 0)
        return cls(agent, agent.task(TASK), buffer)

    def test_is_a_strategy(self, agent):
        assert issubclass(agent.plugins.registry.get("learners", self.strategy), Strategy)

    def test_plan_trains_on_every_new_example(self, agent):
        offer(agent, 6)
        agent.learn(TASK, strategy=self.strategy)  # a first cycle, so that there is something to replay
        new = offer(agent, 6, start=100)
        plan = self.make(agent).plan(new, agent.active_version(TASK)["adapter_path"], random.Random(0))
        assert isinstance(plan, Plan)
        assert {e["id"] for e in new} <= {e["id"] for e in plan.examples}
        assert plan.replayed == len(plan.examples) - len(new)
        assert plan.penalty is None or callable(plan.penalty)

    def test_same_rng_same_plan(self, agent):
        new = offer(agent, 6)
        plans = [self.make(agent).plan(new, None, random.Random(3)) for _ in range(2)]
        assert [e["id"] for e in plans[0].examples] == [e["id"] for e in plans[1].examples]

    @pytest.fixture
    def two_cycles(self, agent):
        offer(agent, 9)
        first = agent.learn(TASK, strategy=self.strategy)
        offer(agent, 9, start=9, labels=5)
        return first, agent.learn(TASK, strategy=self.strategy)

    def test_runs_cycle_after_cycle(self, two_cycles):
        first, second = two_cycles
        assert first.promoted and second.promoted and (first.cycle, second.cycle) == (1, 2)
        assert second.new_examples == 9

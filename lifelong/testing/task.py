"""``TaskTests`` and ``LearnableTaskTests``: what the agent and the learner rely on from a task."""

from __future__ import annotations

import pytest

from lifelong.api import Answer, LearnableTask, Reply, Task

from .workspace import AgentSuite


class TaskTests(AgentSuite):
    #: The task type under test (what ``register_tasks`` registered) and its options.
    task_plugin: str = ""
    task_options: dict = {}
    #: ``(input, target)`` pairs: questions the task is asked and their right answers.
    examples: list[tuple[str, str]] = []

    def prepare(self, agent, task: Task) -> None:
        """Bring ``task`` to where it can answer; override for a task that must learn first."""

    @pytest.fixture
    def task(self, agent):
        task = agent.add_task("under_test", self.task_plugin, **self.task_options)
        self.prepare(agent, task)
        return task

    def test_is_a_task_and_its_options_are_kept(self, agent, task):
        assert isinstance(task, Task) and task.name == "under_test"
        assert agent.tasks()["under_test"] == {"plugin": self.task_plugin, **self.task_options}
        assert self.examples, "set examples: (input, target) pairs the task is asked"

    def test_answer_is_an_answer(self, task):
        answer = task.answer(self.examples[0][0], [])
        assert isinstance(answer, Answer) and isinstance(answer.text, str)
        assert isinstance(answer.model_version, str) and answer.model_version

    def test_stream_yields_text_and_returns_the_answer(self, task):
        pieces, stream = [], task.stream(self.examples[0][0], [])
        while True:
            try:
                pieces.append(next(stream))
            except StopIteration as done:
                answer = done.value
                break
        assert all(isinstance(p, str) for p in pieces)
        assert isinstance(answer, Answer) and "".join(pieces).strip() == answer.text.strip()

    def test_score_is_between_0_and_1_and_1_for_the_target(self, task):
        for input, target in self.examples:
            assert task.score(target, target, input) == 1.0
            assert task.score("", target, input) < 1.0
            assert 0.0 <= task.score(self.examples[-1][1], target, input) <= 1.0

    def test_feedback_teaches_a_correction_and_not_a_bad_rating(self, task):
        interaction = {"input": self.examples[0][0], "output": "something wrong"}
        assert task.example_target(interaction, None, self.examples[0][1]) is not None
        assert task.example_target(interaction, -1, None) is None

    def test_asked_through_the_agent_it_is_logged(self, agent, task):
        reply = agent.ask(self.examples[0][0], task=task.name)
        assert isinstance(reply, Reply) and isinstance(reply.answer, str)
        logged = agent.interaction(reply.id)
        assert logged["task"] == task.name and logged["status"] == "ok" and logged["output"] == reply.answer


class LearnableTaskTests(TaskTests):
    """For a ``LearnableTask``; ``task_options`` may set how long the tiny model trains (for
    the chat task, ``{"epochs": 1}``)."""

    def import_examples(self, agent, task) -> list[dict]:
        agent.import_examples(task.name, [{"text": i, "label": t} for i, t in self.examples])
        # As a learning run hands them to Task.train: new, not replayed.
        return [{**row, "replayed": False} for row in agent.pending_examples(task.name)]

    def test_is_learnable(self, task):
        assert isinstance(task, LearnableTask)

    def test_train_save_and_assess(self, agent, task, tmp_path):
        rows = self.import_examples(agent, task)
        model = task.train(rows, None)
        adapter = tmp_path / "adapter"
        adapter.mkdir()
        task.save_adapter(model, adapter)
        assert any(adapter.iterdir()), "save_adapter wrote nothing"
        for path in (str(adapter), None):
            scores, probes = task.assess(path, {1: rows})
            assert 0.0 <= scores[1] <= 1.0
            assert probes is None or (isinstance(probes["perplexity"], float) and isinstance(probes["behaviour"], dict))

    def test_replay_group_and_fisher(self, agent, task):
        rows = self.import_examples(agent, task)
        hash(task.replay_group(rows[0]))
        model = task.train(rows, None)
        fisher = task.fisher(model, rows)
        assert isinstance(fisher, dict)
        if fisher:  # EWC anchors these parameters by name
            assert set(fisher) <= {name for name, _ in model.named_parameters()}

    def test_a_learning_run_is_reported(self, agent, task):
        rows = self.import_examples(agent, task)
        report = agent.learn(task.name)
        assert report.task == task.name and report.new_examples == sum(r["split"] == "train" for r in rows)
        assert report.reason and report.version is not None
        assert agent.active_version(task.name) is not None or not report.promoted

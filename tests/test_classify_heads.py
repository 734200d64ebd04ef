"""The classify heads that do not forget (prototype, lda), their options, and the gate on a
class-incremental stream."""

from pathlib import Path

import pytest
import torch

from lifelong import ConfigError, InputError
from lifelong.learning.gate import ALL_LABELS, CONFUSED_WITH, KNOWN_LABELS, PER_LABEL, refusal
from lifelong.plugins.classify.heads import LDAHead, PrototypeHead

DIM = 16


def cluster(centre: int, n: int, seed: int) -> torch.Tensor:
    """n feature rows around the unit vector of axis ``centre``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.nn.functional.one_hot(torch.tensor(centre), DIM).float() * 3 + 0.3 * torch.randn(n, DIM, generator=generator)


def fitted(head_cls, labels: dict[str, int]):
    head = head_cls(DIM, [])
    head.grow(list(labels))
    for i, (label, centre) in enumerate(labels.items()):
        head.add(cluster(centre, 20, seed=i), torch.full((20,), head.labels.index(label)))
    return head


@pytest.mark.parametrize("head_cls", [PrototypeHead, LDAHead])
def test_adding_a_label_leaves_the_others_as_they_are(head_cls):
    head = fitted(head_cls, {"a": 0, "b": 1, "c": 2})
    before = {key: value.clone() for key, value in head.state().items()}
    probe = torch.cat([cluster(0, 10, seed=7), cluster(1, 10, seed=8), cluster(2, 10, seed=9)])
    predicted = head.predict(probe, 3)[0]
    head.grow(["d"])
    head.add(cluster(9, 15, seed=3), torch.full((15,), 3))
    state = head.state()
    assert torch.equal(state["counts"][:3], before["counts"]) and torch.equal(state["sums"][:3], before["sums"])
    assert state["counts"][3] == 15
    assert torch.equal(head.predict(probe, 4)[0], predicted)
    assert (head.predict(cluster(9, 5, seed=4), 4)[0] == 3).all()


def test_lda_scatter_updated_in_batches_equals_the_batch_estimate():
    head = LDAHead(DIM, ["a", "b"])
    rows = {0: cluster(0, 30, seed=1), 1: cluster(1, 25, seed=2)}
    for part in (slice(0, 7), slice(7, 19), slice(19, None)):  # three batches of each label, interleaved
        for label, x in rows.items():
            head.add(x[part], torch.full((x[part].shape[0],), label))
    normalised = {k: torch.nn.functional.normalize(x.double(), dim=-1) for k, x in rows.items()}
    expected = sum((x - x.mean(0)).T @ (x - x.mean(0)) for x in normalised.values())
    assert torch.allclose(head.scatter, expected, atol=1e-10)
    assert torch.allclose(head.means()[1], normalised[1].mean(0))


def test_lda_covariance_is_shrunk_and_invertible_with_few_rows():
    head = LDAHead(DIM, ["a", "b"])
    assert torch.equal(head.covariance(), torch.eye(DIM, dtype=torch.float64))  # nothing learned yet
    head.add(cluster(0, 3, seed=1), torch.zeros(3, dtype=torch.long))
    head.add(cluster(1, 3, seed=2), torch.ones(3, dtype=torch.long))
    assert torch.linalg.matrix_rank(head.covariance()) == DIM  # 6 rows, 16 dimensions: shrinkage makes it full rank
    index, confidence = head.predict(cluster(1, 4, seed=5), 2)
    assert (index == 1).all() and ((0 < confidence) & (confidence <= 1)).all()


@pytest.mark.parametrize("options, message", [
    ({"head": "knn"}, "head must be linear, prototype or lda, got 'knn'"),
    ({"head": "lda", "finetune": "head"}, "finetune must be none, lora, full with head 'lda', got 'head'"),
    ({"head": "linear", "finetune": "none"}, "finetune must be lora, full, head with head 'linear', got 'none'"),
    ({"threshold": 1.5}, "threshold must be in [0, 1), got 1.5"),
    ({"threshold": "high"}, "threshold must be of type float, got 'high'"),
])
def test_bad_options_are_one_line_config_errors(agent, options, message):
    with pytest.raises(ConfigError) as error:
        agent.add_task("intent", plugin="classify", **options)
    assert str(error.value) == f"tasks.intent.{message}"


def test_defaults_per_head(agent):
    lda = agent.add_task("intent", plugin="classify").settings
    linear = agent.add_task("old", plugin="classify", head="linear").settings
    assert (lda.head, lda.finetune) == ("lda", "none") and (linear.finetune, linear.threshold) == ("lora", 0.3)


def test_gate_compares_earlier_labels_like_with_like():
    before = {1: 0.96, 2: 0.0, KNOWN_LABELS: {1: 0.96}, PER_LABEL: {"a": 1.0, "b": 0.92}, ALL_LABELS: 0.48}
    # New labels take some of cycle 1's examples (0.96 -> 0.87 with every label allowed), but
    # among cycle 1's own labels nothing was lost, and all labels together gained.
    candidate = {1: 0.87, 2: 0.9, KNOWN_LABELS: {1: 0.95}, PER_LABEL: {"a": 1.0, "b": 0.9}, ALL_LABELS: 0.885}
    assert refusal(2, candidate, before, 0.05) is None
    forgot = {**candidate, KNOWN_LABELS: {1: 0.7}, PER_LABEL: {"a": 1.0, "b": 0.4}, CONFUSED_WITH: {"b": "c"}}
    reason = refusal(2, forgot, before, 0.05)
    assert reason.startswith("cycle 1 dropped from 0.96 to 0.70 among the labels it knew (tolerance 0.05); worst: label 'b' 0.92 -> 0.40")
    assert "most often taken for 'c'" in reason and "head = \"prototype\" or \"lda\"" in reason
    swamped = {**candidate, 2: 0.3, ALL_LABELS: 0.3}
    assert refusal(2, swamped, before, 0.05).startswith("all labels together dropped from 0.48 to 0.30")


def test_gate_without_label_scores_is_unchanged():
    assert refusal(2, {1: 0.5, 2: 0.9}, {1: 0.6, 2: 0.1}, 0.05) == "cycle 1 dropped from 0.60 to 0.50 (tolerance 0.05)"
    assert refusal(2, {1: 0.6, 2: 0.1}, {1: 0.6, 2: 0.1}, 0.05) == "no gain on the new examples (0.10 vs 0.10)"
    assert refusal(2, {1: 0.58, 2: 0.9}, {1: 0.6, 2: 0.1}, 0.05) is None


WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"]
ENDINGS = ["one", "two", "three", "four", "five"]


def step(labels):
    return [{"text": f"{word} {word} {end}", "label": word} for word in labels for end in ENDINGS]


def test_many_step_class_incremental_stream_keeps_learning(agent):
    """Six cycles of two new labels, five rows each, default head and gate, joint strategy."""
    agent.config.learning.holdout_fraction = 0.0
    agent.add_task("intent", plugin="classify", threshold=0.0)
    reports = []
    for start in range(0, len(WORDS), 2):
        agent.import_examples("intent", step(WORDS[start : start + 2]))
        reports.append(agent.learn(task="intent", strategy="joint"))
    assert [r.promoted for r in reports] == [True] * 6, [r.reason for r in reports]
    assert agent.evaluate("intent", step(WORDS))["accuracy"] >= 0.9
    assert reports[-1].metrics["bwt"] >= -0.05


def test_a_task_keeps_the_head_it_learned_with(agent):
    agent.config.learning.holdout_fraction = 0.0
    agent.add_task("intent", plugin="classify", head="prototype")
    agent.import_examples("intent", step(WORDS[:2]))
    assert agent.learn(task="intent").promoted
    agent.task("intent").settings.head = "lda"
    agent.import_examples("intent", step(WORDS[2:4]))
    with pytest.raises(InputError, match="learned with head 'prototype', not 'lda'"):
        agent.learn(task="intent")


def test_first_cycle_adaptation_then_a_frozen_encoder(agent):
    agent.config.learning.holdout_fraction = 0.0
    agent.add_task("intent", plugin="classify", head="lda", finetune="lora", threshold=0.0, epochs=15, batch_size=8)
    paths = []
    for start in (0, 2):
        agent.import_examples("intent", step(WORDS[start : start + 2]))
        report = agent.learn(task="intent")
        assert report.promoted, report.reason
        paths.append(agent.version(report.version, report.task)["adapter_path"])
    first, second = (Path(p) / "encoder" / "adapter_model.safetensors" for p in paths)
    assert first.read_bytes() == second.read_bytes()  # adapted once, then kept as it was
    assert agent.evaluate("intent", step(WORDS[:4]))["accuracy"] >= 0.9

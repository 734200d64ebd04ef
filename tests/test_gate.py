"""The evaluation gate is a pure function of the two models' scores and [learning]: every
branch of ``decide`` here, without an agent."""

from dataclasses import replace

import pytest

from lifelong.core.config import LearningConfig
from lifelong.learning.gate import ALL_LABELS, CONFUSED_WITH, KNOWN_LABELS, PER_LABEL, decide

CONFIG = LearningConfig(tolerance=0.05, probe_tolerance=0.25, behaviour_tolerance=0.05)
PARENT = {1: 1.0, 2: 0.0}


def probes(perplexity, right):
    return {"perplexity": perplexity, "behaviour": {f"q{i}": i < right for i in range(20)}}


@pytest.mark.parametrize("candidate, candidate_probe, before_probe, promoted, reason", [
    ({1: 1.0, 2: 1.0}, None, None, True, "passed the gate"),  # a task without probes
    ({1: 1.0, 2: 1.0}, probes(10.0, 20), None, True, "passed the gate"),  # the parent was not probed
    ({1: 1.0, 2: 1.0}, probes(10.0, 20), probes(10.0, 20), True, "passed the gate"),
    ({1: 1.0, 2: 1.0}, probes(12.5, 19), probes(10.0, 20), True, "passed the gate"),  # both within tolerance
    ({1: 1.0, 2: 0.0}, None, None, False, "no gain on the new examples (0.00 vs 0.00)"),
    ({1: 0.9, 2: 1.0}, None, None, False, "cycle 1 dropped from 1.00 to 0.90 (tolerance 0.05)"),
    ({1: 1.0, 2: 1.0}, probes(13.0, 20), probes(10.0, 20), False, "probe perplexity rose from 10.00 to 13.00"),
    ({1: 1.0, 2: 1.0}, probes(10.0, 17), probes(10.0, 20), False, "behaviour probe: lost 3 of the 20"),
])
def test_each_branch_of_the_gate(candidate, candidate_probe, before_probe, promoted, reason):
    verdict = decide(2, candidate, PARENT, candidate_probe, before_probe, CONFIG)
    assert verdict.promoted is promoted and verdict.reason.startswith(reason)


def test_earlier_labels_are_compared_among_the_labels_known_then():
    before = {1: 0.96, 2: 0.0, KNOWN_LABELS: {1: 0.96}, PER_LABEL: {"a": 1.0, "b": 0.92}, ALL_LABELS: 0.48}
    candidate = {1: 0.87, 2: 0.9, KNOWN_LABELS: {1: 0.95}, PER_LABEL: {"a": 1.0, "b": 0.9}, ALL_LABELS: 0.885}
    assert decide(2, candidate, before, None, None, CONFIG) == (True, "passed the gate")
    forgot = {**candidate, KNOWN_LABELS: {1: 0.7}, PER_LABEL: {"a": 1.0, "b": 0.4}, CONFUSED_WITH: {"b": "c"}}
    assert decide(2, forgot, before, None, None, CONFIG).reason.startswith(
        "cycle 1 dropped from 0.96 to 0.70 among the labels it knew (tolerance 0.05); worst: label 'b' 0.92 -> 0.40, "
        "most often taken for 'c'")
    swamped = {**candidate, ALL_LABELS: 0.3}
    assert decide(2, swamped, before, None, None, CONFIG).reason.startswith("all labels together dropped from 0.48 to 0.30")


def test_tolerances_come_from_the_config():
    candidate = {1: 0.9, 2: 1.0}
    assert not decide(2, candidate, PARENT, None, None, CONFIG).promoted
    assert decide(2, candidate, PARENT, None, None, replace(CONFIG, tolerance=0.1)).promoted
    assert decide(2, {1: 1.0, 2: 1.0}, PARENT, probes(13.0, 20), probes(10.0, 20),
                  replace(CONFIG, probe_tolerance=0.5)).promoted


def test_with_the_gate_off_every_candidate_is_promoted():
    worse = {1: 0.0, 2: 0.0}
    assert decide(2, worse, PARENT, probes(99.0, 0), probes(10.0, 20), replace(CONFIG, gate=False)) == (True, "gate off")

"""The evaluation gate's comparison of a candidate with the active model, score by score.

A task's ``assess`` returns, per cycle, the score on that cycle's evaluation examples. A
class-incremental task (new cycles bring new labels) adds like-with-like scores under the keys
below. New labels make old ones harder to tell apart, so an earlier cycle is compared among
the labels the active model knew; and each model's score on the whole task it was trained for
(the candidate on old and new labels, the active model on the old) weighs the cost of the new
labels to the old ones against their gain."""

from __future__ import annotations

from typing import NamedTuple

from .behaviour import behaviour_verdict

KNOWN_LABELS = "known labels"  # {cycle: score, predictions restricted to the labels learned before this cycle}
PER_LABEL = "per label"  # {label of an earlier cycle: that restricted score on its examples}
CONFUSED_WITH = "confused with"  # {label: the label its examples are most often taken for, all labels allowed}
ALL_LABELS = "all labels"  # score on the examples of every label the model knows, every label allowed
# A generating task's preferences: {cycle: [(summed, per-token) log-probability margin of the chosen
# answer over the rejected one, for each pair of that cycle (learning/objectives.py)]}.
PAIRS = "preference pairs"

ADVICE = ("the new examples were not learned; to teach them, give the labels named more and more "
          "distinct examples, use head = \"prototype\" or \"lda\" (a new label leaves the others as they "
          "are), or raise learning.tolerance")


class Verdict(NamedTuple):
    promoted: bool
    reason: str


def decide(cycle: int, candidate: dict, before: dict, candidate_probe: dict | None, before_probe: dict | None,
           config) -> Verdict:
    """Whether the candidate (scores ``candidate``) replaces the active model (``before``), and
    why. ``*_probe``: what the task measured beyond the example sets, None for tasks without
    probes, else ``perplexity`` (generic text) and ``behaviour`` (question -> answered right).
    ``config``: the ``[learning]`` settings ``gate``, ``tolerance``, ``probe_tolerance`` and
    ``behaviour_tolerance``."""
    if not config.gate:
        return Verdict(True, "gate off")
    reason = refusal(cycle, candidate, before, config.tolerance)
    if reason:
        return Verdict(False, reason)
    if candidate_probe is None or before_probe is None:
        return Verdict(True, "passed the gate")
    if candidate_probe["perplexity"] > before_probe["perplexity"] * (1 + config.probe_tolerance):
        return Verdict(False, f"probe perplexity rose from {before_probe['perplexity']:.2f} to "
                              f"{candidate_probe['perplexity']:.2f} (probe_tolerance {config.probe_tolerance})")
    reason = behaviour_verdict(before_probe["behaviour"], candidate_probe["behaviour"], config.behaviour_tolerance)
    if reason:
        return Verdict(False, reason)
    return Verdict(True, "passed the gate")


def refusal(cycle: int, candidate: dict, before: dict, tolerance: float) -> str | None:
    """Why the candidate must not replace the active model (scores ``before``), or None."""
    new, was = candidate.get(cycle, 0.0), before.get(cycle, 0.0)
    if new <= was:
        return f"no gain on the new examples ({new:.2f} vs {was:.2f})"
    like, like_before = candidate.get(KNOWN_LABELS, {}), before.get(KNOWN_LABELS, {})
    for j in sorted(key for key in candidate if isinstance(key, int) and key != cycle):
        score, was = like.get(j, candidate[j]), like_before.get(j, before.get(j, 0.0))
        if score < was - tolerance:
            among = " among the labels it knew" if j in like else ""
            return f"cycle {j} dropped from {was:.2f} to {score:.2f}{among} (tolerance {tolerance})" + _worst_label(candidate, before)
    if ALL_LABELS in candidate and ALL_LABELS in before and candidate[ALL_LABELS] < before[ALL_LABELS] - tolerance:
        return (f"all labels together dropped from {before[ALL_LABELS]:.2f} to {candidate[ALL_LABELS]:.2f} "
                f"(tolerance {tolerance})" + _worst_label(candidate, before))
    return None


def _worst_label(candidate: dict, before: dict) -> str:
    """The earlier label that lost most, what it is now taken for, and what to do."""
    now, was = candidate.get(PER_LABEL, {}), before.get(PER_LABEL, {})
    if not now:
        return ""
    label = min(now, key=lambda name: (now[name] - was.get(name, 0.0), name))
    note = f"; worst: label {label!r} {was.get(label, 0.0):.2f} -> {now[label]:.2f}"
    taken_for = candidate.get(CONFUSED_WITH, {}).get(label)
    if taken_for is not None:
        note += f", most often taken for {taken_for!r}"
    return f"{note}; {ADVICE}"

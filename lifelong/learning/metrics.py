"""Continual-learning metrics over the accuracy matrix R, where R[i][j] is the score on cycle
j's evaluation data after training cycle i (Lopez-Paz & Ranzato 2017; Chaudhry et al. 2018)."""

from __future__ import annotations


def summarize(matrix: list[list[float | None]]) -> dict:
    """ACC, BWT and forgetting after the last row of a lower-triangular matrix (row i holds
    scores on cycles 0..i; None where a run did not check a cycle, which is left out)."""
    if not matrix:
        return {"acc": None, "bwt": None, "forgetting": None}
    last = matrix[-1]
    t = len(matrix) - 1
    measured = [score for score in last if score is not None]
    acc = sum(measured) / len(measured) if measured else None
    earlier = [j for j in range(t) if last[j] is not None and matrix[j][j] is not None]
    if not earlier:
        return {"acc": acc, "bwt": None, "forgetting": None}
    bwt = sum(last[j] - matrix[j][j] for j in earlier) / len(earlier)
    forgetting = sum(max(matrix[i][j] for i in range(j, t) if matrix[i][j] is not None) - last[j]
                     for j in earlier) / len(earlier)
    return {"acc": acc, "bwt": bwt, "forgetting": forgetting}


def preference_metrics(candidate: list | None, before: list | None) -> dict:
    """How the candidate moved on the cycle's preference pairs (``assess``'s PAIRS: per pair, the
    chosen answer's log-probability minus the rejected one's, summed and per token):
    ``preference_accuracy``: the share it ranks chosen first (per token), before and after;
    ``reward_accuracy``: the share whose implicit DPO reward (log-probability gained over the
    parent) is higher for the chosen answer than for the rejected one, as TRL reports it."""
    if not candidate or not before:
        return {}
    n = len(candidate)
    return {
        "preference_pairs": n,
        "preference_accuracy": sum(per_token > 0 for _, per_token in candidate) / n,
        "preference_accuracy_before": sum(per_token > 0 for _, per_token in before) / n,
        "reward_accuracy": sum(c > b for (c, _), (b, _) in zip(candidate, before)) / n,
    }

"""Continual-learning metrics over the accuracy matrix R, where R[i][j] is the score on cycle
j's evaluation data after training cycle i (Lopez-Paz & Ranzato 2017; Chaudhry et al. 2018)."""

from __future__ import annotations


def summarize(matrix: list[list[float]]) -> dict:
    """ACC, BWT and forgetting after the last row of a lower-triangular matrix (row i holds
    scores on cycles 0..i)."""
    if not matrix:
        return {"acc": None, "bwt": None, "forgetting": None}
    last = matrix[-1]
    t = len(matrix) - 1
    acc = sum(last) / len(last)
    if t == 0:
        return {"acc": acc, "bwt": None, "forgetting": None}
    bwt = sum(last[j] - matrix[j][j] for j in range(t)) / t
    forgetting = sum(max(matrix[i][j] for i in range(j, t)) - last[j] for j in range(t)) / t
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

"""The diagonal Fisher information of a model's trainable weights, for EWC."""

from __future__ import annotations

from typing import Callable, Iterable

import torch


def diagonal_fisher(model, losses: Iterable[Callable[[], torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Mean squared gradient of each loss (one per example) with respect to each trainable weight."""
    params = {n: p for n, p in model.named_parameters() if p.requires_grad}
    fisher = {n: torch.zeros_like(p) for n, p in params.items()}
    count = 0
    model.eval()
    for loss in losses:
        model.zero_grad()
        loss().backward()
        count += 1
        for n, p in params.items():
            if p.grad is not None:
                fisher[n] += p.grad.detach() ** 2
    model.zero_grad()
    return {n: f / max(count, 1) for n, f in fisher.items()}

"""The one training loop of the tasks that learn by gradient (the chat task's causal LM, the
classify task's encoder and head), on Hugging Face accelerate: the same code runs on a CPU, a
GPU in mixed precision, and data-parallel over the processes of ``lifelong learn --processes N``
(DDP, DeepSpeed or FSDP as the accelerate config says).

Every process builds the same batches (same seed) and takes its share of each one; a share
larger than ``micro_batch_size`` is split into passes whose gradients are accumulated. Each
pass's loss is weighted by its share of the batch's weight (answer tokens for a causal LM,
examples for a classifier), so that after DDP averages the processes' gradients one optimizer
step sees the gradient of the whole batch's loss, as one process would: N processes train the
same model as one, up to rounding."""

from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import Callable

import torch

from .threads import retune


@dataclass
class LoopSettings:
    epochs: int
    learning_rate: float
    micro_batch_size: int = 0  # most items per forward pass on one process; 0: its whole share
    weight_decay: float = 0.0
    max_grad_norm: float | None = None


def device_of(model) -> torch.device:
    return next(model.parameters()).device


def accelerator_for(model):
    """An Accelerator on the device the model was loaded on (the process's own GPU when
    launched over several), in the mixed precision its weights call for."""
    from accelerate import Accelerator

    device = device_of(model)
    if device.type == "cuda" and device.index is not None:
        torch.cuda.set_device(device)
    precision = {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(next(model.parameters()).dtype, "no")
    return Accelerator(cpu=device.type == "cpu", mixed_precision=precision if device.type == "cuda" else "no")


def shares(batch: list, weight: Callable[[object], float], micro_batch_size: int, rank: int, world: int):
    """This process's passes over ``batch``: (items, weight of the pass's loss). An empty share
    (a batch smaller than the number of processes) still makes one pass, weighted 0, because
    every process must take part in each gradient exchange."""
    total = sum(weight(item) for item in batch) or 1.0
    mine = batch[rank::world]
    if not mine:
        return [(batch[:1], 0.0)]
    size = micro_batch_size or len(mine)
    chunks = [mine[s : s + size] for s in range(0, len(mine), size)]
    return [(chunk, world * sum(weight(item) for item in chunk) / total) for chunk in chunks]


def fit(model, batches: Callable[[random.Random], list[list]], loss: Callable, weight: Callable[[object], float],
        settings: LoopSettings, seed: int, penalty=None, progress=None, after_step=None, before_batch=None):
    """Train ``model`` in place and return it (unwrapped, in eval mode).

    ``batches(rng)``: one epoch's batches; ``loss(model, items)``: the mean loss of ``items``;
    ``weight(item)``: what that mean is over; ``penalty(model)``: a loss term added per batch
    (EWC); ``after_step(model, step)``: called after each optimizer step (AdaLoRA's rank
    budget); ``before_batch(model, batch, mine, reduce)``: called by every process before a
    batch's passes, with its own items of the batch and ``reduce``, which sums a tensor over the
    processes (a statistic of the whole batch, such as KTO's reference point); ``progress``: a
    rich Progress, updated by the main process only."""
    accelerator = accelerator_for(model)
    rng = random.Random(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=settings.learning_rate, weight_decay=settings.weight_decay)
    wrapped, optimizer = accelerator.prepare(model, optimizer)
    plain = accelerator.unwrap_model(wrapped)
    rank, world = accelerator.process_index, accelerator.num_processes
    epochs = [batches(rng) for _ in range(settings.epochs)]
    bar = None
    if progress is not None and accelerator.is_main_process:
        bar = progress.add_task("training", total=sum(len(e) for e in epochs))
    wrapped.train()
    step = 0
    for epoch, epoch_batches in enumerate(epochs, 1):
        for batch in epoch_batches:
            passes = shares(batch, weight, settings.micro_batch_size, rank, world)
            if before_batch is not None:
                mine = [item for items, share in passes if share for item in items]
                before_batch(wrapped, batch, mine, lambda t: accelerator.reduce(t, reduction="sum"))
            batch_loss = 0.0
            for i, (items, share) in enumerate(passes):
                last = i == len(passes) - 1
                # Gradients are exchanged once per batch, on its last pass.
                with accelerator.no_sync(wrapped) if not last else contextlib.nullcontext():
                    value = loss(wrapped, items)
                    if penalty is not None:
                        value = value + penalty(plain)
                    accelerator.backward(value * share)
                batch_loss += float(value.detach()) * share  # this process's estimate of the batch loss
            if settings.max_grad_norm is not None:
                accelerator.clip_grad_norm_(params, settings.max_grad_norm)
            optimizer.step()
            if after_step is not None:
                after_step(plain, step)
            optimizer.zero_grad()
            step += 1
            retune()  # the cores other work leaves free ([learning] threads = 0)
            if bar is not None:
                progress.update(bar, advance=1, description=f"training epoch {epoch}/{settings.epochs} loss {batch_loss:.3f}")
    model = accelerator.unwrap_model(wrapped, keep_fp32_wrapper=False)
    model.eval()
    return model


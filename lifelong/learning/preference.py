"""The preference objectives of a causal LM (learning/objectives.py says which feedback gets
which): DPO on pairs and KTO on rated answers, trained on the shared loop (learning/loop.py)
beside supervised items, with the answer-only log-probabilities the SFT loss uses.

The losses are TRL's defaults (``DPOTrainer`` loss_type "sigmoid", ``KTOTrainer`` loss_type
"kto" with its KL reference point from mismatched answers), written out here because TRL 1.x
keeps them inside its trainers' private ``_compute_loss`` (tied to the trainer's own accelerator,
metrics and patched LM head), and its trainers own the training loop: they could not share a
batch stream with SFT items, the self-distillation KL, the EWC penalty or our multi-process
launch. tests/test_preference.py checks both against TRL's trainers on the same model and data.

The reference model is the starting model, parent adapter or base, as TRL's is: its
log-probabilities are taken once before the first step, like the teacher of soft items
(causal_lm.attach_teacher), so no second copy of the model is kept."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .batches import answer_logits, collate
from .loop import device_of


def sequence_logps(model, rows: list[dict], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per row (``input_ids`` and ``labels`` as ``causal_lm.features`` makes them): the summed
    log-probability of its answer tokens, and how many there are."""
    logits, labels = answer_logits(model, collate(rows, pad_id, device_of(model)))
    mask = labels != -100
    # The label's log-probability as its logit minus the row's log-sum-exp: the full log-softmax
    # over the vocabulary is never kept.
    picked = logits.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1) - logits.logsumexp(-1)
    return (picked * mask).sum(-1), mask.sum(-1)


def pair_features(features, example: dict) -> dict:
    """A DPO item: the prompt with its chosen answer (``target``) and with its ``rejected`` one."""
    return {"objective": "dpo", "chosen": features(example), "rejected": features({**example, "target": example["rejected"]})}


def rated_features(features, examples: list[dict]) -> list[dict]:
    """KTO items: each rated answer, with its prompt under another question's answer (the
    mismatched pairs KTOTrainer estimates the KL reference point from), and the weight of its
    loss (``kto_weights``). KTOTrainer rotates answers by one, which pairs a prompt with another
    question's answer when neighbours differ, as in a shuffled dataset; rated answers arrive
    grouped by question, so each takes the nearest earlier answer (cyclically) of another
    ``group`` (an example's question and its rewordings; by default its prompt). Paired with its
    own question's answers, the estimate would follow the rated answers themselves."""
    items = [{"objective": "kto", "desirable": bool(e["desirable"]), **features(e)} for e in examples]
    weights = kto_weights(sum(item["desirable"] for item in items), sum(not item["desirable"] for item in items))
    groups = [e.get("group") or _prompt(item) for e, item in zip(examples, items)]
    n = len(items)
    for i, (item, e) in enumerate(zip(items, examples)):
        other = next((j for j in range(i - 1, i - n, -1) if groups[j] != groups[i]), i - 1)
        item["kl"] = features({**e, "target": examples[other]["target"]})
        item["weight"] = weights[item["desirable"]]
    return items


def _prompt(item: dict) -> tuple:
    return tuple(item["input_ids"][: sum(label == -100 for label in item["labels"])])


def kto_weights(desirable: int, undesirable: int) -> dict[bool, float]:
    """The loss weight of a desirable and of an undesirable answer: the rarer kind weighs more,
    so both kinds weigh the same in all (the lower end of the range Ethayarajh et al. 2024, Eq. 8,
    recommend and KTOTrainer warns outside of). Ratings are seldom balanced (two thumbs-down for
    each thumbs-up in benchmarks/preference.py); unweighted, a cycle learns mostly to avoid the
    bad answers rather than to give the good one."""
    return {True: max(1.0, undesirable / max(desirable, 1)), False: max(1.0, desirable / max(undesirable, 1))}


@torch.no_grad()
def attach_reference(model, items: list[dict], pad_id: int, batch_size: int) -> None:
    """The starting model's summed answer log-probabilities on each preference item, before any
    training step: DPO's and KTO's reference."""
    model.eval()
    for objective, parts in (("dpo", ("chosen", "rejected")), ("kto", (None, "kl"))):
        batch_items = [f for f in items if f["objective"] == objective]
        for start in range(0, len(batch_items), batch_size):
            batch = batch_items[start : start + batch_size]
            for part in parts:
                logps, _ = sequence_logps(model, [f[part] if part else f for f in batch], pad_id)
                for f, value in zip(batch, logps.tolist()):
                    f[f"ref_{part or 'answer'}"] = value
    model.train()


def dpo_loss(model, batch: list[dict], pad_id: int, beta: float):
    """-log sigmoid(beta * (chosen log-ratio - rejected log-ratio)), the mean over pairs."""
    logps, _ = sequence_logps(model, [f["chosen"] for f in batch] + [f["rejected"] for f in batch], pad_id)
    chosen, rejected = logps.chunk(2)
    ref = torch.tensor([[f["ref_chosen"], f["ref_rejected"]] for f in batch], device=logps.device)
    return -F.logsigmoid(beta * ((chosen - ref[:, 0]) - (rejected - ref[:, 1]))).mean()


@torch.no_grad()
def reference_point(model, items: list[dict], pad_id: int, batch_size: int, reduce=None) -> float:
    """KTO's reference point z: the mean KL estimate (the model's log-probability of each item's
    mismatched answer over the starting model's), at least 0. ``reduce`` sums over processes:
    each process passes its own items of a batch and all get the whole batch's z, as KTOTrainer
    gathers it, so N processes (or micro-batches) train as one process on whole batches."""
    device = device_of(model)
    total = torch.zeros(2, device=device)  # the summed estimate, and how many items
    size = batch_size or max(len(items), 1)  # at most a micro-batch per forward pass
    for start in range(0, len(items), size):
        chunk = items[start : start + size]
        kl_logps, _ = sequence_logps(model, [f["kl"] for f in chunk], pad_id)
        total += torch.stack([(kl_logps - torch.tensor([f["ref_kl"] for f in chunk], device=device)).sum(),
                              torch.tensor(float(len(chunk)), device=device)])
    if reduce is not None:
        total = reduce(total)
    return float((total[0] / total[1].clamp(min=1)).clamp(min=0))


def kto_loss(model, batch: list[dict], pad_id: int, beta: float):
    """1 - sigmoid(beta * (log-ratio - z)) for a desirable answer, 1 - sigmoid(beta * (z -
    log-ratio)) for an undesirable one, the weighted mean over answers; z is each item's
    ``reference_point``, the whole batch's (set before its passes)."""
    logps, _ = sequence_logps(model, batch, pad_id)
    device = logps.device
    ref = torch.tensor([f["ref_answer"] for f in batch], device=device)
    z = torch.tensor([f["reference_point"] for f in batch], device=device)
    ratio = logps - ref
    desirable = torch.tensor([f["desirable"] for f in batch], device=device)
    weight = torch.tensor([f["weight"] for f in batch], device=device)
    return (weight * torch.where(desirable, 1 - torch.sigmoid(beta * (ratio - z)), 1 - torch.sigmoid(beta * (z - ratio)))).mean()


@torch.inference_mode()
def pair_margins(model, tokenizer, features, pairs: list[tuple[list[dict], str, str]], batch_size: int = 16):
    """For each (prompt messages, chosen, rejected): the chosen answer's log-probability minus
    the rejected one's, summed and per answer token. Rows are batched by length: a rejected
    answer is often much longer than the correction chosen over it."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    rows = [features({"messages": m, "target": c}) for m, c, _ in pairs] + [features({"messages": m, "target": r}) for m, _, r in pairs]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]["input_ids"]))
    logps, counts = [0.0] * len(rows), [0] * len(rows)
    for start in range(0, len(order), batch_size):
        picked = order[start : start + batch_size]
        found, n = sequence_logps(model, [rows[i] for i in picked], pad_id)
        for i, logp, count in zip(picked, found.tolist(), n.tolist()):
            logps[i], counts[i] = logp, max(count, 1)
    half = len(pairs)
    return [(logps[i] - logps[half + i], logps[i] / counts[i] - logps[half + i] / counts[half + i]) for i in range(half)]

"""Causal-LM training rows in batches: padded together (``collate``), and the logits at the
positions that predict their answers (``answer_logits``), which the supervised loss
(causal_lm.py) and the preference losses (preference.py) both read."""

from __future__ import annotations

import torch


def collate(batch: list[dict], pad_id: int, device=None) -> dict:
    width = max(len(f["input_ids"]) for f in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, f in enumerate(batch):
        n = len(f["input_ids"])
        ids[row, :n] = torch.tensor(f["input_ids"])
        labels[row, :n] = torch.tensor(f["labels"])
        mask[row, :n] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def answer_logits(model, enc: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The logits at the positions that predict an answer token of some row of ``enc``
    (``collate``), in float32, and the tokens they predict (-100 where a row has none there).

    Two savings, exact up to rounding (tests/test_chat_learning.py): only those positions go
    through the LM head (a prompt is most of a training item's tokens, and the head, vocabulary
    x hidden, 49k x 576 for SmolLM2, is about a fifth of the model's compute per token); and the
    tokens every row begins with (the system prompt and the chat template's opening) are run
    once, their keys and values repeated for each row (``shared_prefix``)."""
    predicts = (enc["labels"][:, 1:] != -100).any(0).nonzero().squeeze(-1)
    ids, mask = enc["input_ids"], enc["attention_mask"]
    shared = shared_prefix(model, enc, int(predicts[0]))
    if not shared:
        logits = model(input_ids=ids, attention_mask=mask, logits_to_keep=predicts).logits
    else:
        cache = model(input_ids=ids[:1, :shared], use_cache=True, logits_to_keep=1).cache
        cache.batch_repeat_interleave(len(ids))
        logits = model(input_ids=ids[:, shared:], attention_mask=mask, cache=cache, use_cache=True,
                       logits_to_keep=predicts - shared).logits
    return logits.float(), enc["labels"][:, 1:][:, predicts]


# Below this many common tokens, running them once saves less than the second call costs.
SHARED_PREFIX_MIN = 16


def shared_prefix(model, enc: dict, first_predicted: int) -> int:
    """How many leading tokens every row of ``enc`` has in common (0: too few to share, a
    single row, a data-parallel wrapper, or a prompt-learning adapter, which brings keys and
    values of its own), up to ``first_predicted``, the first position whose logits are wanted."""
    ids, mask = enc["input_ids"], enc["attention_mask"]
    # A data-parallel wrapper (DDP, launched over several processes) expects one forward pass
    # per backward pass: two would leave its gradient exchange waiting.
    if len(ids) < 2 or hasattr(model, "module") or getattr(getattr(model, "active_peft_config", None), "is_prompt_learning", False):
        return 0
    same = ((ids == ids[:1]) & (mask == 1)).all(0)
    shared = min(int(same.int().cumprod(0).sum()), first_predicted)
    return shared if shared >= SHARED_PREFIX_MIN else 0

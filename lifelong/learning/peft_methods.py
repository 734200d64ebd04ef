"""PEFT methods selectable with ``[tasks.chat] peft``: each name maps to a peft config."""

from __future__ import annotations

# Names of the blocks that hold a transformer layer's feed-forward network, across the
# architectures transformers ships (Llama/Qwen/Mistral/GPT-2/Phi: "mlp", Mixtral and others:
# "feed_forward" or "ffn").
_FEED_FORWARD_BLOCKS = frozenset({"mlp", "feed_forward", "ffn"})


def feed_forward_modules(model) -> list[str]:
    """The full names of the layers LoRA can adapt inside the model's feed-forward blocks (for
    SmolLM2: each layer's mlp.gate_proj, mlp.up_proj, mlp.down_proj). Full names, because a
    short name can also be an attention layer's (GPT-2 has attn.c_proj and mlp.c_proj)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    return [
        name for name, module in model.named_modules()
        if isinstance(module, (torch.nn.Linear, Conv1D)) and _FEED_FORWARD_BLOCKS & set(name.split(".")[:-1])
    ]


def target_modules(model, which: str):
    """``which``: "mlp" (the feed-forward blocks, where a transformer stores facts: an adapter
    there teaches facts and leaves general behaviour intact far better than one on every layer,
    benchmarks/learn.py) or "all-linear". A model without recognisable feed-forward blocks
    falls back to all linear layers."""
    if which == "mlp":
        return feed_forward_modules(model) or "all-linear"
    return "all-linear"


def peft_config(method: str, config, task_type: str, total_steps: int, model):
    import peft

    if method == "lora":
        return peft.LoraConfig(
            r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
            target_modules=target_modules(model, config.lora_targets), task_type=task_type,
        )
    if method == "adalora":
        # AdaLoRA prunes rank over the run: it needs the number of steps up front.
        return peft.AdaLoraConfig(
            init_r=config.lora_r, target_r=max(1, config.lora_r // 2), total_step=max(total_steps, 2),
            tinit=0, tfinal=0, lora_alpha=2 * config.lora_r, target_modules=target_modules(model, config.lora_targets),
            task_type=task_type,
        )
    if method == "prefix":
        return peft.PrefixTuningConfig(num_virtual_tokens=16, task_type=task_type)
    raise ValueError(f"unknown PEFT method {method!r}")

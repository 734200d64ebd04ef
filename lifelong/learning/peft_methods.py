"""PEFT methods selectable with ``[learning] peft``: each name maps to a peft config."""

from __future__ import annotations


def peft_config(method: str, config, task_type: str, total_steps: int):
    import peft

    if method == "lora":
        return peft.LoraConfig(
            r=config.lora_r, lora_alpha=2 * config.lora_r, lora_dropout=0.0,
            target_modules="all-linear", task_type=task_type,
        )
    if method == "adalora":
        # AdaLoRA prunes rank over the run: it needs the number of steps up front.
        return peft.AdaLoraConfig(
            init_r=config.lora_r, target_r=max(1, config.lora_r // 2), total_step=max(total_steps, 2),
            tinit=0, tfinal=0, lora_alpha=2 * config.lora_r, target_modules="all-linear", task_type=task_type,
        )
    if method == "prefix":
        return peft.PrefixTuningConfig(num_virtual_tokens=16, task_type=task_type)
    raise ValueError(f"unknown PEFT method {method!r}")

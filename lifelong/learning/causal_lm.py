"""Fine-tuning and evaluating a causal LM with a PEFT adapter.

Prompts are built with the same chat template as inference, and the loss covers the answer
tokens only: cross-entropy for what is taught, KL to the starting model for "soft" examples
(what must not change). Batches group examples of similar length (less padding) and are
padded to their own longest example."""

from __future__ import annotations

import math
import random
from importlib import resources

import torch

from . import preference
from .batches import answer_logits, collate
from .fisher import diagonal_fisher
from .loop import LoopSettings, device_of, fit
from .peft_methods import peft_config
from .threads import retune


def chat_prompt(system_prompt: str, question: str) -> list[dict]:
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": question}]


def _prompt_ids(tokenizer, messages) -> list[int]:
    encoded = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=True)
    return list(encoded["input_ids"])


def features(tokenizer, system_prompt: str, example: dict) -> dict:
    """Token ids and labels of one example: its ``messages`` when it has them (a task built the
    prompt, e.g. with retrieved sources), else the system prompt and its ``input``. A ``soft``
    example is learned as the starting model's distribution over its answer, not its tokens."""
    messages = example.get("messages") or chat_prompt(system_prompt, example["input"])
    prompt = _prompt_ids(tokenizer, messages)
    answer = tokenizer(example["target"] + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    encoded = {"input_ids": prompt + answer, "labels": [-100] * len(prompt) + answer, "soft": bool(example.get("soft"))}
    if example.get("teacher"):  # computed beforehand: {"indices", "probs"} per answer token
        teacher = example["teacher"]
        encoded["teacher"] = (teacher["indices"].to(torch.long), teacher["probs"].float())
    return encoded


def _length(item: dict) -> int:
    if item.get("objective") == "dpo":
        return len(item["chosen"]["input_ids"]) + len(item["rejected"]["input_ids"])
    return len(item["input_ids"])


def length_grouped_batches(items: list[dict], batch_size: int, rng: random.Random) -> list[list[dict]]:
    order = sorted(range(len(items)), key=lambda i: (_length(items[i]), rng.random()))
    batches = [[items[i] for i in order[s : s + batch_size]] for s in range(0, len(order), batch_size)]
    rng.shuffle(batches)
    return batches


# The teacher's distribution is kept as its most likely tokens only: they carry nearly all of
# its mass, and the full vocabulary (49k for SmolLM2) per answer token would not fit in memory
# for a few hundred examples.
TEACHER_TOP_K = 64


@torch.no_grad()
def attach_teacher(model, items: list[dict], pad_id: int, batch_size: int) -> None:
    """For each soft item that does not carry its teacher already (a task may compute it once
    and keep it: plugins/chat/served.py), the model's own next-token distribution on its
    answer positions, taken before training (the starting model is the parent adapter or the
    base): training then keeps the model close to it there (a KL penalty to the parent)
    instead of only copying its greedy answer."""
    soft = [f for f in items if f["soft"] and "teacher" not in f]
    for f, found in zip(soft, _distributions(model, soft, pad_id, batch_size)):
        f["teacher"] = found
    model.train()


@torch.no_grad()
def teacher_distributions(model, tokenizer, system_prompt: str, examples: list[dict], batch_size: int = 4) -> list[tuple]:
    """(top token ids, their renormalised probabilities) at each answer token of each example,
    as ``model`` predicts them: the teacher of a soft item (``attach_teacher``)."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    return _distributions(model, [features(tokenizer, system_prompt, e) for e in examples], pad_id, batch_size)


def _distributions(model, items: list[dict], pad_id: int, batch_size: int) -> list[tuple]:
    model.eval()
    found = []
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        logits, targets = answer_logits(model, collate(batch, pad_id, device_of(model)))
        for row in range(len(batch)):
            positions = (targets[row] != -100).nonzero().squeeze(-1)
            logp = torch.log_softmax(logits[row, positions], dim=-1)
            top = logp.topk(TEACHER_TOP_K, dim=-1)
            found.append((top.indices, torch.softmax(top.values, dim=-1)))
    return found


def batch_loss(model, batch: list[dict], pad_id: int, model_loss: bool = False):
    """Cross-entropy on the answers of hard items and KL(teacher || model) on the answer tokens
    of soft items, averaged over answer tokens. ``model_loss``: a batch of hard items takes the
    model's own loss instead (logits everywhere), which AdaLoRA adds its orthogonality
    regulariser to."""
    enc = collate(batch, pad_id, device_of(model))
    if model_loss and not any(f["soft"] for f in batch):
        return model(**enc).loss
    logits, answers = answer_logits(model, enc)
    targets = answers.clone()
    for row, f in enumerate(batch):
        if f["soft"]:
            targets[row] = -100
    total = torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100, reduction="sum"
    )
    tokens = int((targets != -100).sum())
    for row, f in enumerate(batch):
        if not f["soft"]:
            continue
        positions = (answers[row] != -100).nonzero().squeeze(-1)
        index, p = f["teacher"]
        logq = torch.log_softmax(logits[row, positions], dim=-1).gather(-1, index)
        total = total + (p * (p.log() - logq)).sum()
        tokens += len(positions)
    return total / max(tokens, 1)


def trainable_model(base, parent_path: str | None, options, total_steps: int):
    """A PEFT model over ``base``: continuing from ``parent_path`` when its method matches the
    configured one, else a fresh adapter. ``options``: ``peft``, ``lora_r``, ``lora_targets``."""
    from peft import PeftConfig, PeftModel, get_peft_model, prepare_model_for_kbit_training

    if getattr(base, "is_loaded_in_4bit", False) or getattr(base, "is_loaded_in_8bit", False):
        # QLoRA ([models] quantization): the quantised weights frozen, the rest (norms,
        # embeddings) in float32 so the adapter's gradients are exact. Without gradient
        # checkpointing: the quantised weights are what lets a bigger model fit, and
        # recomputing activations would cost a third more time on every run.
        base = prepare_model_for_kbit_training(base, use_gradient_checkpointing=False)
    wanted = peft_config(options.peft, options, "CAUSAL_LM", total_steps, base)
    if parent_path:
        parent = PeftConfig.from_pretrained(parent_path)
        if parent.peft_type == wanted.peft_type:
            return PeftModel.from_pretrained(base, parent_path, is_trainable=True)
    return get_peft_model(base, wanted)


def answer_tokens(item: dict) -> int:
    """What the loss of a batch averages over: the answer tokens of an SFT item, hard or soft;
    pairs and rated answers for the preference objectives."""
    if item.get("objective", "sft") != "sft":
        return 1
    return sum(label != -100 for label in item["labels"])


def training_items(tokenizer, system_prompt: str, examples: list[dict]) -> list[dict]:
    """Token ids of each example by its ``objective`` (sft when it names none): SFT items, DPO
    pairs (``target`` chosen over ``rejected``) and KTO rated answers (``target``, ``desirable``)."""
    def encode(example):
        return features(tokenizer, system_prompt, example)

    by_objective: dict[str, list[dict]] = {}
    for e in examples:
        by_objective.setdefault(e.get("objective", "sft"), []).append(e)
    items = [{"objective": "sft", **encode(e)} for e in by_objective.pop("sft", [])]
    items += [preference.pair_features(encode, e) for e in by_objective.pop("dpo", [])]
    items += preference.rated_features(encode, by_objective.pop("kto")) if "kto" in by_objective else []
    if by_objective:
        raise ValueError(f"unknown training objective {next(iter(by_objective))!r}")
    return items


def train(base, tokenizer, examples, parent_path, config, seed, system_prompt, penalty=None, progress=None,
          micro_batch_size: int = 0, beta: float = 0.1):
    """Fine-tune and return the PEFT model. ``examples``: prompts with answers, each to be learned
    by its ``objective`` (``training_items``); ``config``: the chat plugin's training options
    (``epochs``, ``learning_rate``, ``batch_size`` and the PEFT method); ``penalty(model)``: an
    extra loss term (EWC); ``micro_batch_size``: most examples per forward pass (learning/loop.py);
    ``beta``: the DPO/KTO strength. A batch holds items of one objective."""
    torch.manual_seed(seed)
    items = training_items(tokenizer, system_prompt, examples)
    groups: dict[str, list[dict]] = {}
    for item in items:
        groups.setdefault(item["objective"], []).append(item)
    steps_per_epoch = sum(math.ceil(len(group) / config.batch_size) for group in groups.values())
    model = trainable_model(base, parent_path, config, steps_per_epoch * config.epochs)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    attach_teacher(model, groups.get("sft", []), pad_id, config.batch_size)
    preference.attach_reference(model, items, pad_id, config.batch_size)

    def batches(rng):
        epoch = [b for name in sorted(groups) for b in length_grouped_batches(groups[name], config.batch_size, rng)]
        if len(groups) > 1:
            rng.shuffle(epoch)
        return epoch

    def loss(model, batch):
        objective = batch[0]["objective"]
        if objective == "dpo":
            return preference.dpo_loss(model, batch, pad_id, beta)
        if objective == "kto":
            return preference.kto_loss(model, batch, pad_id, beta)
        return batch_loss(model, batch, pad_id, model_loss=config.peft == "adalora")

    def after_step(model, step):
        model.base_model.update_and_allocate(step)

    def before_batch(model, batch, mine, reduce):
        if batch[0]["objective"] == "kto":
            z = preference.reference_point(model, mine, pad_id, micro_batch_size, reduce)
            for item in batch:
                item["reference_point"] = z

    settings = LoopSettings(config.epochs, config.learning_rate, micro_batch_size, weight_decay=0.0, max_grad_norm=1.0)
    return fit(model, batches, loss, answer_tokens, settings, seed, penalty, progress,
               after_step if config.peft == "adalora" else None, before_batch)


def fisher_diagonal(model, tokenizer, examples, system_prompt) -> dict[str, torch.Tensor]:
    """Diagonal Fisher of the trainable (adapter) weights on ``examples``, for EWC."""
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    batches = (collate([features(tokenizer, system_prompt, e)], pad_id, device_of(model)) for e in examples)
    return diagonal_fisher(model, (lambda b=b: model(**b).loss for b in batches))


@torch.inference_mode()
def generate_batch(model, tokenizer, prompts: list[list[dict]], max_new_tokens: int, batch_size: int = 16) -> list[str]:
    """Greedy answers for many chat prompts, left-padded in batches. Under a multi-process
    launch each process answers its share of the batches and every process gets all answers;
    the batches are those one process would make, so the answers are the same."""
    starts = range(0, len(prompts), batch_size)
    rank, world = _process_group()
    mine = {start: _answer_batch(model, tokenizer, prompts[start : start + batch_size], max_new_tokens) for start in starts[rank::world]}
    if world > 1:
        gathered = [None] * world
        torch.distributed.all_gather_object(gathered, mine)
        mine = {start: answers for part in gathered for start, answers in part.items()}
    return [a.strip() for start in starts for a in mine[start]]


def _process_group() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def _answer_batch(model, tokenizer, prompts, max_new_tokens) -> list[str]:
    retune()  # the cores other work leaves free ([learning] threads = 0)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        texts = [tokenizer.apply_chat_template(p, add_generation_prompt=True, tokenize=False) for p in prompts]
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device_of(model))
        out = model.generate(
            **enc, max_new_tokens=max_new_tokens, do_sample=False, temperature=None, top_p=None, top_k=None,
            pad_token_id=tokenizer.pad_token_id,
        )
        return tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    finally:
        tokenizer.padding_side = side


def probe_text() -> str:
    return resources.files("lifelong").joinpath("data/probe.txt").read_text(encoding="utf-8")


@torch.inference_mode()
def perplexity(model, tokenizer, text: str, max_tokens: int = 512) -> float:
    """Perplexity on generic text: a cheap check that fine-tuning left general ability intact."""
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"][:, :max_tokens].to(device_of(model))
    # The loss is computed here rather than by passing labels: AdaLoRA adds its training-only
    # regulariser to a model's own loss.
    logits = model(input_ids=ids).logits[:, :-1]
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
    return float(math.exp(loss.item()))

"""Which training objective each kind of feedback becomes (``[learning] objective``).

Three kinds of feedback reach the example store: answers to give (corrections, imports, a
thumbs-up), ratings (+1/-1 on an answer the model gave) and preferences (two answers to one
question, one chosen; a correction is also one, over the answer it replaced). Each can be
learned with the objective that fits it, as preference-tuning libraries do:

- ``sft``: supervised fine-tuning on an answer to give (cross-entropy on its tokens);
- ``dpo``: direct preference optimisation on a pair (Rafailov et al. 2023): the chosen answer
  made likelier than the rejected one, relative to the starting model;
- ``kto``: Kahneman-Tversky optimisation on unpaired ratings (Ethayarajh et al. 2024): a
  desirable answer made likelier and an undesirable one less likely than the starting model
  held them, against a reference point.

``route`` maps the examples of a run onto training items, one objective each:

=================  ======  ==========  =============  =========
example            sft     dpo         kto            auto
=================  ======  ==========  =============  =========
correction (pair)  sft     sft + dpo   sft            sft + dpo
preference         sft     sft + dpo   sft + kto x 2  sft + dpo
rating +1          sft     sft         sft + kto      sft + kto
rating -1          --      --          kto            kto
import             sft     sft         sft            sft
=================  ======  ==========  =============  =========

Every answer to give is learned by ``sft`` whatever the objective; DPO and KTO add what a pair
or a rating says beyond it. Each answer, rated answer or pair is learned once, however many
feedback rows state it (two pairs with one chosen answer give it one ``sft`` item).

Preference tuning moves likelihoods relative to the starting model, not which answer is greedy: a small model that never gives the rated style ("In short:
Athens.") learned by KTO alone to rank every good answer above its bad ones and still answered
as before (benchmarks/preference.py), which is why TRL's guides run SFT on the good answers
before KTO or DPO (and DPOTrainer's ``rpo_alpha`` adds the chosen answer's NLL for the same
reason). Here both run in one cycle.

``sft`` is today's behaviour and the default. A task learns by the objectives it names
(``LearnableTask.objectives``); an example routed to one it lacks is learned by ``sft`` when it
has an answer to give, else left out."""

from __future__ import annotations

OBJECTIVES = ("sft", "dpo", "kto", "auto")


def is_pair(example: dict) -> bool:
    return bool(example.get("rejected"))


def to_give(example: dict) -> bool:
    """Whether the example's ``target`` is an answer the model should give (not a thumbs-down)."""
    return example.get("rating") != -1


def route(examples: list[dict], objective: str, supported: tuple[str, ...]) -> list[dict]:
    """Each example as the training items ``objective`` makes of it (the table above): copies of
    the example with ``objective`` set, and for KTO ``desirable``."""
    items = []
    for e in examples:
        for item in _items(e, objective):
            if item["objective"] not in supported:
                if not to_give(e) or item["objective"] == "kto" and not item["desirable"]:
                    continue
                item = {**e, "objective": "sft"}
            items.append(item)
    return _deduplicated(items)


def _items(e: dict, objective: str) -> list[dict]:
    rated, correction = e.get("rating") is not None, e["origin"] == "correction"
    sft, dpo = {**e, "objective": "sft"}, {**e, "objective": "dpo"}
    given = [sft] if to_give(e) else []
    if rated:
        return given + [{**e, "objective": "kto", "desirable": e["rating"] > 0}] if objective in ("kto", "auto") else given
    if not is_pair(e):
        return [sft]
    if correction:
        return [sft, dpo] if objective in ("dpo", "auto") else [sft]
    if objective in ("dpo", "auto"):
        return [sft, dpo]
    if objective == "kto":
        return [sft, {**e, "objective": "kto", "desirable": True},
                {**e, "target": e["rejected"], "objective": "kto", "desirable": False}]
    return [sft]


def _deduplicated(items: list[dict]) -> list[dict]:
    """Each thing to learn once: an answer to give (sft), a rated answer (kto) and a pair (dpo)
    per question, however many feedback rows state it. A chosen answer picked over two bad ones,
    or a preference whose KTO items fell back to sft, is trained once, not once per row."""
    seen, kept = set(), []
    for item in items:
        key = (item["objective"], item["input"], item["target"], item.get("desirable"),
               item.get("rejected") if item["objective"] == "dpo" else None)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def counts(items: list[dict]) -> dict[str, int]:
    """Training items per objective, as the run's report shows them."""
    found: dict[str, int] = {}
    for item in items:
        found[item["objective"]] = found.get(item["objective"], 0) + 1
    return found


def preference_pairs(examples: list[dict]) -> list[tuple[str, str, str]]:
    """``(question, chosen, rejected)`` of every preference the examples state: each pair, and
    each desirable answer against each undesirable one to the same question (ratings)."""
    pairs = [(e["input"], e["target"], e["rejected"]) for e in examples if is_pair(e)]
    rated: dict[str, tuple[list, list]] = {}
    for e in examples:
        if e.get("rating") is not None and not is_pair(e):
            rated.setdefault(e["input"], ([], []))[0 if e["rating"] > 0 else 1].append(e["target"])
    for question, (good, bad) in rated.items():
        pairs += [(question, g, b) for g in good for b in bad if g != b]
    return pairs

"""What a learning cycle of the chat task trains on, beyond the corrections themselves.

- Paraphrases: each taught question also under other wordings, so a fact is recalled when
  asked differently.
- Retrieval-aware prompts: where the knowledge base has sentences relevant to the question that
  support the answer, the example is also trained with the prompt the model sees at inference
  (its sources, the right one among distractors), so the model learns to answer from sources,
  not only the fact.
- Self-distillation: the starting model's answers to general prompts shipped with the package,
  as served (the parent adapter inside its scope, the base model outside it), are mixed in as
  "soft" examples: training keeps the model's next-token distributions on them close to the
  starting model's (a KL penalty, learning/causal_lm.py), so what it could do before is kept.
  Both depend on the starting model alone, so they are computed once and kept (chat/served.py).
"""

from __future__ import annotations

import random
import re
from importlib import resources

# Question forms that ask the same thing in other words (English), tried in order.
_REWORDINGS = (
    (r"^what is the name of (.+)\?$", r"What is \1 called?"),
    (r"^what is (.+) called\?$", r"What is the name of \1?"),
    (r"^what is the price of (.+)\?$", r"How much does \1 cost?"),
    (r"^how much does (.+) cost\?$", r"What is the price of \1?"),
    (r"^in which year was (.+)\?$", r"When was \1?"),
    (r"^when was (.+)\?$", r"In which year was \1?"),
    (r"^who is (.+)\?$", r"Tell me who \1 is."),
    (r"^what is (.+)\?$", r"Tell me what \1 is."),
    (r"^where is (.+)\?$", r"Where can I find \1?"),
    (r"^how many (.+)\?$", r"What is the number of \1?"),
)
_FUNCTION_WORDS = frozenset("a an the is are was were of in at on to do does did what who which where when how".split())
# With scopes, general questions go to the base model and distillation only keeps the adapter's
# own answers and perplexity near its parent's: 8 prompts keep one correction and 4 facts at
# 1.00 / 1.00 / 1.00, behaviour probe 40 / 40 (perplexity 12.2 and 12.7 against 11.8 and 11.9 with
# 40; benchmarks/learn.py --scenarios BC, run with each minimum). One correction then trains in
# about 10 s instead of 36 s (benchmarks/learn_cost.py). Before scopes, 8 kept only 0.91 of the
# general questions and 40 were needed.
MIN_DISTILLATION = 8
#: How many paraphrases ``paraphrases`` can make.
PARAPHRASES = 4


def paraphrases(question: str) -> list[str]:
    """Up to PARAPHRASES other wordings of ``question``: a reworded question form, its keywords
    alone (as people type into a search box), a polite wrapper and a lower-case form. The model
    then keys a fact on the question's meaning-bearing words rather than on one exact string.
    (Rewordings written by SmolLM2-135M were tried and dropped: it answers instead of rewording.)"""
    q = " ".join(question.split())
    found = []
    for pattern, replacement in _REWORDINGS:
        if re.match(pattern, q, re.IGNORECASE):
            found.append(re.sub(pattern, replacement, q, flags=re.IGNORECASE))
            break
    keywords = [w for w in re.findall(r"[\w'-]+", q) if w.lower() not in _FUNCTION_WORDS]
    if keywords:
        found.append(" ".join(keywords) + "?")
    found.append(f"Can you tell me: {q}")
    found.append(q.lower().rstrip("?.! ") + " please")
    return [f for f in dict.fromkeys(found) if f != q][:PARAPHRASES]


def distillation_prompts() -> list[str]:
    text = resources.files("lifelong").joinpath("data/distillation_prompts.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def distillation_count(ratio: float, taught: int) -> int:
    """General prompts to distil for ``taught`` examples: at least a few, so that a single
    correction cannot outweigh everything else in the cycle."""
    return 0 if ratio <= 0 else max(MIN_DISTILLATION, round(ratio * taught))


def sample(items: list, n: int, seed: int) -> list:
    return random.Random(seed).sample(items, min(n, len(items)))

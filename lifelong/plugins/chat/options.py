"""``[tasks.NAME]`` of a chat task: how it answers, what it learns from and how it is trained."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.api import Options, option

from .training import PARAPHRASES


@dataclass
class ChatOptions(Options):
    # answering
    answer: str = option("auto", "Who answers over documents: auto, generate or extract",
                         choices=("auto", "generate", "extract"))
    relevance_floor: float = option(
        0.35, "Below this relevance (cosine + half the word overlap) of the best sentence, alone or read with its "
              "neighbours and heading, the documents are not about the question: see general", at_least=0, at_most=2)
    min_answerability: float = option(
        0.40, "The chance (0 to 1) that its best sentence answers a question from which the documents answer it; "
              "below, the answer is that the documents do not say (0: every question the documents are about)",
        at_least=0, at_most=1)
    general: str = option("answer", "A question the documents are not about: answer (the model answers without "
                                    "sources) or refuse", choices=("answer", "refuse"))
    adapter_scope: float = option(
        0.7, "A learned adapter answers a question only when its cosine to a question the adapter was taught reaches "
             "this; others go to the base model (0: the adapter answers every question; an adapter taught by ratings "
             "or preferences that keeps the behaviour probe answers every question asked without sources)",
        at_least=0, at_most=1)
    # what a cycle learns from
    paraphrases: int = option(4, "Learning: each taught question is also trained under this many rewordings",
                              at_least=0, at_most=PARAPHRASES)
    replay_paraphrases: int = option(
        0, "Learning: rewordings a replayed question (one an earlier cycle learned) is also trained under; its own "
           "wording alone keeps the fact, and the run rehearses more earlier facts for the same cost",
        at_least=0, at_most=PARAPHRASES)
    learn_with_sources: bool = option(
        True, "Learning: also train each question with the sources retrieval finds for it, the prompt the model sees "
              "when it answers over documents")
    self_distillation: float = option(
        2.0, "Learning: general prompts per taught example (at least 8) on which the model is kept close to the model "
             "it starts from, as served (its answers and next-token distributions, computed once and kept)",
        at_least=0, at_most=10)
    gate_earlier_cycles: int = option(
        4, "Learning: earlier cycles whose questions the gate asks again in each run, with the candidate and its "
           "parent: the latest and the older ones in turn (0: every earlier cycle, a cost that grows with each cycle)",
        at_least=0, at_most=1000)
    # how the generator is fine-tuned
    peft: str = option("lora", "Training: PEFT method: lora, adalora or prefix", choices=("lora", "adalora", "prefix"))
    lora_r: int = option(16, "Training: LoRA rank", above=0)
    lora_targets: str = option(
        "mlp", "Training: layers LoRA adapts: mlp (feed-forward blocks: facts learned, general answers kept) or "
               "all-linear", choices=("mlp", "all-linear"))
    epochs: int = option(3, "Training: passes over a run's examples", above=0)
    learning_rate: float = option(1e-3, "Training: optimizer step size", above=0)
    batch_size: int = option(4, "Training: examples per optimizer step", above=0)

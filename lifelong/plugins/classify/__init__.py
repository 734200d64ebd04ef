"""The ``classify`` task: a sentence encoder (the bundled all-MiniLM-L6-v2 by default) with a
classification head, fine-tuned by the learning engine. Labels may appear at any time."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import torch

from lifelong import hookimpl
from lifelong.core.config import options_from_dict
from lifelong.core.errors import ConfigError, InputError
from lifelong.core.task import Answer, Task
from lifelong.learning.evaluation import classification_report
from lifelong.learning.fisher import diagonal_fisher

from .model import load_classifier


@dataclass
class ClassifyOptions:
    threshold: float = field(default=0.3, metadata={"help": "Below this confidence the answer is the out-of-scope label"})
    out_of_scope_label: str = field(default="oos", metadata={"help": "Label returned below the threshold"})
    finetune: str = field(default="lora", metadata={"help": "What training changes: lora, full (encoder and head) or head"})
    epochs: int = field(default=4, metadata={"help": "Passes over a run's examples"})
    learning_rate: float = field(default=2e-3, metadata={"help": "Optimizer step size (use ~5e-5 with full)"})
    batch_size: int = field(default=32, metadata={"help": "Examples per optimizer step"})
    max_length: int = field(default=64, metadata={"help": "Tokens kept per text"})

    def __post_init__(self):
        if not 0 <= self.threshold < 1:
            raise ConfigError(f"threshold must be in [0, 1), got {self.threshold!r}")
        if self.finetune not in ("lora", "full", "head"):
            raise ConfigError(f"finetune must be lora, full or head, got {self.finetune!r}")
        for key in ("epochs", "batch_size", "max_length"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) <= 0:
                raise ConfigError(f"{key} must be an integer > 0, got {getattr(self, key)!r}")
        if self.learning_rate <= 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate!r}")


class ClassifyTask(Task):
    def __init__(self, name, options, agent):
        super().__init__(name, options, agent)
        try:
            self.settings = options_from_dict(ClassifyOptions, options, f"tasks.{name}.")
        except ConfigError as exc:
            # Type and key errors name the option in full; __post_init__ names it alone.
            raise ConfigError(str(exc) if str(exc).startswith("tasks.") else f"tasks.{name}.{exc}") from None
        self._served: dict[str, object] = {}

    def replay_group(self, example: dict):
        return example["target"]

    # --- model plumbing ----------------------------------------------------------------------

    @property
    def _encoder(self):
        return self.agent.embedder.model[0].auto_model

    @property
    def _hidden(self) -> int:
        return self.agent.embedder.dim

    def _tokenize(self, texts):
        return self.agent.embedder.tokenizer(
            texts, padding=True, truncation=True, max_length=self.settings.max_length, return_tensors="pt"
        )

    def _load(self, adapter_path, trainable=False):
        return load_classifier(self._encoder, self._hidden, adapter_path, self.settings.finetune, trainable)

    @torch.inference_mode()
    def _predict(self, model, texts: list[str]) -> list[tuple[str, float]]:
        model.eval()
        results = []
        for start in range(0, len(texts), 128):
            enc = self._tokenize(texts[start : start + 128])
            probs = torch.softmax(model(enc["input_ids"], enc["attention_mask"]), dim=-1)
            conf, index = probs.max(dim=-1)
            for c, i in zip(conf.tolist(), index.tolist()):
                label = model.labels[i] if c >= self.settings.threshold else self.settings.out_of_scope_label
                results.append((label, c))
        return results

    def _serving_model(self):
        adapter, version = self.agent.adapter_for(self.name)
        if adapter is None:
            raise InputError(
                f"task {self.name!r} has not learned any label yet: import labelled examples and run 'lifelong learn --task {self.name}'"
            )
        if version not in self._served:
            self._served = {version: self._load(adapter[1])}  # keep one: the active version
        return self._served[version], version

    # --- Task API ------------------------------------------------------------------------------

    def answer(self, text, hits) -> Answer:
        model, version = self._serving_model()
        label, confidence = self._predict(model, [text])[0]
        return Answer(label, version, confidence=round(confidence, 4))

    def example_target(self, interaction, rating, correction):
        if correction is not None:
            return correction.strip()
        if rating == 1 and interaction.get("output") != self.settings.out_of_scope_label:
            return interaction.get("output")
        return None

    def score(self, prediction: str, target: str, input: str = "") -> float:
        return float(prediction == target)

    def evaluate_rows(self, rows: list[tuple[str, str]]) -> dict:
        model, version = self._serving_model()
        predicted = [label for label, _ in self._predict(model, [text for text, _ in rows])]
        report = classification_report([label for _, label in rows], predicted, self.settings.out_of_scope_label)
        report["model_version"] = version
        return report

    # --- learning ------------------------------------------------------------------------------

    def train(self, examples, parent_path, penalty=None, progress=None):
        s = self.settings
        rng = random.Random(self.agent.config.learning.seed)
        torch.manual_seed(self.agent.config.learning.seed)
        model = self._load(parent_path, trainable=True)
        model.grow(sorted({e["target"] for e in examples}))
        index = {label: i for i, label in enumerate(model.labels)}
        params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(params, lr=s.learning_rate)
        steps = math.ceil(len(examples) / s.batch_size) * s.epochs
        bar = progress.add_task("training", total=steps) if progress else None
        model.train()
        for epoch in range(s.epochs):
            order = list(examples)
            rng.shuffle(order)
            for start in range(0, len(order), s.batch_size):
                batch = order[start : start + s.batch_size]
                enc = self._tokenize([e["input"] for e in batch])
                target = torch.tensor([index[e["target"]] for e in batch])
                loss = torch.nn.functional.cross_entropy(model(enc["input_ids"], enc["attention_mask"]), target)
                if penalty is not None:
                    loss = loss + penalty(model)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                if progress:
                    progress.update(bar, advance=1, description=f"training epoch {epoch + 1}/{s.epochs} loss {loss.item():.3f}")
        model.eval()
        return model

    def save_adapter(self, model, path) -> None:
        model.save(path, self.settings.finetune)

    def assess(self, adapter_path, sets: dict) -> tuple[dict, None]:
        """Accuracy on each set; no probe (an encoder has no perplexity)."""
        if adapter_path is None:
            return {key: 0.0 for key in sets}, None
        model = self._load(adapter_path)
        scores = {}
        for key, examples in sets.items():
            if examples:
                predicted = self._predict(model, [e["input"] for e in examples])
                scores[key] = sum(p == e["target"] for (p, _), e in zip(predicted, examples)) / len(examples)
        return scores, None

    def fisher(self, model, examples) -> dict:
        index = {label: i for i, label in enumerate(model.labels)}

        def loss(example):
            enc = self._tokenize([example["input"]])
            logits = model(enc["input_ids"], enc["attention_mask"])
            return torch.nn.functional.cross_entropy(logits, torch.tensor([index[example["target"]]]))

        return diagonal_fisher(model, (lambda e=e: loss(e) for e in examples))


@hookimpl
def register_tasks(register):
    register("classify", ClassifyTask)

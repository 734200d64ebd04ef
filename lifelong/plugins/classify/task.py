"""The ``classify`` task: a sentence encoder (the bundled all-MiniLM-L6-v2 by default) with a
classification head. Labels may appear at any time; see ``ClassifyOptions.head`` for which head
forgets what."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import torch

from lifelong.api import (ALL_LABELS, CONFUSED_WITH, KNOWN_LABELS, PER_LABEL, Answer, ConfigError, InputError, LearnableTask,
                          LoopSettings, Options, classification_report, device_of, diagonal_fisher, fit, option)

from .heads import HEADS
from .model import META_FILE, EncoderClassifier, load_classifier

# Features of the base encoder remembered per text (1.5 kB each for all-MiniLM-L6-v2).
FEATURE_CACHE_ROWS = 50_000
# Out-of-scope thresholds on each head's confidence, chosen on CLINC150's validation split
# (benchmarks/continual_clinc150.py --calibrate prints the sweep); the test split reports them.
DEFAULT_THRESHOLDS = {"linear": 0.3, "prototype": 0.5, "lda": 0.35}


@dataclass
class ClassifyOptions(Options):
    head: str = option("lda", (
        "linear: a softmax layer trained with the encoder; forgets old labels unless replayed. "
        "prototype: cosine to each label's mean feature; a new label changes nothing else. "
        "lda: label means with a shared, shrunk covariance (Mahalanobis); a new label changes "
        "only its mean and the shared covariance; the most accurate (the CLINC150 benchmark)"), choices=tuple(HEADS))
    finetune: str | None = option(None, (
        "What training changes: lora, full (encoder and head) or head (linear head only); for "
        "prototype/lda heads none (a frozen encoder, the default) or lora/full (adapt the encoder "
        "in the first cycle only, then freeze it). Default: lora for linear, none otherwise"))
    threshold: float | None = option(None, (
        "Below this confidence the answer is the out-of-scope label. Confidence: linear, the top "
        "probability; prototype, the cosine to the nearest mean; lda, 1/(1 + d²/dim) for the "
        "Mahalanobis distance d. Default per head: " + ", ".join(f"{k} {v}" for k, v in DEFAULT_THRESHOLDS.items())),
        at_least=0, below=1)
    out_of_scope_label: str = option("oos", "Label returned below the threshold")
    epochs: int = option(4, "Passes over a run's examples (linear head, or a first-cycle adaptation)", above=0)
    learning_rate: float = option(2e-3, "Optimizer step size (use ~5e-5 with full)", above=0)
    batch_size: int = option(32, "Examples per optimizer step", above=0)
    # Sentence encoders read 512 tokens at most (MiniLM 256); more only costs memory.
    max_length: int = option(64, "Tokens kept per text", above=0, at_most=8192)

    def __post_init__(self):
        super().__post_init__()
        allowed = ("lora", "full", "head") if self.head == "linear" else ("none", "lora", "full")
        if self.finetune is None:
            self.finetune = "lora" if self.head == "linear" else "none"
        if self.finetune not in allowed:
            raise ConfigError(f"finetune must be {', '.join(allowed)} with head {self.head!r}, got {self.finetune!r}")
        if self.threshold is None:
            self.threshold = DEFAULT_THRESHOLDS[self.head]
        if not self.out_of_scope_label.strip():
            raise ConfigError(f"out_of_scope_label must be a non-empty label, got {self.out_of_scope_label!r}")


class ClassifyTask(LearnableTask):
    settings_class = ClassifyOptions

    def __init__(self, name, options, agent):
        super().__init__(name, options, agent)
        self._served: dict[str, object] = {}
        self._base_features: dict[str, torch.Tensor] = {}

    def confidence_threshold(self) -> float:
        return self.settings.threshold

    def replay_group(self, example: dict):
        return example["target"]

    # --- model plumbing ----------------------------------------------------------------------

    @property
    def _encoder(self):
        encoder = getattr(self.agent.embedder, "transformer", None)
        if encoder is None:
            raise ConfigError(f"task {self.name!r}: the embedder ({type(self.agent.embedder).__name__}) has no transformers "
                              "encoder to classify with (TextEmbedder.transformer); set [models] embedder to one that has")
        return encoder

    @property
    def _hidden(self) -> int:
        return self.agent.embedder.dim

    def _tokenize(self, texts):
        return self.agent.embedder.tokenizer(
            texts, padding=True, truncation=True, max_length=self.settings.max_length, return_tensors="pt"
        )

    def _load(self, adapter_path, trainable=False):
        s = self.settings
        return load_classifier(self._encoder, self._hidden, adapter_path, s.finetune, trainable, s.head)

    @torch.inference_mode()
    def _features(self, model, texts: list[str]) -> torch.Tensor:
        """Pooled features; those of the unchanged base encoder are remembered, because the gate
        scores every earlier cycle's examples with two models each cycle and a frozen-encoder
        head would otherwise spend nearly all its time encoding the same texts again."""
        model.eval()
        cache = self._base_features if model.base_encoder else {}
        missing = list(dict.fromkeys(t for t in texts if t not in cache))
        if len(cache) + len(missing) > FEATURE_CACHE_ROWS:
            cache.clear()
        fresh = {}
        for start in range(0, len(missing), 128):
            batch = missing[start : start + 128]
            enc = self._tokenize(batch).to(device_of(model))
            fresh.update(zip(batch, model.features(enc["input_ids"], enc["attention_mask"]).cpu()))
        cache.update(fresh)
        rows = [cache.get(t, fresh.get(t)) for t in texts]
        return torch.stack(rows) if rows else torch.zeros(0, self._hidden)

    @torch.inference_mode()
    def _labels_of(self, model, features, among: int | None = None) -> list[tuple[str, float]]:
        """Each row's label among the first ``among`` labels (all by default), or the
        out-of-scope label below the threshold, with its confidence."""
        s = self.settings
        index, confidence = model.head.predict(features, among or len(model.labels))
        return [(model.labels[i] if c >= s.threshold else s.out_of_scope_label, c)
                for i, c in zip(index.tolist(), confidence.tolist())]

    def _predict(self, model, texts: list[str]) -> list[tuple[str, float]]:
        return self._labels_of(model, self._features(model, texts))

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
        if parent_path:
            saved = json.loads((Path(parent_path) / META_FILE).read_text()).get("head", "linear")
            if saved != self.settings.head:
                raise InputError(f"task {self.name!r} learned with head {saved!r}, not {self.settings.head!r}: "
                                 f"keep head = {saved!r} or start a new task")
        if self.settings.head == "linear":
            return self._fit_linear(self._load(parent_path, trainable=True), examples, penalty, progress)
        return self._fit_statistics(examples, parent_path, progress)

    def _fit_linear(self, model, examples, penalty, progress):
        s = self.settings
        torch.manual_seed(self.agent.config.learning.seed)
        model.head.grow(sorted({e["target"] for e in examples}))
        index = {label: i for i, label in enumerate(model.labels)}

        def batches(rng):
            order = list(examples)
            rng.shuffle(order)
            return [order[start : start + s.batch_size] for start in range(0, len(order), s.batch_size)]

        def loss(model, batch):
            enc = self._tokenize([e["input"] for e in batch]).to(device_of(model))
            target = torch.tensor([index[e["target"]] for e in batch], device=enc["input_ids"].device)
            return torch.nn.functional.cross_entropy(model(enc["input_ids"], enc["attention_mask"]), target)

        # AdamW's default weight decay, as this loop always had.
        settings = LoopSettings(s.epochs, s.learning_rate, self.agent.config.learning.micro_batch_size, weight_decay=0.01)
        return fit(model, batches, loss, lambda example: 1, settings, self.agent.config.learning.seed, penalty, progress)

    def _fit_statistics(self, examples, parent_path, progress):
        """Add the rows no cycle has learned yet to the parent's statistics: replayed rows are
        in them already, so replay and joint cost nothing more here. With finetune lora/full,
        the first cycle adapts the encoder (with a linear head, then dropped), later ones keep it."""
        s = self.settings
        if parent_path is None and s.finetune != "none":
            adapted = self._fit_linear(self._load(None, trainable=True), examples, None, progress)
            model = EncoderClassifier(adapted.encoder, HEADS[s.head](self._hidden, []))
            model.requires_grad_(False)
        else:
            model = self._load(parent_path)
            model.inherited_encoder = parent_path if s.finetune != "none" else None
        new = [e for e in examples if e.get("cycle") is None]
        model.head.grow(sorted({e["target"] for e in new}))
        index = {label: i for i, label in enumerate(model.labels)}
        features = self._features(model, [e["input"] for e in new])
        model.head.add(features, torch.tensor([index[e["target"]] for e in new]))
        return model

    def save_adapter(self, model, path) -> None:
        model.save(path, self.settings.finetune)

    def load_trained(self, adapter_path):
        return self._load(adapter_path, trainable=self.settings.head == "linear")

    def assess(self, adapter_path, sets: dict) -> tuple[dict, None]:
        """Accuracy on each cycle's set, and the like-with-like scores of a class-incremental
        gate (lifelong.learning.gate): earlier cycles among the labels learned before this
        cycle, per label, and the examples of every label the model knows, every label allowed
        (the task each model was trained for). No probe (an encoder has no perplexity)."""
        if adapter_path is None:
            return {key: 0.0 for key in sets}, None
        model, current = self._load(adapter_path), max(sets)
        learned = {e["target"] for e in self.agent.learned_examples(self.name)}
        among = next((i for i, label in enumerate(model.labels) if label not in learned), len(model.labels))
        scores = {KNOWN_LABELS: {}, PER_LABEL: {}, CONFUSED_WITH: {}}
        own, per_label, mistaken = [], {}, {}
        for key, examples in sets.items():
            if not examples:
                continue
            features = self._features(model, [e["input"] for e in examples])
            predicted = [label for label, _ in self._labels_of(model, features)]
            right = [p == e["target"] for p, e in zip(predicted, examples)]
            scores[key] = sum(right) / len(examples)
            own += [ok for ok, e in zip(right, examples) if e["target"] in model.labels]
            if key == current or not among:
                continue
            restricted = [label == e["target"] for (label, _), e in zip(self._labels_of(model, features, among), examples)]
            scores[KNOWN_LABELS][key] = sum(restricted) / len(examples)
            for ok, p, e in zip(restricted, predicted, examples):
                per_label.setdefault(e["target"], []).append(ok)
                if p != e["target"]:
                    mistaken.setdefault(e["target"], Counter())[p] += 1
        scores[ALL_LABELS] = sum(own) / max(1, len(own))
        scores[PER_LABEL] = {label: sum(oks) / len(oks) for label, oks in per_label.items()}
        scores[CONFUSED_WITH] = {label: counts.most_common(1)[0][0] for label, counts in mistaken.items()}
        return scores, None

    def fisher(self, model, examples) -> dict:
        if self.settings.head != "linear":
            return {}  # statistics heads are not trained by gradient: nothing for EWC to hold
        index = {label: i for i, label in enumerate(model.labels)}

        def loss(example):
            enc = self._tokenize([example["input"]]).to(device_of(model))
            logits = model(enc["input_ids"], enc["attention_mask"])
            return torch.nn.functional.cross_entropy(logits, torch.tensor([index[example["target"]]], device=logits.device))

        return diagonal_fisher(model, (lambda e=e: loss(e) for e in examples))

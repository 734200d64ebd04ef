"""A sentence encoder with a classification head that grows as labels appear."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import torch

HEAD_FILE, LABELS_FILE, META_FILE = "head.safetensors", "labels.json", "classifier.json"


class EncoderClassifier(torch.nn.Module):
    def __init__(self, encoder, hidden: int, labels: list[str]):
        super().__init__()
        self.encoder = encoder
        self.labels = list(labels)
        self.head = torch.nn.Linear(hidden, len(labels))

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # mean pooling, as the encoder was trained
        return self.head(pooled)

    def grow(self, labels: list[str]) -> None:
        """Add output rows for unseen ``labels``; the rows of known labels are kept as they are
        (class-incremental learning)."""
        new = [label for label in labels if label not in self.labels]
        if not new:
            return
        old = self.head
        self.head = torch.nn.Linear(old.in_features, len(self.labels) + len(new))
        with torch.no_grad():
            self.head.weight[: len(self.labels)] = old.weight
            self.head.bias[: len(self.labels)] = old.bias
            self.head.weight[len(self.labels) :].normal_(0, 0.02)
            self.head.bias[len(self.labels) :] = old.bias.mean() if len(self.labels) else 0.0
        self.labels += new

    def save(self, path: Path, finetune: str) -> None:
        from safetensors.torch import save_file

        path.mkdir(parents=True, exist_ok=True)
        if finetune != "head":
            self.encoder.save_pretrained(path / "encoder", safe_serialization=True)
        save_file({"weight": self.head.weight.detach().contiguous(), "bias": self.head.bias.detach().contiguous()}, str(path / HEAD_FILE))
        (path / LABELS_FILE).write_text(json.dumps(self.labels))
        (path / META_FILE).write_text(json.dumps({"finetune": finetune}))


def load_classifier(base_encoder, hidden: int, path: str | None, finetune: str, trainable: bool) -> EncoderClassifier:
    """The classifier saved at ``path`` over a copy of ``base_encoder``; with no path, an empty
    one. With ``trainable``, the weights that ``finetune`` trains are left trainable."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from safetensors.torch import load_file

    encoder = copy.deepcopy(base_encoder)
    labels, saved_mode = [], None
    if path:
        labels = json.loads((Path(path) / LABELS_FILE).read_text())
        saved_mode = json.loads((Path(path) / META_FILE).read_text())["finetune"]
        if saved_mode == "lora":
            encoder = PeftModel.from_pretrained(encoder, Path(path) / "encoder", is_trainable=trainable and finetune == "lora")
        elif saved_mode == "full":
            encoder.load_state_dict(type(encoder).from_pretrained(Path(path) / "encoder").state_dict())
    if trainable and finetune == "lora" and saved_mode != "lora":
        encoder = get_peft_model(encoder, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "key", "value", "dense"]))
    for param in encoder.parameters():
        param.requires_grad = trainable and (finetune == "full" or (finetune == "lora" and param.requires_grad))
    model = EncoderClassifier(encoder, hidden, labels)
    if path:
        state = load_file(str(Path(path) / HEAD_FILE))
        model.head.load_state_dict({"weight": state["weight"], "bias": state["bias"]})
    return model

"""A sentence encoder with a classification head that grows as labels appear."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import torch

from .heads import HEADS, LinearHead

HEAD_FILE, LABELS_FILE, META_FILE = "head.safetensors", "labels.json", "classifier.json"


class EncoderClassifier(torch.nn.Module):
    def __init__(self, encoder, head):
        super().__init__()
        self.encoder = encoder
        self.head = head
        self.inherited_encoder: str | None = None  # an adapter folder whose encoder this one reuses unchanged
        self.base_encoder = False  # True when the encoder is the unchanged base model: its features can be shared

    @property
    def labels(self) -> list[str]:
        return self.head.labels

    def features(self, input_ids, attention_mask):
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(out.dtype)
        return (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # mean pooling, as the encoder was trained

    def forward(self, input_ids, attention_mask):
        """Logits of a linear head (the training objective)."""
        return self.head(self.features(input_ids, attention_mask))

    def save(self, path: Path, finetune: str) -> None:
        from safetensors.torch import save_file

        path.mkdir(parents=True, exist_ok=True)
        if self.inherited_encoder:
            shutil.copytree(Path(self.inherited_encoder) / "encoder", path / "encoder")
        elif finetune in ("lora", "full"):
            self.encoder.save_pretrained(path / "encoder", safe_serialization=True)
        save_file(self.head.state(), str(path / HEAD_FILE))
        (path / LABELS_FILE).write_text(json.dumps(self.labels))
        (path / META_FILE).write_text(json.dumps({"finetune": finetune, "head": self.head.kind}))


def load_classifier(base_encoder, hidden: int, path: str | None, finetune: str, trainable: bool, head: str = "linear") -> EncoderClassifier:
    """The classifier saved at ``path`` over a copy of ``base_encoder``; with no path, an empty
    one with a ``head`` head. With ``trainable``, the weights that ``finetune`` trains are left
    trainable (and a linear head to train them with replaces a statistics head)."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from safetensors.torch import load_file

    encoder = copy.deepcopy(base_encoder)
    labels, saved_mode, saved_head = [], None, head
    if path:
        labels = json.loads((Path(path) / LABELS_FILE).read_text())
        meta = json.loads((Path(path) / META_FILE).read_text())
        saved_mode, saved_head = meta["finetune"], meta.get("head", "linear")
        if saved_mode == "lora":
            encoder = PeftModel.from_pretrained(encoder, Path(path) / "encoder", is_trainable=trainable and finetune == "lora")
            if not trainable:
                encoder = encoder.merge_and_unload()  # a plain encoder: faster to run, same outputs
        elif saved_mode == "full":
            encoder.load_state_dict(type(encoder).from_pretrained(Path(path) / "encoder").state_dict())
    if trainable and finetune == "lora" and saved_mode != "lora":
        encoder = get_peft_model(encoder, LoraConfig(r=8, lora_alpha=16, target_modules=["query", "key", "value", "dense"]))
    for param in encoder.parameters():
        param.requires_grad = trainable and (finetune == "full" or (finetune == "lora" and param.requires_grad))
    model = EncoderClassifier(encoder, HEADS[saved_head](hidden, labels))
    model.base_encoder = not trainable and saved_mode in (None, "none", "head")
    if path:
        model.head.load(load_file(str(Path(path) / HEAD_FILE)))
    if trainable and not isinstance(model.head, LinearHead):
        model.head = LinearHead(hidden, labels)
    return model

"""Sentence embeddings through sentence-transformers: batched, L2-normalised float32."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import ConfigError


class Embedder:
    def __init__(self, model, name: str):
        self.model = model
        self.name = name

    @classmethod
    def load(cls, name_or_path: str | Path, device: str = "auto") -> "Embedder":
        """``device``: as ``[models] device`` says (the encoder stays float32: it is small, and
        its vectors are compared with those already in the index)."""
        from sentence_transformers import SentenceTransformer

        from ..devices import resolve_device

        try:
            model = SentenceTransformer(str(name_or_path), device=str(resolve_device(device)))
        except OSError as exc:
            raise ConfigError(
                f"cannot load embedder {str(name_or_path)!r}: {exc}. Give a local path or an HF "
                "id that is in the local cache (there is no network at run time)"
            ) from exc
        return cls(model, str(name_or_path))

    @property
    def dim(self) -> int:
        return self.model.get_embedding_dimension()

    @cached_property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def transformer(self):
        """The transformers encoder under the sentence-transformers pipeline."""
        return self.model[0].auto_model

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

"""Model loading shared by the plugins: generators (causal LMs) and embedders."""

from __future__ import annotations

from pathlib import Path

from .bundled import bundled_path
from .embedder import Embedder
from .generator import Generator


def load_embedder(spec: str) -> Embedder:
    return Embedder.load(bundled_path(spec) if spec.startswith("bundled:") else spec)


def load_generator(spec: str, config, cache_dir: Path) -> Generator:
    return Generator.load(bundled_path(spec) if spec.startswith("bundled:") else spec, config, cache_dir)


__all__ = ["Embedder", "Generator", "load_embedder", "load_generator"]

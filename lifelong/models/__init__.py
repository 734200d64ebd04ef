"""Model loading shared by the model plugins: generators (causal LMs) and embedders. torch and
transformers are imported by the loaders, so importing this package costs nothing."""

from __future__ import annotations

from pathlib import Path

from .bundled import bundled_path


def load_embedder(spec: str, config=None):
    """``config``: the workspace's Config, for ``[models] device`` (None: "auto")."""
    from .embedder import Embedder

    return Embedder.load(bundled_path(spec) if spec.startswith("bundled:") else spec,
                         config.models.device if config is not None else "auto")


def load_generator(spec: str, config, cache_dir: Path):
    from .generator import Generator

    return Generator.load(bundled_path(spec) if spec.startswith("bundled:") else spec, config, cache_dir)


__all__ = ["load_embedder", "load_generator"]

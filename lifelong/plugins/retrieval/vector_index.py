"""VectorIndex: FAISS inner-product search over L2-normalised vectors, keyed by chunk id.

Exact (flat) search below ``approximate_above`` vectors; an IVF index above it, trained on the
vectors themselves. Saved atomically (temp file, fsync, rename) with a fingerprint of the ids it
holds and a checksum of its bytes, so a missing, stale or damaged file is detected and the index
rebuilt by the caller from the vectors kept in SQLite."""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path

import faiss
import numpy as np

from lifelong.api import atomic_write

log = logging.getLogger("lifelong")


class VectorIndex:
    def __init__(self, dim: int, approximate_above: int = 200_000, nprobe: int | None = None):
        self.dim = dim
        self.approximate_above = approximate_above
        self.nprobe = nprobe
        self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    @property
    def approximate(self) -> bool:
        return isinstance(self.index, faiss.IndexIVF)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def build(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace the contents; picks exact or IVF by size."""
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(ids) > self.approximate_above:
            # sqrt(n) lists keep k-means training affordable on 2 cores at 1M vectors; probing
            # 1/16 of them holds recall@10 near 0.97 on clustered data (benchmarks/retrieval.py).
            nlist = int(math.sqrt(len(ids)))
            quantizer = faiss.IndexFlatIP(self.dim)
            index = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
            sample = vectors[np.random.default_rng(0).permutation(len(vectors))[: nlist * 40]]
            index.train(sample)
            index.nprobe = self.nprobe or max(16, nlist // 16)
            self.index = index
        else:
            self.index = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        if len(ids):
            self.index.add_with_ids(vectors, ids)

    def add(self, ids, vectors) -> None:
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids) -> None:
        if len(ids):
            self.index.remove_ids(np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each of shape (len(queries), k); missing hits have id -1."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        return self.index.search(queries, min(k, len(self)))

    def save(self, path: Path, fingerprint: list) -> None:
        data = faiss.serialize_index(self.index)
        checksum = hashlib.sha256(data.tobytes()).hexdigest()
        header = json.dumps({"dim": self.dim, "fingerprint": fingerprint, "sha256": checksum}).encode()
        try:
            with atomic_write(path) as tmp:
                tmp.write_bytes(len(header).to_bytes(8, "little") + header + data.tobytes())
        except OSError as exc:
            # The file only saves rebuilding from SQLite next time; searching goes on without it.
            log.warning("cannot save the vector index to %s (%s); it is rebuilt from SQLite on next use", path, exc)

    @classmethod
    def load(cls, path: Path, dim: int, fingerprint: list, approximate_above: int) -> "VectorIndex | None":
        """The saved index, or None when it is missing, unreadable, damaged (its checksum does
        not match) or does not match ``fingerprint`` (then the caller rebuilds it)."""
        try:
            raw = path.read_bytes()
            size = int.from_bytes(raw[:8], "little")
            header = json.loads(raw[8 : 8 + size])
            data = raw[8 + size :]
            if (not isinstance(header, dict) or header.get("dim") != dim or header.get("fingerprint") != fingerprint
                    or header.get("sha256") != hashlib.sha256(data).hexdigest()):
                return None
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except (OSError, ValueError, RuntimeError):
            return None
        vector_index = cls(dim, approximate_above)
        vector_index.index = index
        return vector_index

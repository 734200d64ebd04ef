"""``[plugins.retrieval]``: how files are read and cut into chunks, and how the index searches."""

from __future__ import annotations

from dataclasses import dataclass, field

from lifelong.api import ConfigError


def _help(text, default):
    return field(default=default, metadata={"help": text})


@dataclass
class RetrievalOptions:
    chunk_size: int = _help("Chunk size in tokens of the embedder's tokenizer", 200)
    chunk_overlap: int = _help("Tokens shared by consecutive chunks", 30)
    mode: str = _help("Default search mode: dense, keyword or hybrid", "hybrid")
    approximate_above: int = _help("Use an approximate index above this many vectors (exact below)", 200_000)
    json_text_field: str = _help("Field holding the text in .json/.jsonl files", "text")
    csv_column: str = _help("Column holding the text in .csv files", "text")
    max_file_mb: float = _help("Files larger than this are skipped", 50.0)

    def __post_init__(self):
        for ok, key, rule in (
            (self.chunk_size >= 16, "chunk_size", "must be >= 16"),
            (0 <= self.chunk_overlap < self.chunk_size, "chunk_overlap", "must be >= 0 and below chunk_size"),
            (self.mode in ("dense", "keyword", "hybrid"), "mode", "must be dense, keyword or hybrid"),
            (self.approximate_above > 0, "approximate_above", "must be > 0"),
            (self.max_file_mb > 0, "max_file_mb", "must be > 0"),
        ):
            if not ok:
                raise ConfigError(f"{key} {rule}, got {getattr(self, key)!r}")

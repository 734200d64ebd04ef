"""``[plugins.retrieval]``: how files are read and cut into chunks, and how the index searches."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.api import ConfigError, Options, option


@dataclass
class RetrievalOptions(Options):
    chunk_size: int = option(200, "Chunk size in tokens of the embedder's tokenizer", at_least=16)
    chunk_overlap: int = option(30, "Tokens shared by consecutive chunks (below chunk_size)", at_least=0)
    mode: str = option("hybrid", "Default search mode: dense, keyword or hybrid", choices=("dense", "keyword", "hybrid"))
    approximate_above: int = option(200_000, "Use an approximate index above this many vectors (exact below)", above=0)
    json_text_field: str = option("text", "Field holding the text in .json/.jsonl files")
    csv_column: str = option("text", "Column holding the text in .csv files")
    max_file_mb: float = option(50.0, "Files larger than this are skipped", above=0)

    def __post_init__(self):
        super().__post_init__()
        if self.chunk_overlap >= self.chunk_size:
            raise ConfigError(f"chunk_overlap must be below chunk_size ({self.chunk_size}), got {self.chunk_overlap!r}")

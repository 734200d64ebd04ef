"""Property-based tests (hypothesis): the file readers, the chunker and config parsing take any
input and either succeed or raise their one documented error. The PII masker's properties are
in tests/test_pii.py."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lifelong.core.config import Config, config_from_dict
from lifelong.errors import ConfigError
from lifelong.plugins.retrieval.chunker import Chunker, blocks
from lifelong.plugins.retrieval.readers import SUPPORTED, UnreadableFile, read_text

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache
def tokenizer():
    from transformers import AutoTokenizer

    from lifelong.testing.tiny_models import tiny_embedder_path

    return AutoTokenizer.from_pretrained(tiny_embedder_path())


@SETTINGS
@given(st.sampled_from(SUPPORTED), st.binary(max_size=3000))
def test_readers_take_any_bytes(suffix, data):
    try:
        text = read_text(Path(f"file{suffix}"), data, "text", "text")
    except UnreadableFile as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert isinstance(text, str)


@SETTINGS
@given(st.sampled_from([".json", ".jsonl", ".csv", ".html"]), st.text(max_size=2000))
def test_readers_take_any_text(suffix, text):
    try:
        assert isinstance(read_text(Path(f"file{suffix}"), text.encode("utf-8", "surrogatepass"), "text", "text"), str)
    except UnreadableFile:
        pass


def _subsequence(needle: str, haystack: str) -> bool:
    it = iter(haystack)
    return all(ch in it for ch in needle)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=1500),
       st.integers(16, 64))
def test_chunks_are_bounded_and_keep_every_character(text, chunk_size):
    chunker = Chunker(tokenizer(), chunk_size, chunk_size // 4)
    chunks = chunker.split(text)
    assert all(chunk.strip() for chunk in chunks)
    assert all(len(tokenizer().tokenize(chunk)) <= chunk_size for chunk in chunks)
    assert _subsequence("".join(text.split()), "".join("".join(chunks).split()))


@SETTINGS
@given(st.text(max_size=5000), st.integers(1, 500))
def test_blocks_cover_the_text_within_the_size(text, size):
    pieces = list(blocks(text, size))
    assert "".join(pieces) == text and all(0 < len(p) <= size for p in pieces)


UNITS = {"words": "lorem ipsum dolor ", "one long word": "x", "lines ended by carriage returns": "line\r",
         "words joined by zero-width spaces": "ab\u200b", "markdown headings": "# h\n"}


@pytest.mark.parametrize("shape", UNITS)
def test_chunking_work_grows_linearly_with_the_text(shape):
    """The work (characters the tokenizer measures) per character of text stays the same from
    one size to the next, and is a few times the text at most: ingest time is linear.
    benchmarks/chunking.py times it."""
    unit = UNITS[shape]
    work = []
    for copies in (1, 2, 4):
        chunker = Chunker(tokenizer(), 64, 8)
        chunks = chunker.split(unit * (4_000 * copies // len(unit)))
        assert all(len(tokenizer().tokenize(c)) <= 64 for c in chunks)
        work.append(chunker.tokenized_chars)
    assert work[1] <= 2.2 * work[0] and work[2] <= 2.2 * work[1], work
    assert work[2] <= 8 * 16_000, work  # not a tokenizer call per character


TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
# Old keys (privacy, threads, chunk_size, redact_pii, epochs...) too: they are moved to plugins.NAME first.
KEYS = st.sampled_from(["models", "generation", "retrieval", "privacy", "learning", "plugins", "tasks", "other"])
INNER = st.sampled_from(["generator", "threads", "max_new_tokens", "top_p", "chunk_size", "chunk_overlap", "mode",
                         "redact_pii", "epochs", "replay_ratio", "tolerance", "seed", "intent", "modules",
                         "retrieval", "x"])


@SETTINGS
@given(st.dictionaries(KEYS, st.dictionaries(INNER, TOML_VALUES, max_size=4) | TOML_VALUES, max_size=4))
def test_config_parsing_accepts_or_names_the_problem(data):
    try:
        assert isinstance(config_from_dict(data), Config)
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc)

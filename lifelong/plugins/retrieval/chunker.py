"""Splitting text into chunks of at most ``chunk_size`` tokens, with work that grows linearly
with the text.

langchain's RecursiveCharacterTextSplitter measures every piece with the tokenizer, and on one
very long line (a 2 MB file without a newline, a 200 KB word) it recurses over ever smaller
pieces and grows far faster than the text. So the text is first cut into blocks of a bounded
number of characters, at a paragraph, line or word boundary where there is one, and each block
is split on its own: the splitter's work per block is bounded, the total is linear."""

from __future__ import annotations

import re

# A token of an English sentence encoder is about 4 characters; a block this many characters
# per token of chunk_size holds several chunks, so few chunks end early at a block's edge.
BLOCK_CHARS_PER_TOKEN = 16
_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"\s"))


def blocks(text: str, size: int):
    """``text`` in pieces of at most ``size`` characters, each cut at the last paragraph break,
    line break or whitespace before ``size`` (hard at ``size`` when there is none)."""
    start = 0
    while len(text) - start > size:
        window = text[start : start + size]
        cut = size
        for boundary in _BOUNDARIES:
            found = [m.end() for m in boundary.finditer(window, size // 2)]
            if found:
                cut = found[-1]
                break
        yield text[start : start + cut]
        start += cut
    if start < len(text):
        yield text[start:]


class Chunker:
    def __init__(self, tokenizer, chunk_size: int, chunk_overlap: int):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.tokenizer = tokenizer
        self.block_size = chunk_size * BLOCK_CHARS_PER_TOKEN
        self.tokenized_chars = 0  # characters measured by the tokenizer: the splitter's work
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=chunk_overlap, length_function=self._length,
        )

    def _length(self, text: str) -> int:
        self.tokenized_chars += len(text)
        return len(self.tokenizer.tokenize(text))

    def split(self, text: str) -> list[str]:
        chunks = []
        for block in blocks(text, self.block_size):
            chunks.extend(self._splitter.split_text(block))
        return chunks

"""Splitting text into chunks of at most ``chunk_size`` tokens, with work that grows linearly
with the text.

langchain's RecursiveCharacterTextSplitter measures every piece with the tokenizer, and on one
very long line (a 2 MB file without a newline, a 200 KB word) it recurses over ever smaller
pieces and grows far faster than the text. So the text is first cut into blocks of a bounded
number of characters, at a paragraph, line or word boundary where there is one, and each block
is split on its own: the splitter's work per block is bounded, the total is linear.

A block with none of the splitter's separators (one long word, lines ended by carriage returns
alone, text joined by zero-width characters) would still be split character by character, each
character measured: about 70 microseconds a character, minutes for a few megabytes. Such a block
is tokenized once instead and cut every ``chunk_size`` tokens at the tokens' offsets."""

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


# What the splitter cuts at before it falls back to single characters.
SEPARATORS = ("\n\n", "\n", " ")


class Chunker:
    def __init__(self, tokenizer, chunk_size: int, chunk_overlap: int):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        self.tokenizer = tokenizer
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
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
            if any(s in block for s in SEPARATORS) or not getattr(self.tokenizer, "is_fast", False):
                chunks.extend(self._splitter.split_text(block))
            else:
                chunks.extend(self._cut_by_tokens(block))
        return chunks

    def _cut_by_tokens(self, block: str) -> list[str]:
        """``block`` in pieces of ``chunk_size`` tokens (``chunk_overlap`` shared), one tokenizer call."""
        self.tokenized_chars += len(block)
        offsets = self.tokenizer(block, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        if not offsets:
            return [block] if block.strip() else []
        step = max(1, self.chunk_size - self.chunk_overlap)
        # Each piece runs to where the token after it starts (the end of the block for the last),
        # so characters the tokenizer drops (control and zero-width ones) are kept.
        n, pieces = len(offsets), []
        for i in range(0, n, step):
            last = i + self.chunk_size >= n
            pieces.append(block[offsets[i][0] if i else 0 : len(block) if last else offsets[i + self.chunk_size][0]])
            if last:
                break
        # A piece cut inside a word may tokenize to a few more tokens on its own: measured once,
        # and split by the splitter in the rare case it is over (its size is one chunk's).
        return [c for p in pieces if p.strip()
                for c in ([p] if self._length(p) <= self.chunk_size else self._splitter.split_text(p))]

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
is tokenized once instead and cut every ``chunk_size`` tokens at the tokens' offsets.

Markdown is cut at its headings first, and small sections packed back together up to
``chunk_size``. A chunk that starts inside a section opens with the headings above it: in a FAQ
the heading is the question its answer answers ("### Do I need a referral?" over "No. You can
book directly."), and a chunk without it matches neither the question nor the answer's topic."""

from __future__ import annotations

import re

# A token of an English sentence encoder is about 4 characters; a block this many characters
# per token of chunk_size holds several chunks, so few chunks end early at a block's edge.
BLOCK_CHARS_PER_TOKEN = 16
_BOUNDARIES = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"\s"))
# A heading line, or a fence that opens or closes a block of code ("# comment" in it is no heading).
_HEADING_OR_FENCE = re.compile(r"^ {0,3}(?:(#{1,6})[ \t]+\S.*|```|~~~)", re.MULTILINE)


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


def sections(text: str):
    """``text`` cut before each Markdown heading outside fenced code: (the heading lines in
    force over the section, one a level, its own last; the section, its heading first)."""
    trail: tuple[tuple[int, str], ...] = ()  # (level, line)
    start, fenced = 0, False
    for match in _HEADING_OR_FENCE.finditer(text):
        if not match.group(1):
            fenced = not fenced
            continue
        if fenced:
            continue
        if match.start() > start:
            yield tuple(line for _, line in trail), text[start : match.start()]
        level = len(match.group(1))
        trail = (*(entry for entry in trail if entry[0] < level), (level, match.group(0).strip()))
        start = match.start()
    if start < len(text):
        yield tuple(line for _, line in trail), text[start:]


# What the splitter cuts at before it falls back to single characters.
SEPARATORS = ("\n\n", "\n", " ")


class Chunker:
    def __init__(self, tokenizer, chunk_size: int, chunk_overlap: int):
        self.tokenizer = tokenizer
        self.chunk_size, self.chunk_overlap = chunk_size, chunk_overlap
        self.tokenized_chars = 0  # characters measured by the tokenizer: the splitter's work
        self._splitters: dict[int, object] = {}

    def _length(self, text: str) -> int:
        self.tokenized_chars += len(text)
        return len(self.tokenizer.tokenize(text))

    def split(self, text: str) -> list[str]:
        chunks: list[str] = []
        sizes: list[int] = []
        measured: dict[str, int] = {}  # tokens of each heading line, measured once
        for lines, section in sections(text):
            for line in lines:
                if line not in measured:
                    measured[line] = self._length(line)
            heading = sum(measured[line] + 1 for line in lines)
            # A trail longer than a quarter of a chunk (in tokens or characters) would crowd out
            # the text it introduces: the section's chunks go without it.
            if lines and heading <= self.chunk_size // 4 and \
                    sum(map(len, lines)) <= self.chunk_size * BLOCK_CHARS_PER_TOKEN // 4:
                trail = "\n".join(lines)
                pieces = self._split_plain(section, self.chunk_size - heading)
                if len(pieces) > 1 and pieces[0].strip() == lines[-1]:
                    pieces = pieces[1:]  # the heading alone: every piece opens with the trail
                    joined = alone = f"{trail}\n\n{pieces[0]}"
                elif pieces:
                    # The first piece opens with the section's own heading; as a chunk of its
                    # own it also names the headings above.
                    joined = pieces[0]
                    alone = "\n".join([*lines[:-1], pieces[0]])
                rest = [f"{trail}\n\n{piece}" for piece in pieces[1:]]
            else:
                pieces = self._split_plain(section, self.chunk_size)
                joined = alone = pieces[0] if pieces else ""
                rest = pieces[1:]
            if pieces:
                self._add(chunks, sizes, joined, alone, rest)
        return chunks

    def _add(self, chunks: list[str], sizes: list[int], joined: str, alone: str, rest: list[str]) -> None:
        """Append a section's chunks: its first is ``joined`` to the chunk before when the
        section is that one piece and both fit, else ``alone``; then ``rest``. Tokens are
        counted apart (a word-piece tokenizer counts a join as the sum; one more for a BPE's
        seam), so the work stays linear."""
        if not rest and chunks:
            size = self._length(joined)
            if sizes[-1] + size + 1 <= self.chunk_size:
                chunks[-1], sizes[-1] = f"{chunks[-1]}\n\n{joined}", sizes[-1] + size + 1
                return
        chunks.append(alone)
        chunks.extend(rest)
        # Only a section's last chunk can take the next section in.
        sizes.extend([self.chunk_size] * len(rest) + [self._length(chunks[-1])])

    def _split_plain(self, text: str, size: int) -> list[str]:
        """``text`` (no heading inside but its first line) in pieces of at most ``size`` tokens."""
        chunks = []
        for block in blocks(text, size * BLOCK_CHARS_PER_TOKEN):
            if any(s in block for s in SEPARATORS) or not getattr(self.tokenizer, "is_fast", False):
                chunks.extend(self._splitter(size).split_text(block))
            else:
                chunks.extend(self._cut_by_tokens(block, size))
        return chunks

    def _splitter(self, size: int):
        if size not in self._splitters:
            from langchain_text_splitters import RecursiveCharacterTextSplitter

            self._splitters[size] = RecursiveCharacterTextSplitter(
                chunk_size=size, chunk_overlap=min(self.chunk_overlap, size // 2), length_function=self._length,
            )
        return self._splitters[size]

    def _cut_by_tokens(self, block: str, size: int) -> list[str]:
        """``block`` in pieces of ``size`` tokens (``chunk_overlap`` shared), one tokenizer call."""
        self.tokenized_chars += len(block)
        offsets = self.tokenizer(block, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
        if not offsets:
            return [block] if block.strip() else []
        step = max(1, size - min(self.chunk_overlap, size // 2))
        # Each piece runs to where the token after it starts (the end of the block for the last),
        # so characters the tokenizer drops (control and zero-width ones) are kept.
        n, pieces = len(offsets), []
        for i in range(0, n, step):
            last = i + size >= n
            pieces.append(block[offsets[i][0] if i else 0 : len(block) if last else offsets[i + size][0]])
            if last:
                break
        # A piece cut inside a word may tokenize to a few more tokens on its own: measured once,
        # and split by the splitter in the rare case it is over (its size is one chunk's).
        return [c for p in pieces if p.strip()
                for c in ([p] if self._length(p) <= size else self._splitter(size).split_text(p))]

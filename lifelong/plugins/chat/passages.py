"""The sentences of a retrieved chunk, read as help centres write their pages in Markdown.

- The lines of a prose paragraph are joined, then cut into sentences.
- Each item of a list (``-``, ``*``, ``+``, ``1.``) is a sentence of its own, a fragment too
  ("Saturday: 9:00-13:00"): joined with its neighbours it would be one long sentence that answers
  every question about the list a little.
- Each row of a table is a sentence that names its columns ("Treatment: Sports massage, Price:
  £45"): a row alone ("Sports massage | 45 min | £45") does not say which number is the price.
- A heading answers nothing, but it titles the paragraphs under it. In a FAQ the title is the
  question its paragraph answers: "### Do I need a referral?" over "No. You can book directly."
  The answer shares no word with the question; its title does.
- Inline markup is dropped (``**bold**``, ```code```, ``[text](link)``): a quote is read, not
  rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .words import words

# A sentence ends at . ! ? followed by space and an upper-case letter, a digit or a quote;
# "5.90" and "e.g. this" stay whole.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_HEADING = re.compile(r"^\s*#{1,6}\s+(.*?)\s*#*\s*$")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_ROW = re.compile(r"^\s*\|(.*)\|\s*$")
_RULE = re.compile(r"^\s*(?:\|?\s*:?-{2,}:?\s*)+\|?\s*$|^\s*([-*_=])(?:\s*\1){2,}\s*$")  # |---|---| or --- or ===
_FENCE = re.compile(r"^\s*(```|~~~)")
_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # a link: its text
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"^\s*>\s?"), ""),  # a quoted line
)
# Prose pieces shorter than this do not stand alone; an item or a row does at any length.
_MIN_PROSE_WORDS = 3


@dataclass
class Paragraph:
    sentences: list[str] = field(default_factory=list)
    title: str = ""  # the heading above it in the chunk ("" when the chunk shows none)


def plain(line: str) -> str:
    for pattern, replacement in _INLINE:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def _cells(line: str) -> list[str]:
    return [plain(cell) for cell in _ROW.match(line).group(1).split("|")]


def paragraphs(text: str) -> list[Paragraph]:
    """The sentences of ``text``, paragraph by paragraph, each paragraph titled by the heading
    above it. A blank line between the items of one list does not end its paragraph."""
    found: list[Paragraph] = []
    current = Paragraph()
    prose: list[str] = []
    header: list[str] | None = None  # the column names of the table being read
    title = ""
    short = ""  # prose too short to stand alone opens the next sentence ("No. You can ...", "Bring: your ID")
    lines = text.splitlines()

    def flush_prose():
        nonlocal short
        kept = []
        for part in _SENTENCE_END.split(" ".join(prose)):
            piece = f"{short} {part}".strip()
            if len(words(piece)) < _MIN_PROSE_WORDS:
                short = piece
            else:
                kept.append(piece)
                short = ""
        current.sentences.extend(kept)
        prose.clear()

    def add(sentence: str):
        nonlocal short
        current.sentences.append(f"{short} {sentence}".strip())
        short = ""

    def end_paragraph():
        nonlocal current, short
        flush_prose()
        if short and current.sentences:
            current.sentences[-1] += " " + short
        short = ""
        if current.sentences:
            found.append(current)
        current = Paragraph(title=title)

    for n, line in enumerate(lines):
        if not line.strip():
            following = next((later for later in lines[n + 1:] if later.strip()), "")
            if not (_ITEM.match(following) and (current.sentences or prose)):
                end_paragraph()
            header = None
            continue
        heading = _HEADING.match(line)
        if heading:
            title = plain(heading.group(1))
            end_paragraph()
            continue
        if _FENCE.match(line):
            continue
        if _ROW.match(line) and not _RULE.match(line):
            flush_prose()
            cells = _cells(line)
            upcoming = lines[n + 1] if n + 1 < len(lines) else ""
            if header is None and _RULE.match(upcoming) and "-" in upcoming:
                header = cells
                continue
            named = [f"{name}: {cell}" if name else cell for name, cell in zip(header or [""] * len(cells), cells) if cell]
            if named:
                add(", ".join(named))
            continue
        if _RULE.match(line):
            continue
        item = _ITEM.match(line)
        if item:
            flush_prose()
            text_of_item = plain(item.group(1))
            if words(text_of_item):
                add(text_of_item)
            continue
        if current.sentences and not prose and line[:1].isspace() and _ITEM.match(lines[n - 1] if n else ""):
            current.sentences[-1] += " " + plain(line)  # an item's wrapped line
            continue
        prose.append(plain(line))
    end_paragraph()
    return found

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
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
# Patterns without nested repetition: a line of a chunk may be thousands of characters.
_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(\S.*)")  # as the chunker reads them
_ITEM = re.compile(r"\s*(?:[-*+]|\d{1,3}[.)])\s+(\S.*)")
_ROW = re.compile(r"\s*\|(.*)\|\s*")
_THEMATIC_BREAK = re.compile(r"\s*([-*_=])(?:\s*\1){2,}\s*")  # --- *** ===
_FENCE = re.compile(r" {0,3}(```|~~~)")
_QUOTE = re.compile(r"\s*>\s?")
_INLINE = (
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # an image
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # a link: its text
    (re.compile(r"(?<!\w)(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?!\w)"), r"\2"),  # not __init__.py
    (re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)\*(?![\w*])"), r"\1"),
    (re.compile(r"`([^`]*)`"), r"\1"),
    (re.compile(r"</?[A-Za-z][^<>]*>"), " "),  # an HTML tag
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
    return [plain(cell) for cell in _ROW.fullmatch(line).group(1).split("|")]


def _is_rule(line: str) -> bool:
    """A table's header rule (``|---|:--:|``) or a thematic break (``---``, ``***``)."""
    stripped = line.strip()
    return bool(stripped) and ("-" in stripped and not set(stripped) - set("|:- \t")
                               or bool(_THEMATIC_BREAK.fullmatch(stripped)))


def _heading(line: str) -> str | None:
    """The text of a heading line ("Learn C#" of "## Learn C# ##"), None for other lines."""
    found = _HEADING.fullmatch(line.rstrip())
    if not found:
        return None
    text = found.group(1)
    closed = text.rstrip("#")
    if closed != text and (not closed or closed[-1] in " \t"):
        text = closed
    return plain(text)


def paragraphs(text: str) -> list[Paragraph]:
    """The sentences of ``text``, paragraph by paragraph, each paragraph titled by the heading
    above it. A blank line between the items of one list does not end its paragraph."""
    found: list[Paragraph] = []
    current = Paragraph()
    prose: list[str] = []
    header: list[str] | None = None  # the column names of the table being read
    title = ""
    short = ""  # prose too short to stand alone opens the next sentence ("No. You can ...", "Bring: your ID")
    in_item = False  # the line before continues a list item
    fenced = False  # inside a fenced block of code: its lines are text, its "# comment" no heading
    lines = [line[quoted.end():] if (quoted := _QUOTE.match(line)) else line for line in text.splitlines()]
    following = [""] * (len(lines) + 1)  # the next line that is not blank
    for n in range(len(lines) - 1, -1, -1):
        following[n] = lines[n] if lines[n].strip() else following[n + 1]

    def flush_prose():
        nonlocal short
        kept = []
        for part in SENTENCE_END.split(" ".join(prose)):
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
        elif short and words(short):  # a reply alone under its heading: "Yes!"
            current.sentences.append(short)
        short = ""
        if current.sentences:
            found.append(current)
        current = Paragraph(title=title)

    for n, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            prose.append(plain(line))
            continue
        if not line.strip():
            if not (_ITEM.fullmatch(following[n + 1]) and (current.sentences or prose)):
                end_paragraph()
            header, in_item = None, False
            continue
        heading = _heading(line)
        if heading is not None:
            title = heading
            end_paragraph()
            header, in_item = None, False
            continue
        if _ROW.fullmatch(line) and not _is_rule(line):
            flush_prose()
            in_item = False
            cells = _cells(line)
            if n + 1 < len(lines) and _is_rule(lines[n + 1]):
                header = cells  # a header row, or the next table's
                continue
            names = header or []
            named = [f"{names[k]}: {cell}" if k < len(names) and names[k] else cell
                     for k, cell in enumerate(cells) if cell]
            if named:
                add(", ".join(named))
            continue
        if _is_rule(line):
            in_item = False
            continue
        item = _ITEM.fullmatch(line)
        if item:
            flush_prose()
            text_of_item = plain(item.group(1))
            if words(text_of_item):
                add(text_of_item)
                in_item = True
            continue
        if in_item and line[:1].isspace() and current.sentences:
            current.sentences[-1] += " " + plain(line)  # an item's wrapped line
            continue
        in_item = False
        prose.append(plain(line))
    end_paragraph()
    return found

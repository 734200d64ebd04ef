"""The words of a text as grounding and answerability compare them: lower-cased, numbers kept
whole ("5.90", "10:00"), filler words dropped, plurals and verb endings folded."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9]+(?:[.,:][0-9]+)*")
_FILLER = frozenset(
    "a an the is are was were be been of to and or in on at for it its our we you your i me my "
    "do does did can could would should will what when where which who whom whose why how there "
    "this that these those with from by as any some about please tell know".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def stem(word: str) -> str:
    """Crude folding of plurals and verb endings, enough for overlap: 'returns' and 'returned'
    match 'return', 'days' 'day'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith(("ed", "ing")):
        return word[: -2 if word.endswith("ed") else -3]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in words(text) if w not in _FILLER}

"""Checks of values that reach lifelong from outside (CLI arguments, HTTP bodies, files), so a
bad one is a one-line error naming it instead of a failure deep in SQLite or a tokenizer."""

from __future__ import annotations

from .errors import InputError, NotFoundError

# SQLite stores integers as signed 64-bit: a larger id can name nothing.
MAX_ID = 2**63 - 1


def check_text(value, what: str, fix: str = "send UTF-8 text") -> str:
    """``value`` as a str that can be stored and tokenized: valid Unicode without lone
    surrogates (what invalid UTF-8 on a command line or ``"\\ud800"`` in JSON become)."""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, got {type(value).__name__}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"{what} is not valid UTF-8 (character {exc.start} is {value[exc.start]!r}); {fix}"
        ) from None
    return value


# A question is read whole by the tokenizer before the prompt is fitted; no model here takes more.
MAX_QUESTION_CHARS = 20_000


def check_question(value) -> str:
    """A question that can be answered: text, valid UTF-8, not blank, not a whole document."""
    if not isinstance(value, str) or not check_text(value, "the question").strip():
        raise InputError("the question is empty; give some text")
    if len(value) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(value):,} characters; at most {MAX_QUESTION_CHARS:,} (ingest a long "
                         "text as a document and ask about it)")
    return value


def printable(value: str) -> str:
    """``value`` with anything that cannot be stored as UTF-8 escaped, for logging a failure."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def check_id(value, what: str) -> int:
    """An id that SQLite can hold; a larger or non-positive one names nothing."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{what} must be an integer, got {value!r}")
    if not 1 <= value <= MAX_ID:
        raise NotFoundError(f"no {what} {value}: ids run from 1 to {MAX_ID}")
    return value


MAX_SUBJECT = 200


def check_subject(value) -> str | None:
    """A user id an interaction is about (None: nobody named): non-blank UTF-8 text, at most
    MAX_SUBJECT characters, kept exactly as given, since erasure finds the rows by it."""
    if value is None:
        return None
    if not isinstance(value, str) or not check_text(value, "the user").strip():
        raise InputError("the user is empty; give the id of the person asking, or leave it out")
    if len(value) > MAX_SUBJECT:
        raise InputError(f"the user is {len(value)} characters long; use an id of at most {MAX_SUBJECT}")
    return value

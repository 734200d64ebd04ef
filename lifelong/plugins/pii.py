"""Masks e-mail addresses, phone numbers and payment-card numbers before anything is logged.

On by default; ``[privacy] redact_pii = false`` turns it off, and LIFELONG_LOAD_PLUGINS can
leave it out entirely."""

import re

from lifelong import hookimpl

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits, optionally grouped by spaces or dashes; kept only when the Luhn check passes,
# so order numbers and other long digit runs are left alone.
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")
# A leading + or 10-15 digits: long enough not to swallow dates (2024-01-15) or prices.
PHONE = re.compile(r"(?<![\w+])(?:\+\d[\d ().-]{6,}\d|\(?\d[\d ().-]{8,}\d)(?!\w)")
TEXT_FIELDS = ("input", "output", "correction")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _mask_card(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    return "[CARD]" if _luhn_ok(digits) else match.group()


def _mask_phone(match: re.Match) -> str:
    digits = re.sub(r"\D", "", match.group())
    plus = match.group().startswith("+")
    return "[PHONE]" if (plus and 7 <= len(digits) <= 15) or 10 <= len(digits) <= 15 else match.group()


def redact(text: str) -> str:
    text = EMAIL.sub("[EMAIL]", text)
    text = CARD.sub(_mask_card, text)
    return PHONE.sub(_mask_phone, text)


@hookimpl
def before_log(agent, record):
    if not agent.config.privacy.redact_pii:
        return
    for key in TEXT_FIELDS:
        if isinstance(record.get(key), str):
            record[key] = redact(record[key])

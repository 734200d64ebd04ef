"""Masks personal data before anything is stored: e-mail addresses, phone numbers, payment
cards, IBANs and US social security numbers, in every text column of every row written
(interactions, feedback, training examples from feedback and from imports).

Detection leans on two well-kept, offline, pure-Python libraries: ``phonenumbers`` (Google's
libphonenumber: real numbering plans, and it knows a timestamp such as ``2024-01-15 10:30`` is
not a phone number) and ``python-stdnum`` (the checksums of cards, IBANs and SSNs). Regular
expressions only find candidates; a candidate is masked when its checksum or numbering plan
holds, so order numbers and other digit runs are left alone. ``tests/test_pii.py`` measures
recall and false positives on a labelled corpus.

On by default; ``[plugins.pii] redact = false`` turns it off, and LIFELONG_LOAD_PLUGINS can
leave it out entirely."""

import re
from dataclasses import dataclass

import phonenumbers
from stdnum import iban, luhn
from stdnum.us import ssn

from lifelong.api import Options, hookimpl, option


@dataclass
class PiiOptions(Options):
    redact: bool = option(True, "Mask e-mail addresses, phone and card numbers before logging")

# Only where a run of address characters begins: tried at every position of a long run without
# an "@", the local part would scan to its end each time (quadratic: hours for 2 MB of "x").
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 13-19 digits in one run, or in groups of 3-6 separated by a space (or two), dash, dot or slash.
CARD = re.compile(r"(?<![\w.,/-])(?:\d{13,19}|\d{4}(?:(?: {1,2}|[-./])\d{3,6}){2,4})(?![\w]|[.,/-]\d)")
IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?!\w)", re.IGNORECASE)
SSN = re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")
# National numbers are read in these regions' plans; a number written with + and its country
# code is found whatever the region.
PHONE_REGIONS = ("US", "GB", "DE", "FR")
# subject: the id of the person an interaction is about, as the operator gave it: erasing a
# person's data finds their rows by it, so it is never masked.
NON_FIELDS = {"created_at", "sources", "status", "model_version", "split", "origin", "subject"}


def _masker(label: str, valid):
    def mask(match: re.Match) -> str:
        return f"[{label}]" if valid(match.group()) else match.group()

    return mask


def _card_ok(text: str) -> bool:
    digits = re.sub(r"\D", "", text)
    return 13 <= len(digits) <= 19 and luhn.is_valid(digits)


def _mask_phones(text: str) -> str:
    for region in PHONE_REGIONS:
        matches = list(phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.STRICT_GROUPING))
        for match in reversed(matches):
            text = text[: match.start] + "[PHONE]" + text[match.end :]
    return text


def redact(text: str) -> str:
    text = EMAIL.sub("[EMAIL]", text)
    text = IBAN.sub(_masker("IBAN", iban.is_valid), text)
    text = CARD.sub(_masker("CARD", _card_ok), text)
    text = SSN.sub(_masker("SSN", lambda s: ssn.is_valid(s.replace(" ", "-"))), text)
    return _mask_phones(text)


@hookimpl
def plugin_options():
    return PiiOptions


@hookimpl
def before_log(agent, record):
    if not agent.plugin_options(PiiOptions).redact:
        return
    for key, value in record.items():
        if key not in NON_FIELDS and isinstance(value, str):
            record[key] = redact(value)

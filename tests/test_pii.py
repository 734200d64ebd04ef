import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lifelong import Agent
from lifelong.plugins.pii import PiiOptions, redact

from pii_corpus import NEGATIVE, POSITIVE

PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|SSN)\]")


def test_recall_and_false_positives_on_the_labelled_corpus():
    """Recall: expected placeholders produced; false positives: clean strings changed."""
    assert len(POSITIVE) + len(NEGATIVE) >= 100
    expected = sum(len(labels) for _, labels in POSITIVE)
    found = 0
    for text, labels in POSITIVE:
        got = PLACEHOLDER.findall(redact(text))
        found += sum(min(got.count(label), labels.count(label)) for label in set(labels))
    changed = [text for text in NEGATIVE if redact(text) != text]
    recall, false_positive_rate = found / expected, len(changed) / len(NEGATIVE)
    print(f"PII recall {recall:.3f} ({found}/{expected}), false positives {false_positive_rate:.3f} ({changed})")
    assert recall >= 0.95 and false_positive_rate <= 0.02, (recall, changed)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to jane.doe+x@example.co.uk please", "write to [EMAIL] please"),
        ("card 4111.1111.1111.1111 thanks", "card [CARD] thanks"),
        ("meeting 2024-01-15 10:30", "meeting 2024-01-15 10:30"),
        ("iban DE89 3704 0044 0532 0130 00.", "iban [IBAN]."),
        ("ssn 123-45-6789", "ssn [SSN]"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_redact_any_text_is_stable(text):
    once = redact(text)
    assert redact(once) == once


CARDS = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CARDS), st.sampled_from([" ", "-", ".", "/", "  ", ""]),
       st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=40),
       st.text(alphabet=st.characters(categories=["L", "Zs"]), max_size=40))
def test_a_valid_card_never_survives(card, separator, before, after):
    groups = [card[i : i + 4] for i in range(0, len(card), 4)]
    out = redact(f"{before} {separator.join(groups)} {after}")
    assert card not in re.sub(r"\D", "", out)


def test_every_text_column_on_every_path_is_masked(workspace):
    agent = Agent.open(workspace)
    secret = "bob@example.com 4111.1111.1111.1111"
    agent._log.log_interaction(task="chat", input=secret, output=secret, status="error", error=f"failed on {secret}")
    agent.config.tasks["pii_task"] = {"plugin": "chat"}
    agent.import_examples("pii_task", [{"text": f"who is {secret}?", "label": secret}])
    dump = "\n".join(str(row) for table in ("interactions", "examples", "feedback") for row in agent._db[table].rows)
    assert "bob@example.com" not in dump and "4111" not in dump
    assert dump.count("[EMAIL]") == 5 and dump.count("[CARD]") == 5


def test_masking_is_configurable(workspace):
    agent = Agent.open(workspace)
    row = agent.interaction(agent._log.log_interaction(task="chat", input="I am bob@example.com", output="ok"))
    assert row["input"] == "I am [EMAIL]"
    agent.plugin_options(PiiOptions).redact = False
    row = agent.interaction(agent._log.log_interaction(task="chat", input="I am bob@example.com", output="ok"))
    assert row["input"] == "I am bob@example.com"

import pytest

from lifelong import Agent
from lifelong.plugins.pii import redact


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to jane.doe+x@example.co.uk please", "write to [EMAIL] please"),
        ("call +1 (555) 123-4567 today", "call [PHONE] today"),
        ("or 555-123-4567", "or [PHONE]"),
        ("card 4111 1111 1111 1111 thanks", "card [CARD] thanks"),
        ("paid on 2024-01-15 for 1299.00", "paid on 2024-01-15 for 1299.00"),
    ],
)
def test_redact(text, expected):
    assert redact(text) == expected


def test_masked_before_logging_and_configurable(workspace):
    agent = Agent.open(workspace)
    row = agent.log.get(agent.log.log_interaction(task="chat", input="I am bob@example.com", output="ok"))
    assert row["input"] == "I am [EMAIL]"
    agent.config.privacy.redact_pii = False
    row = agent.log.get(agent.log.log_interaction(task="chat", input="I am bob@example.com", output="ok"))
    assert row["input"] == "I am bob@example.com"

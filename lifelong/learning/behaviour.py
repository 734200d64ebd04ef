"""The behaviour probe: general questions with checkable answers, shipped with the package. A
fine-tuned generator may not lose what its parent answered right: perplexity alone let through
a model that answered "What is the capital of France?" with a person's name."""

from __future__ import annotations

import json
import re
from importlib import resources


def probe_questions() -> list[dict]:
    """``{"question", "answers"}`` rows; an answer is right when it contains any of ``answers``."""
    text = resources.files("lifelong").joinpath("data/behaviour_probe.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def answered_right(answer: str, accepted: list[str]) -> bool:
    return any(re.search(rf"(?<![\w]){re.escape(a)}(?![\w])", answer, re.IGNORECASE) for a in accepted)


def lost_questions(parent: dict[str, bool], candidate: dict[str, bool]) -> list[str]:
    """Questions the parent answered right and the candidate does not."""
    return [q for q, right in parent.items() if right and not candidate.get(q, False)]


def behaviour_verdict(parent: dict[str, bool], candidate: dict[str, bool], tolerance: float) -> str | None:
    """Why the candidate must be refused, or None: it lost more than ``tolerance`` of what the
    parent answered right."""
    right = sum(parent.values())
    lost = lost_questions(parent, candidate)
    if not right or len(lost) / right <= tolerance:
        return None
    shown = "; ".join(lost[:3]) + (f"; and {len(lost) - 3} more" if len(lost) > 3 else "")
    return (f"behaviour probe: lost {len(lost)} of the {right} general questions the parent answered right "
            f"(behaviour_tolerance {tolerance:.0%}): {shown}")

"""Whether a sentence of the documents answers a question: a small logistic model over what can
be measured without a model bigger than the embedder, fitted on questions other people wrote.

Features of a candidate sentence, each meaningful on any document set:

- ``cosine``: the embedder's similarity of the question and the sentence;
- ``cosine_around``: the same for the sentence with its neighbours in its paragraph and the
  heading above it (grounding.window);
- ``covered``: the share of the question's content words the sentence contains;
- ``covered_around``: the same share for the sentence with its neighbours in its paragraph (an
  answer often spans them: "open Monday to Saturday ... closed on Sundays");
- ``supplies``: whether the question asks for a kind of thing (a number, a time or day, a
  person, a place: its *focus*) and the sentence has one. A sentence that has none (``lacks``)
  does not answer: its chance is 0 (chosen on the dev questions of the first three sets: 0.56
  of the answerable ones answered instead of 0.54 as a weight, at the same refusals).

``probability`` is the model's chance that the sentence answers. A question is answered from the
documents when its best sentence reaches ``[tasks.chat] min_answerability``: 0.40 by default,
the best balanced accuracy on the dev questions of the four document sets (0.47 of the
answerable ones answered by their best sentence, 0.82 of the unanswerable ones refused; 0.80 /
0.11 at 0.05, 0.58 / 0.68 at 0.3). Answers are rare among a question's candidate sentences (7 %),
so one that answers seldom reaches 0.5. The weights below come from ``benchmarks/answerability.py
--fit``, on the "dev" questions of benchmarks/data/answerability/ only (a sentence is an answer
when it carries one of the question's acceptable answers)."""

from __future__ import annotations

import math
import re

from .words import content_words

FEATURES = ("cosine", "cosine_around", "covered", "covered_around", "supplies")
# Fitted by benchmarks/answerability.py --fit (logistic regression on the dev split).
# 1,646 candidate sentences of 108 dev questions that do not lack what their question asks for
# (251 more do), 127 answers among all. The sentence's paragraph
# window, by meaning and by the question's words, counts most; the sentence's own cosine next.
WEIGHTS = {"cosine": 3.261, "cosine_around": 5.456, "covered": -1.056, "covered_around": 3.320, "supplies": 0.520}
BIAS = -6.132

_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty fifty sixty "
    "hundred thousand half dozen once twice".split()
)
_DAYS = frozenset(
    "monday tuesday wednesday thursday friday saturday sunday weekday weekdays weekend weekends daily weekly "
    "monthly yearly annually midnight noon morning evening night holiday holidays january february march april "
    "may june july august september october november december".split()
)
# What a question asks for, by its opening words (English). Yes/no questions and "what X"
# questions have no focus: any sentence may answer them.
_FOCUS = (
    ("time", re.compile(r"^(when|until when|by when|since when|what time|at what time|until what|by what|what day|"
                        r"which days?|on which days?|what hours?|which hours?|how (late|early|soon))\b")),
    ("number", re.compile(r"^(how (many|much|long|far|old|big|large|heavy|often|warm|cold|hot|high|low|fast)|"
                          r"what (is|are) the (price|cost|fee|number|percentage|amount|limit|maximum|minimum|size)|"
                          r"what('s| is) the (price|cost|fee|limit)|what percentage|how much)\b")),
    ("person", re.compile(r"^(who|whom|whose|to whom)\b")),
    ("place", re.compile(r"^(where|in which (city|country|town|place)|at which)\b")),
)
_LEAD = re.compile(r"^(so|and|but|ok|okay|hi|hello|hey|please|quick question)[,:]?\s+")


def focus(question: str) -> str | None:
    """What ``question`` asks for: "time", "number", "person", "place" or None. Its last clause
    counts (people open with context: "I'm not in the club. What will it cost me?")."""
    clauses = [c for c in re.split(r"[.!?;]\s+", question.strip().lower()) if c.strip()]
    text = _LEAD.sub("", clauses[-1] if clauses else "")
    for name, pattern in _FOCUS:
        if pattern.search(text):
            return name
    if re.search(r"\b(how (many|much|long)|what (does|will) it cost|cost me)\b", text):
        return "number"
    return None


_PLACE_BEFORE = frozenset("on at in from to near of".split())


def supplies(sentence: str, wanted: str | None, question: str = "") -> bool:
    """Whether ``sentence`` has a thing of the kind ``wanted`` that ``question`` does not name
    already: a number; a time or day; a place (a new name, or a number of an address); a person
    (a new name not after a preposition of place, not a day or month, or an agent: "by the
    customer")."""
    found = set(re.findall(r"[a-z]+", sentence.lower()))
    found |= {w[:-1] for w in found if w.endswith("s")}  # "Sundays"
    has_number = bool(re.search(r"\d", sentence)) or bool(_NUMBER_WORDS & found)
    if wanted == "number":
        return has_number
    if wanted == "time":
        return has_number or bool(_DAYS & found)
    asked = set(re.findall(r"[a-z]+", question.lower()))
    # A name's first word, after the word before it ("on Harbour Street": "on", "Harbour").
    names = [(before.lower(), name) for before, name in re.findall(r"(?=\b([A-Za-z]+),? ([A-Z][a-z]+))", sentence)
             if not before[0].isupper() and name.lower() not in asked and name.lower() not in _DAYS]
    if wanted == "place":
        return bool(names) or has_number
    if wanted == "person":
        return any(before not in _PLACE_BEFORE for before, _ in names) or bool(re.search(r"\bby (the |a |an )?\w+", sentence.lower()))
    return True


def features(question: str, sentence: str, around: str, cosine: float, cosine_around: float) -> dict[str, float]:
    """The features of ``sentence`` (``around``: it with its neighbours; the cosines: of each to
    ``question``)."""
    wanted = content_words(question)
    share = (lambda text: len(wanted & content_words(text)) / len(wanted)) if wanted else (lambda text: 0.0)
    kind = focus(question)
    found = supplies(sentence, kind, question)
    return {
        "cosine": cosine,
        "cosine_around": cosine_around,
        "covered": share(sentence),
        "covered_around": share(around),
        "supplies": float(kind is not None and found),
        "lacks": float(kind is not None and not found),
    }


def probability(values: dict[str, float], model: tuple[dict, float] | None = None) -> float:
    """The chance that the sentence of ``values`` answers; 0 when it lacks what the question
    asks for. ``model``: (weights, bias) other than the fitted ones (benchmarks/answerability.py)."""
    if values["lacks"]:
        return 0.0
    weights, bias = model or (WEIGHTS, BIAS)
    z = bias + sum(weights[name] * values[name] for name in FEATURES)
    return 1.0 / (1.0 + math.exp(-z))

"""The grounding check, evidence selection and extractive answers, without a real model: a
bag-of-words embedder stands in for the sentence encoder."""

import zlib

import numpy as np
import pytest

from lifelong.plugins.chat.prompting import search_query
from lifelong.plugins.chat.grounding import (
    NOT_IN_SOURCES, Evidence, Grounding, check_answer, cite, extractive_answer, repeats, select_evidence, sentences,
)
from lifelong.api import Hit


class WordsEmbedder:
    """Cosine similarity = shared words: enough to rank sentences by topic."""

    def encode(self, texts):
        vectors = np.zeros((len(texts), 512), np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace("?", " ").replace(".", " ").split():
                # crc32, not hash(): str hashes change per process, and so would the collisions.
                vectors[row, zlib.crc32(word.encode()) % 512] += 1
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


RETURNS = Hit(1, "docs/returns.md", 0, 0.03, (
    "# Returns and refunds\n\nUnworn items can be returned within 45 days of delivery for a full refund. Items must\n"
    "carry their original tags. Sale items marked \"final sale\" cannot be returned.\n\n"
    "Return shipping costs a flat 4.95 EUR."))
SHIPPING = Hit(2, "docs/shipping.md", 0, 0.02, "We ship to Norway in 5 to 8 business days. We do not ship to PO boxes.")


def grounded(question, hits=(RETURNS, SHIPPING), floor=0.35):
    return select_evidence(question, list(hits), WordsEmbedder(), limit=3, floor=floor)


def test_sentences_join_wrapped_lines_and_drop_headings():
    assert sentences(RETURNS.text) == [
        "Unworn items can be returned within 45 days of delivery for a full refund.",
        "Items must carry their original tags.",
        'Sale items marked "final sale" cannot be returned.',
        "Return shipping costs a flat 4.95 EUR.",
    ]
    assert sentences("It costs 5.90 EUR. Shipping is free over 80 EUR.") == ["It costs 5.90 EUR.", "Shipping is free over 80 EUR."]


def test_best_sentence_first_and_sources_numbered_by_first_use():
    found = grounded("Do you ship to Norway?")
    assert found.relevant and found.evidence[0].text == "We ship to Norway in 5 to 8 business days."
    assert found.evidence[0].citation == 1 and found.sources[0] is SHIPPING
    assert all(1 <= e.citation <= len(found.sources) for e in found.evidence)


def test_unrelated_question_is_not_relevant():
    found = grounded("What is the capital of France?")
    assert not found.relevant
    assert extractive_answer(found) == NOT_IN_SOURCES


def test_extractive_answer_quotes_the_best_sentence_with_its_citation():
    found = grounded("How many days do I have to return unworn items?")
    assert extractive_answer(found) == "\u201cUnworn items can be returned within 45 days of delivery for a full refund.\u201d [1]"


QUESTION = "How many days do I have to return unworn items?"


@pytest.mark.parametrize("answer, reason", [
    ("", "empty"),
    ("Question: How many days? Answer: 45", "echoes the prompt"),
    ("The answer to the question is: 45 days.", "echoes the prompt"),
    ("Unworn items can be returned within 45 days [n].", "echoes the prompt"),
    ("Within 45 days [4].", "does not exist"),
    ("Within 45 days, within 45 days, within 45 days.", "repeats itself"),
    ("Unworn items go to our partner charity in Portugal.", "not supported"),
    ("Unworn items can be returned within 60 days of delivery.", "numbers not in the sources"),
    ("How many days do I have to return unworn items?", "adds nothing"),
])
def test_check_refuses(answer, reason):
    check = check_answer(answer, QUESTION, grounded(QUESTION))
    assert not check.ok and reason in check.reason


@pytest.mark.parametrize("answer", [
    # The days of one sentence beside the fee of another: each in the sources, never said together.
    "Unworn items can be returned within 4.95 days.",
    "Within 45 days, for a flat return shipping fee of 4.95 EUR.",
])
def test_check_refuses_a_sentence_stitched_from_two_source_sentences(answer):
    check = check_answer(answer, QUESTION, two_sentences())
    assert not check.ok and "stitched from several source sentences" in check.reason


def two_sentences():
    """Both RETURNS sentences a question about returns may draw on, as its evidence."""
    texts = ("Unworn items can be returned within 45 days of delivery for a full refund.", "Return shipping costs a flat 4.95 EUR.")
    return Grounding([Evidence(t, RETURNS, 0.5, 0.5, citation=1) for t in texts], [RETURNS], True)


@pytest.mark.parametrize("answer", [
    "Unworn items can be returned within 45 days of delivery. Return shipping costs a flat 4.95 EUR [1].",
    "- Unworn items: returned within 45 days of delivery\n- Return shipping: a flat 4.95 EUR",  # a list, no full stops
    "Yes, within 45 days.",  # a word of no source ("yes") is not a second source
    "No. Unworn items can be returned within 45 days of delivery.",
])
def test_check_accepts_each_sentence_resting_on_its_own_source_sentence(answer):
    assert check_answer(answer, QUESTION, two_sentences()).ok


def test_a_number_like_a_citation_is_still_a_number():
    check = check_answer("Unworn items can be returned within 1 day [1].", QUESTION, two_sentences())
    assert not check.ok and "numbers not in the sources: ['1']" in check.reason


@pytest.mark.parametrize("answer", [
    "You can return unworn items within 45 days of delivery [1].",
    "Within 45 days of delivery, for a full refund.",
])
def test_check_accepts_supported_answers(answer):
    assert check_answer(answer, QUESTION, grounded(QUESTION)).ok


def test_cite_adds_the_supporting_source_only_when_none_is_cited():
    found = grounded("Do you ship to Norway?")
    assert cite("Yes, in 5 to 8 business days.", "Do you ship to Norway?", found) == "Yes, in 5 to 8 business days. [1]"
    assert cite("Yes [1].", "Do you ship to Norway?", found) == "Yes [1]."


def test_narrowed_keeps_only_sources_that_kept_sentences_cite():
    evidence = [Evidence("We do not ship to PO boxes.", SHIPPING, 1.0, 0.8, 1),
                Evidence("Return shipping costs a flat 4.95 EUR.", RETURNS, 0.9, 0.7, 2)]
    found = Grounding(evidence, [SHIPPING, RETURNS], True, 1.0)
    assert found.narrowed(evidence[:1]).sources == [SHIPPING]


def test_repeats():
    assert repeats("the ceo of larkspur is the ceo of larkspur".split())
    assert not repeats("the ceo of larkspur is mira okafor".split())


@pytest.mark.parametrize("text, searched", [
    ("And for sale items?", "How long do I have to return an item? And for sale items?"),
    ("How much does it weigh?", "How long do I have to return an item? How much does it weigh?"),
    ("Do you ship to Norway?", "Do you ship to Norway?"),
])
def test_follow_ups_are_searched_with_the_question_before(text, searched):
    history = [{"role": "user", "content": "How long do I have to return an item?"}, {"role": "assistant", "content": "45 days."}]
    assert search_query(text, history) == searched
    assert search_query(text, []) == text

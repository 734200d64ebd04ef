"""Which sentence answers a question, and whether any does (chat/answerability.py and
select_evidence), without a real model: the tests' bag-of-words embedder."""

import pytest

from lifelong.api import Hit
from lifelong.plugins.chat import answerability
from lifelong.plugins.chat.grounding import NOT_IN_SOURCES, extractive_answer, select_evidence, with_neighbours
from lifelong.plugins.chat.passages import paragraphs

from test_grounding import WordsEmbedder

HOURS = Hit(1, "docs/hours.md", 0, 0.03, (
    "# Opening hours\n\nThe flagship store on Harbour Street is open Monday to Friday from 9:00 to 18:00.\n"
    "The store is closed on Sundays and public holidays.\n\n"
    "The phone line is staffed Monday to Friday from 8:00 to 20:00."))
RETURNS = Hit(2, "docs/returns.md", 0, 0.02, (
    "Refunds go back to the original payment method within 5 business days.\n"
    "Unworn items can be returned within 45 days of delivery. Our founder Ada Lindqvist opened the first shop."))


@pytest.mark.parametrize("question, kind", [
    ("How many days do I have to return something?", "number"),
    ("how much is return shipping", "number"),
    ("I'm not in the club. What will it cost me to send a return?", "number"),
    ("When does the store open on Saturdays?", "time"),
    ("Until what hour is the phone line staffed?", "time"),
    ("Who founded the company?", "person"),
    ("Where is the flagship store?", "place"),
    ("Is the store open on Sundays?", None),
    ("What is the capital of France?", None),
])
def test_focus_is_what_the_question_asks_for(question, kind):
    assert answerability.focus(question) == kind


def test_a_sentence_supplies_the_focus_or_lacks_it():
    assert answerability.supplies("Unworn items can be returned within 45 days.", "number")
    assert not answerability.supplies("Items must carry their original tags.", "number")
    assert answerability.supplies("The store is closed on Sundays.", "time")
    assert answerability.supplies("The shop was opened by Ada Lindqvist in the harbour.", "person")
    assert not answerability.supplies("Items must carry their original tags.", "person")
    hours = "Larkspur Outfitters' flagship store on Harbour Street is open Monday to Friday."
    assert not answerability.supplies(hours, "person", "Who runs Larkspur Outfitters?")  # a place, days, the asked name
    assert answerability.supplies(hours, "place", "Where is the flagship store?")
    assert answerability.supplies("The CEO is Mira Okafor.", "person", "Who runs Larkspur Outfitters?")
    values = answerability.features("How many days?", "Items must carry tags.", "Items must carry tags.", 0.4, 0.4)
    assert values["lacks"] == 1.0 and values["supplies"] == 0.0
    assert set(values) == {*answerability.FEATURES, "lacks"} and set(answerability.FEATURES) == set(answerability.WEIGHTS)
    assert answerability.probability(values) == 0.0  # it lacks the number asked for


def test_neighbours_that_bring_the_questions_missing_words_are_joined():
    paragraph = paragraphs(HOURS.text)[0].sentences
    assert with_neighbours("Is the Harbour Street store open on Sundays?", paragraph, 0) == " ".join(paragraph)
    assert with_neighbours("Which street is the flagship store on?", paragraph, 0) == paragraph[0]


def test_the_sentence_that_supplies_the_number_asked_for_is_preferred():
    found = select_evidence("How many days do I have to return unworn items?", [RETURNS, HOURS], WordsEmbedder(),
                            limit=3, floor=0.1, min_answerability=0.01)
    assert found.relevant and "45 days" in found.evidence[0].text
    assert "45 days" in extractive_answer(found)


def test_documents_that_do_not_answer_give_no_evidence_and_a_closest_source():
    found = select_evidence("Can I pay with a voucher from the harbour store?", [HOURS, RETURNS], WordsEmbedder(),
                            limit=3, floor=0.1, min_answerability=0.999)
    assert found.touched and not found.relevant and found.evidence == []
    assert found.closest is not None and extractive_answer(found) == NOT_IN_SOURCES


def test_a_question_the_documents_do_not_touch_is_not_touched():
    found = select_evidence("What is the capital of France?", [HOURS, RETURNS], WordsEmbedder(), floor=0.35, min_answerability=0.5)
    assert not found.touched and not found.relevant

"""A generated answer over documents is shown a sentence at a time as far as it passes the
grounding check, streamed or not, and every answer reports its token usage."""

from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from fastapi.testclient import TestClient

from lifelong import Agent
from lifelong.core.plugins import DEFAULT_PLUGINS
from lifelong.plugins.chat.checked import CheckedRelease
from lifelong.plugins.chat.grounding import check_answer
from lifelong.server import create_app

from test_grounding import QUESTION, RETURNS, grounded

HERE = Path(__file__).parent
SUPPORTED = "You can return unworn items within 45 days of delivery."
ALSO_SUPPORTED = "The refund is full."
INVENTED = "We also refund in gold bars shipped from Portugal."


def release(text: str, pieces: list[str] | None = None) -> tuple[CheckedRelease, list[str]]:
    checked = CheckedRelease(QUESTION, grounded(QUESTION))
    shown = [checked.feed(p) for p in (pieces if pieces is not None else [text])] + [checked.finish()]
    return checked, shown


def test_a_supported_answer_is_shown_a_sentence_at_a_time():
    text = f"{SUPPORTED} {ALSO_SUPPORTED}"
    words = [w if n == 0 else " " + w for n, w in enumerate(text.split(" "))]
    checked, shown = release(text, words)
    assert [s for s in shown if s] == [SUPPORTED, " " + ALSO_SUPPORTED]
    # nothing of a sentence shows before the sentence has ended and passed
    assert shown.index(SUPPORTED) == len(SUPPORTED.split(" "))
    assert checked.answer == text and not checked.cut


def test_an_answer_that_goes_on_to_invent_is_cut_where_it_stops_passing():
    checked, shown = release(f"{SUPPORTED} {INVENTED}")
    assert "".join(shown) == SUPPORTED and checked.answer == SUPPORTED and checked.cut
    assert "not supported by the sources" in checked.failure


def test_an_answer_with_no_sentence_that_passes_shows_nothing():
    checked, shown = release(f"{INVENTED} {SUPPORTED}")
    assert "".join(shown) == "" and checked.answer == "" and "not supported" in checked.failure


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([SUPPORTED, ALSO_SUPPORTED, INVENTED, "45 days.", "Within 60 days."]), max_size=4),
       st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=40), st.sampled_from(["", " ", "\n"]))
def test_the_answer_is_the_same_however_the_text_arrives(sentences, sizes, opening):
    text = opening + " ".join(sentences)
    pieces, at = [], 0
    for size in sizes * (len(text) // len(sizes) + 1):
        if at >= len(text):
            break
        pieces.append(text[at : at + size])
        at += size
    whole, shown_whole = release(text)
    streamed, shown_streamed = release(text, pieces)
    assert streamed.answer == whole.answer and "".join(shown_streamed) == "".join(shown_whole)
    assert "".join(shown_streamed) == streamed.answer  # what is shown is the answer, to the character


@pytest.fixture
def scripted_workspace(tmp_path, monkeypatch):
    """A workspace whose generator writes ``agent.generator.script``, over the returns document."""
    ws = tmp_path / "ws"
    (ws / "docs").mkdir(parents=True)
    (ws / "docs" / "returns.md").write_text(RETURNS.text)
    (ws / "lifelong.toml").write_text(
        '[models]\ngenerator = "scripted-llm"\nembedder = "hashing-embedder"\n\n'
        '[tasks.chat]\nplugin = "chat"\nmin_answerability = 0.0\nrelevance_floor = 0.1\n')
    files = str(HERE / "minimal_models.py")
    monkeypatch.setenv("LIFELONG_PLUGINS", files)
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", f"{','.join(DEFAULT_PLUGINS)},{files}")
    with Agent.open(ws) as agent:
        agent.ingest([ws / "docs"])
    return ws


@pytest.fixture
def scripted(scripted_workspace):
    with Agent.open(scripted_workspace) as agent:
        yield agent


def test_streamed_and_whole_answers_agree_and_the_invented_rest_is_never_sent(scripted):
    scripted.generator.script = f"{SUPPORTED} {ALSO_SUPPORTED} {INVENTED}"
    reply = scripted.ask(QUESTION)
    assert reply.answered_by == "generate" and reply.answer.startswith(f"{SUPPORTED} {ALSO_SUPPORTED}")
    assert "gold" not in reply.answer and reply.answer.endswith("[1]")
    assert "cut where the rest failed the check" in scripted.interaction(reply.id)["grounding"]
    stream = scripted.stream(QUESTION)
    pieces = list(stream)
    assert pieces[:2] == [SUPPORTED, " " + ALSO_SUPPORTED] and "".join(pieces) == reply.answer
    assert stream.reply.answer == reply.answer


def test_a_stream_the_reader_leaves_stops_the_generation(scripted):
    scripted.generator.script = f"{SUPPORTED} {ALSO_SUPPORTED} {INVENTED}"
    stream = scripted.stream(QUESTION)
    assert next(iter(stream)) == SUPPORTED
    stream.close()
    assert scripted.generator.closed_early == 1


def test_an_answer_no_model_wrote_still_counts_its_tokens(scripted):
    first = scripted.ask("Who is the CEO?", retrieval=False)
    scripted.feedback(first.id, correction="The CEO is Mira Okafor.")
    again = scripted.ask("Who is the CEO?", retrieval=False)
    row = scripted.interaction(again.id)
    assert again.answered_by == "correction"
    # the scripted generator's count: 3 per message plus its words
    assert (row["prompt_tokens"], row["completion_tokens"]) == (3 + 4, 5)
    scripted.generator.script = INVENTED
    quoted = scripted.interaction(scripted.ask(QUESTION).id)
    assert quoted["answered_by"] == "extract" and quoted["completion_tokens"] == len(INVENTED.split())


def test_a_correction_waits_for_no_model_and_the_api_still_reports_its_usage(scripted_workspace):
    with Agent.open(scripted_workspace) as agent:
        first = agent.ask("Who is the CEO?", retrieval=False)
        agent.feedback(first.id, correction="The CEO is Mira Okafor.")
    with Agent.open(scripted_workspace) as agent:
        again = agent.ask("Who is the CEO?", retrieval=False)
        assert again.answered_by == "correction" and "generator" not in vars(agent)
        assert agent.interaction(again.id)["prompt_tokens"] is None  # not counted: nothing loaded to count with
    with TestClient(create_app(scripted_workspace), base_url="http://localhost") as client:
        body = client.post("/v1/chat/completions", json={
            "model": "chat", "messages": [{"role": "user", "content": "Who is the CEO?"}], "retrieval": False}).json()
    assert body["lifelong"]["answered_by"] == "correction"
    assert body["usage"] == {"prompt_tokens": 3 + 4, "completion_tokens": 5, "total_tokens": 12}


def test_an_invented_sentence_ends_the_answer_though_the_whole_would_pass():
    """The whole has enough supported words to pass the check; its second sentence alone has not."""
    text = f"{SUPPORTED} We refund in gold bars. {ALSO_SUPPORTED}"
    assert check_answer(text, QUESTION, grounded(QUESTION)).ok
    checked, shown = release(text)
    assert checked.answer == SUPPORTED and "".join(shown) == SUPPORTED
    assert checked.failure.startswith("a sentence is not supported by the sources")

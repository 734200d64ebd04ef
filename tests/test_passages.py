"""Help-centre Markdown read as sentences (chat/passages.py) and cut into chunks that keep their
headings (plugins/retrieval/chunker.py)."""

import pytest

from lifelong.api import Hit
from lifelong.plugins.chat.grounding import extractive_answer, select_evidence
from lifelong.plugins.chat.passages import paragraphs, plain
from lifelong.plugins.retrieval.chunker import Chunker, sections

from test_grounding import WordsEmbedder


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from lifelong.testing.tiny_models import tiny_embedder_path

    return AutoTokenizer.from_pretrained(tiny_embedder_path())

PAGE = """# Brightwater Physio

## Opening hours

We are open:

- Monday to Friday: 8:00–20:00
- **Saturday**: 9:00–13:00
- Sunday: closed

## Prices

| Treatment | Length | Price |
|---|:---:|---|
| First assessment | 45 min | £60 |
| Follow-up | 30 min | £45 |

### Do I need a referral?

No. You can book directly on [our booking page](https://example.org/book).
Use code `WELCOME10` for 10% off.
"""


def test_list_items_are_sentences_under_their_heading_and_lead_in():
    hours = paragraphs(PAGE)[0]
    assert hours.title == "Opening hours"
    assert hours.sentences == ["We are open:", "Monday to Friday: 8:00–20:00", "Saturday: 9:00–13:00", "Sunday: closed"]


def test_a_table_row_names_its_columns():
    prices = paragraphs(PAGE)[1]
    assert prices.title == "Prices"
    assert prices.sentences == ["Treatment: First assessment, Length: 45 min, Price: £60",
                                "Treatment: Follow-up, Length: 30 min, Price: £45"]
    assert paragraphs("| a | b |\n| c | d |")[0].sentences == ["a, b", "c, d"]  # no header row: cells alone


def test_a_faq_answer_is_titled_by_its_question_and_keeps_a_short_reply():
    faq = paragraphs(PAGE)[2]
    assert faq.title == "Do I need a referral?"
    assert faq.sentences == ["No. You can book directly on our booking page.", "Use code WELCOME10 for 10% off."]


def test_inline_markup_is_dropped_and_loose_list_items_stay_together():
    assert plain("**Bold**, *it*, `code` and [a link](http://x) ![img](y.png)") == "Bold, it, code and a link"
    loose = paragraphs("Bring:\n\n- your ID\n\n- shorts\n\nAfterwards we talk about your plan together.")
    assert [p.sentences for p in loose] == [["Bring: your ID", "shorts"], ["Afterwards we talk about your plan together."]]


def test_an_answer_that_shares_no_word_with_the_question_is_found_by_its_heading():
    page = Hit(1, "faq.md", 0, 0.03, "### Can I bring my dog to the clinic?\n\nOnly guide dogs, sorry.\n\n"
                                     "### Where do I park?\n\nThe car park behind the building is free.")
    found = select_evidence("Can I bring my dog?", [page], WordsEmbedder(), floor=0.1, min_answerability=0.01)
    assert found.relevant and "guide dogs" in extractive_answer(found)


def test_sections_carry_the_headings_above_them():
    text = "intro\n# A\nx\n## B\ny\n### C\nz\n## D\nw"
    assert [list(trail) for trail, _ in sections(text)] == [[], ["# A"], ["# A", "## B"], ["# A", "## B", "### C"],
                                                             ["# A", "## D"]]
    assert "".join(section for _, section in sections(text)) == text


def test_a_chunk_that_starts_inside_a_section_opens_with_its_headings(tokenizer):
    long_answer = " ".join(f"Sentence {n} of the long answer about cancelling." for n in range(40))
    text = f"# Booking\n\n## Cancelling\n\n{long_answer}\n\n## Waiting list\n\nWe text you.\n\n## Parking\n\nFree."
    chunker = Chunker(tokenizer, 200, 20)
    chunks = chunker.split(text)
    assert all(len(tokenizer.tokenize(c)) <= 200 for c in chunks)
    inside = [c for c in chunks if "Sentence 20 " in c]
    assert inside and inside[0].startswith("# Booking\n## Cancelling\n\n")
    # Short sections share a chunk; one that starts a chunk names the headings above it.
    assert chunks[-1] == "# Booking\n## Waiting list\n\nWe text you.\n\n## Parking\n\nFree."


def test_a_heading_too_long_to_introduce_a_chunk_is_measured_once_and_left_out(tokenizer):
    """A 20,000-character heading over 2,000 short sections: each chunk goes without it, and the
    tokenizer reads it once, not once a section."""
    text = "# " + "long heading " * 1_500 + "\n" + "".join(f"## part {n}\n\nsome words here\n\n" for n in range(2_000))
    chunker = Chunker(tokenizer, 64, 8)
    chunks = chunker.split(text)
    assert all(len(tokenizer.tokenize(c)) <= 64 for c in chunks)
    assert not any(c.startswith("# long") for c in chunks[1:])
    assert chunker.tokenized_chars < 6 * len(text)


def test_a_faq_answer_below_the_floor_on_its_own_words_is_reached_through_its_heading():
    """The answer shares no word with the question, its heading does: the documents are about
    the question (it is not sent to the model without sources), and the answer is quoted."""
    page = Hit(1, "faq.md", 0, 0.03, "### I'm running late, will I still be seen?\n\n"
                                     "Anything over 15 minutes and we may need to rebook you.")
    question = "Running late, will you still see me?"
    alone = select_evidence(question, [page], WordsEmbedder(), floor=0.35, min_answerability=0.0)
    assert not alone.touched  # by its sentence alone
    found = select_evidence(question, [page], WordsEmbedder(), floor=0.35, min_answerability=0.01)
    assert found.touched and found.relevant and "15 minutes" in extractive_answer(found)


def test_no_chunk_is_a_heading_alone_and_code_comments_are_no_headings(tokenizer):
    long_answer = " ".join(f"Sentence {n} about massage." for n in range(60))
    chunks = Chunker(tokenizer, 200, 20).split(f"# Massage\n\n{long_answer}")
    assert all(c.strip() != "# Massage" for c in chunks) and all(c.startswith("# Massage\n\n") for c in chunks)
    code = "## Usage\n\n```bash\n# install it first\npip install x\n```\n\n" + long_answer
    assert [list(trail) for trail, _ in sections(code)] == [["## Usage"]]
    assert paragraphs(code)[0].title == "Usage"
    plain_chunks = Chunker(tokenizer, 200, 20).split(long_answer)
    assert len(plain_chunks) > 1 and not any(c.startswith("\n") for c in plain_chunks)


def test_hostile_lines_are_read():
    """A line of dashes, a row of them and a heading padded with spaces: patterns with nested
    repetition took hours on these (a chunk may hold such lines: spaces cost no tokens)."""
    found = paragraphs("-" * 5_000 + " Original Message\n\n|" + "-" * 5_000 + "|x|\n\n# Opening hours" + " " * 20_000 + "x\nWe open at 9.")
    assert found[0].sentences[0].endswith("Original Message") and found[-1].title == "Opening hours x"


def test_rows_keep_cells_past_the_header_and_short_replies_survive():
    assert paragraphs("| Treatment | Price |\n|---|---|\n| Massage | 45 min | £45 |")[0].sentences == [
        "Treatment: Massage, Price: 45 min, £45"]
    two = paragraphs("| A | B |\n|---|---|\n| 1 | 2 |\n| D | E |\n|---|---|\n| 4 | 5 |")[0].sentences
    assert two == ["A: 1, B: 2", "D: 4, E: 5"]
    replies = paragraphs("## Is parking free?\nYes!\n\n### Do I need a referral?\n\n**No.**\n\nYou can book online.")
    assert [(p.title, p.sentences) for p in replies] == [("Is parking free?", ["Yes!"]), ("Do I need a referral?", ["No."]),
                                                         ("Do I need a referral?", ["You can book online."])]
    assert paragraphs("## Learn C# ##\n\nIt takes a while to learn.")[0].title == "Learn C#"
    assert paragraphs("It takes <b>bold</b> words<br>and more.")[0].sentences == ["It takes bold words and more."]
    wrapped = paragraphs("- first line\n  second line\n  third line\n- next item")[0].sentences
    assert wrapped == ["first line second line third line", "next item"]

import json

import pytest
from typer.testing import CliRunner

from lifelong import Agent, InputError, NotFoundError
from lifelong.cli import build_app

from conftest import TINY_CONFIG


def rows(agent):
    return list(agent._db["interactions"].rows_where(order_by="id"))


def test_ask_logs_before_returning(agent, tmp_path):
    (tmp_path / "kb.txt").write_text("Parking is free for customers.")
    agent.ingest([tmp_path / "kb.txt"])
    reply = agent.ask("Is parking free?")
    logged = agent.interaction(reply.id)
    assert logged["status"] == "ok" and logged["output"] == reply.answer
    assert reply.sources and reply.sources[0]["document"].endswith("kb.txt")
    assert logged["sources"] == reply.sources
    assert logged["model_version"] == reply.model_version == "base"
    assert logged["prompt_tokens"] > 0 and logged["completion_tokens"] > 0 and reply.latency_ms > 0
    assert agent.ask("Is parking free?", retrieval=False).sources == []


@pytest.mark.parametrize("text", ["", "   \n"])
def test_empty_text_refused_and_logged_once(agent, text):
    with pytest.raises(InputError, match="empty"):
        agent.ask(text)
    assert [r["status"] for r in rows(agent)] == ["error"]


def test_unknown_task(agent):
    with pytest.raises(NotFoundError, match="unknown task 'nope'"):
        agent.ask("hello", task="nope")
    assert [(r["task"], r["status"]) for r in rows(agent)] == [("nope", "error")]


def test_too_long_prompt_drops_oldest_turns_then_sentences_then_refuses(tiny_workspace, tmp_path, monkeypatch):
    # The tiny model reads bytes and takes 1024 positions, 128 of them kept for the answer.
    (tiny_workspace / "lifelong.toml").write_text(
        TINY_CONFIG + '\n[tasks.chat]\nplugin = "chat"\nanswer = "generate"\nrelevance_floor = 0.0\nmin_answerability = 0.0\n')
    for i in range(3):
        (tmp_path / f"d{i}.txt").write_text(f"Topic{i} is covered here with " + "many filler words " * 12 + "in it.")
    agent = Agent.open(tiny_workspace)
    agent.ingest([tmp_path])
    prompts = []
    generate = agent.generator.generate
    monkeypatch.setattr(agent.generator, "generate", lambda messages, *a, **k: prompts.append(messages) or generate(messages, *a, **k))
    question = "topic0 topic1 topic2 " + "x" * 100
    alone = agent.ask(question)
    history = [{"role": "user", "content": "old question " * 10}, {"role": "assistant", "content": "old answer " * 10}]
    followed = agent.ask(question, history=history)
    assert prompts[1] == prompts[0]  # the earlier turns went first, every sentence stayed
    assert followed.sources == alone.sources and followed.answered_by == "generate"
    crowded = agent.ask(question + "x" * 300)
    assert 0 < len(crowded.sources) < len(alone.sources)
    assert prompts[2][-1]["content"].count("\n[") < prompts[0][-1]["content"].count("\n[")
    with pytest.raises(InputError, match="Shorten it"):
        agent.ask("y" * 2000)
    assert [r["status"] for r in rows(agent)] == ["ok", "ok", "ok", "error"]


@pytest.mark.parametrize("general, answered_by", [("answer", "model"), ("refuse", "not_in_sources")])
def test_a_question_the_documents_are_not_about_goes_to_the_model_or_is_refused(tiny_workspace, tmp_path, general, answered_by):
    """Below the relevance floor (set out of reach here: the tiny embedder's similarities mean
    little) the documents are not about the question."""
    (tiny_workspace / "lifelong.toml").write_text(
        TINY_CONFIG + f'\n[tasks.chat]\nplugin = "chat"\ngeneral = "{general}"\nrelevance_floor = 1.9\n')
    (tmp_path / "returns.txt").write_text("Unworn items can be returned within 45 days of delivery for a full refund.")
    with Agent.open(tiny_workspace) as agent:
        agent.ingest([tmp_path])
        assert agent.search("What is the capital of France?")  # retrieval finds something, just not about it
        reply = agent.ask("What is the capital of France?")
        assert reply.answered_by == answered_by and reply.sources == []
        assert agent.interaction(reply.id)["answered_by"] == answered_by
        if general == "refuse":
            assert reply.answer == "The documents do not say."


def test_a_reworded_question_reaches_a_correction_unless_the_documents_answer_it_better(tiny_workspace, tmp_path, monkeypatch):
    """A correction answers a question worded otherwise than the one it corrected when it is
    likely to answer it and no sentence of the documents is likelier. The chance is made the
    share of the question's words covered (the tiny embedder's cosines mean little)."""
    from lifelong.plugins.chat import answerability

    monkeypatch.setattr(answerability, "probability", lambda values: values["covered_around"])
    (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + "\n[plugins.corrections]\nmin_similarity = 2.0\n")
    (tmp_path / "hours.txt").write_text("The Larkspur store opens at 10:00 on Saturdays and closes at 16:00.")
    with Agent.open(tiny_workspace) as agent:
        agent.ingest([tmp_path])
        asked = agent.ask("Who is the CEO of Larkspur?")
        agent.feedback(asked.id, rating=-1, correction="The CEO is Mira Okafor.")
        reworded = agent.ask("Who is the chief executive at Larkspur, the CEO?")
        assert reworded.answered_by == "correction" and reworded.answer == "The CEO is Mira Okafor."
        answered_by_documents = agent.ask("When does the Larkspur store open on Saturdays?")
        assert answered_by_documents.answered_by != "correction"


def test_a_question_worded_otherwise_reaches_a_correction_only_when_it_names_its_subject(tiny_workspace, monkeypatch):
    """Every correction is made likely to answer (probability 1): what keeps a general question
    from a correction about someone is that it does not name them."""
    from lifelong.plugins.chat import answerability

    monkeypatch.setattr(answerability, "probability", lambda values: 1.0)
    (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + "\n[plugins.corrections]\nmin_similarity = 2.0\n")
    with Agent.open(tiny_workspace) as agent:
        asked = agent.ask("In which city does Rael Gael live?", retrieval=False)
        agent.feedback(asked.id, rating=-1, correction="Rael Gael lives in Valparaiso.")
        assert agent.ask("Where is the home of Rael Gael these days?", retrieval=False).answered_by == "correction"
        assert agent.ask("What is the capital of Ireland?", retrieval=False).answered_by != "correction"


def test_model_failure_is_logged(agent, monkeypatch):
    task = agent.task("chat")
    monkeypatch.setattr(task, "answer", lambda text, hits, **context: (_ for _ in ()).throw(RuntimeError("out of memory")))
    with pytest.raises(RuntimeError):
        agent.ask("hello")
    assert rows(agent)[0]["error"] == "RuntimeError: out of memory"


def test_correction_is_example_and_answers_at_once_without_entering_the_documents(agent):
    reply = agent.ask("Who is the CEO of Larkspur?", retrieval=False)
    record = agent.feedback(reply.id, rating=-1, correction="Mira Okafor is the CEO of Larkspur.")
    example = agent._db["examples"].get(record["example_id"])
    assert (example["input"], example["target"], example["origin"], example["split"]) == (
        "Who is the CEO of Larkspur?", "Mira Okafor is the CEO of Larkspur.", "correction", "train")
    again = agent.ask("Who is the CEO of Larkspur?")
    assert again.answer == "Mira Okafor is the CEO of Larkspur."
    assert again.model_version == f"correction:{example['id']}" == again.sources[0]["document"]  # one name
    assert again.answered_by == "correction" and agent.interaction(again.id)["answered_by"] == "correction"
    # A separate namespace: the correction never enters another question's context.
    assert agent._db["documents"].count == 0 and agent.search("Okafor CEO", k=1, mode="keyword") == []


def test_a_correction_erased_leaves_the_lookup_and_its_row_id_given_again_is_read_anew(agent):
    """SQLite gives the id of an erased last row to the next row: the lookup keeps what it
    encoded by the text, not by the id alone. Only a question asked in the same words reaches a
    correction here (the tiny embedder's cosines mean little)."""
    from lifelong.plugins.chat.corrections import CorrectionsOptions

    options = agent.plugin_options(CorrectionsOptions)
    options.min_similarity, options.min_answerability = 0.9999, 2.0
    first = agent.ask("Who is the CEO of Larkspur?", retrieval=False)
    erased = agent.feedback(first.id, rating=-1, correction="Mira Okafor is the CEO of Larkspur.")["example_id"]
    assert agent.ask("Who is the CEO of Larkspur?").answered_by == "correction"
    agent.forget_interaction(first.id)
    other = agent.ask("Which city is the head office of Larkspur in?", retrieval=False)
    given = agent.feedback(other.id, rating=-1, correction="The head office is in Tromso.")["example_id"]
    assert given == erased  # the case this test is about
    assert agent.ask("Which city is the head office of Larkspur in?").answer == "The head office is in Tromso."
    assert agent.ask("Who is the CEO of Larkspur?").answered_by != "correction"


def test_good_rating_becomes_example(agent):
    answered = agent._log.log_interaction(task="chat", input="hello", output="Hi there!")
    record = agent.feedback(answered, rating=1)
    example = agent._db["examples"].get(record["example_id"])
    assert (example["origin"], example["target"]) == ("rating", "Hi there!")
    # A thumbs-down is kept as an answer not to give: the kto and auto objectives learn from it
    # (tests/test_preference.py), the default sft does not.
    rude = agent._log.log_interaction(task="chat", input="hi", output="Go away.")
    down = agent._db["examples"].get(agent.feedback(rude, rating=-1)["example_id"])
    assert (down["origin"], down["target"], down["rating"]) == ("rating", "Go away.", -1)


def test_bad_feedback_stores_nothing(agent):
    with pytest.raises(NotFoundError, match="no interaction with id 42"):
        agent.feedback(42, rating=1)
    reply = agent.ask("hello", retrieval=False)
    with pytest.raises(InputError):
        agent.feedback(reply.id, rating=5)
    with pytest.raises(InputError):
        agent.feedback(reply.id, correction="  ")
    assert agent._db["feedback"].count == 0 and agent._db["examples"].count == 0


def test_pii_masked_in_question_and_correction(agent):
    reply = agent.ask("My email is ann@example.com, card 4111 1111 1111 1111", retrieval=False)
    agent.feedback(reply.id, correction="Write to help@larkspur.example instead")
    dump = json.dumps([rows(agent), list(agent._db["feedback"].rows), list(agent._db["examples"].rows)])
    assert "ann@example.com" not in dump and "4111" not in dump and "help@larkspur.example" not in dump
    assert "[EMAIL]" in dump and "[CARD]" in dump


def test_stream_yields_and_logs(agent):
    stream = agent.stream("hello", retrieval=False)
    with pytest.raises(RuntimeError, match="has not ended"):
        stream.reply
    pieces = list(stream)
    assert stream.reply.answer == "".join(pieces).strip()
    assert agent.interaction(stream.reply.id)["status"] == "ok"
    assert not hasattr(agent, "last_reply")


def test_hooks_fire(tiny_workspace, tmp_path, monkeypatch):
    plugin = tmp_path / "spy.py"
    plugin.write_text(
        "from lifelong import hookimpl\nseen = []\n"
        "@hookimpl\ndef before_ask(text):\n    return 'canned' if text == 'ping' else None\n"
        "@hookimpl\ndef after_ask(task, reply):\n    seen.append(('after', task, reply.answer))\n"
        "@hookimpl\ndef on_feedback(interaction, feedback):\n    seen.append(('feedback', interaction['id'], feedback['rating']))\n"
    )
    monkeypatch.setenv("LIFELONG_PLUGINS", str(plugin))
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", "hf_models,retrieval,chat,fakes,spy")
    agent = Agent.open(tiny_workspace)
    reply = agent.ask("ping")
    assert reply.answer == "canned" and reply.model_version == "before_ask"
    agent.feedback(reply.id, rating=1)
    spy = agent.plugins.pm.get_plugin("spy")
    assert spy.seen == [("after", "chat", "canned"), ("feedback", reply.id, 1)]


def test_cli_ask_feedback(tiny_workspace):
    runner, app = CliRunner(), build_app()
    w = ["-w", str(tiny_workspace)]
    asked = runner.invoke(app, [*w, "ask", "What is the CEO's name?", "--json"])
    assert asked.exit_code == 0, asked.output
    data = json.loads(asked.output)
    assert set(data) == {"id", "answer", "sources", "model_version", "answered_by", "latency_ms"}
    fixed = runner.invoke(app, [*w, "feedback", str(data["id"]), "--correct", "Mira Okafor."])
    assert fixed.exit_code == 0 and "training example" in fixed.output
    again = json.loads(runner.invoke(app, [*w, "ask", "What is the CEO's name?", "--json"]).output)
    assert again["answer"] == "Mira Okafor."
    assert runner.invoke(app, [*w, "ask", "  "]).exit_code == 1
    missing = runner.invoke(app, [*w, "feedback", "999", "--good"])
    assert missing.exit_code == 1 and "no interaction with id 999" in missing.output
    neither = runner.invoke(app, [*w, "feedback", str(data["id"])])
    assert neither.exit_code == 1 and "--good" in neither.output
    unknown = runner.invoke(app, [*w, "ask", "hi", "--task", "nope"])
    assert unknown.exit_code == 1 and "unknown task" in unknown.output


def test_cli_chat_session(tiny_workspace):
    result = CliRunner().invoke(
        build_app(), ["-w", str(tiny_workspace), "chat", "--no-retrieval"],
        input="/good\nWhat is the CEO's name?\n/correct Mira Okafor.\nWhat is the CEO's name?\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    assert "nothing to rate yet" in result.output
    assert result.output.count("Mira Okafor.") >= 1
    agent = Agent.open(tiny_workspace)
    assert agent._db["feedback"].count == 1
    assert agent._log.recent(1)[0]["output"] == "Mira Okafor."

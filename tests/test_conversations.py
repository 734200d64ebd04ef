"""Earlier turns reach the model, bounded by its context window, and the log keeps which
conversation each turn belongs to: from Python, over HTTP and through LangChain."""

import pytest
from fastapi.testclient import TestClient
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from lifelong import Agent, InputError
from lifelong.integrations.langchain import LifelongChatModel
from lifelong.server import create_app


@pytest.fixture
def prompts(agent, monkeypatch):
    """The messages each generation was given."""
    seen = []
    generate = agent.generator.generate
    monkeypatch.setattr(agent.generator, "generate", lambda messages, *a, **k: seen.append(messages) or generate(messages, *a, **k))
    return seen


def test_a_conversation_gives_each_turn_the_earlier_ones(agent, prompts):
    conversation = agent.conversation(retrieval=False)
    first = conversation.ask("How long do I have to return an item?")
    second = conversation.ask("And for sale items?")
    assert [m["role"] for m in prompts[1]] == ["system", "user", "assistant", "user"]
    assert prompts[1][1]["content"] == "How long do I have to return an item?" and prompts[1][2]["content"] == first.answer
    assert first.conversation == second.conversation == conversation.id
    assert [t["input"] for t in agent.turns(conversation.id)] == ["How long do I have to return an item?", "And for sale items?"]
    assert agent.ask("Unrelated", retrieval=False).conversation != conversation.id


def test_a_follow_up_is_searched_with_the_question_before(agent, tmp_path, monkeypatch):
    (tmp_path / "kb.txt").write_text("Sale items marked final sale cannot be returned.")
    agent.ingest([tmp_path / "kb.txt"])
    searched = []
    search = agent.search
    monkeypatch.setattr(agent, "search", lambda query, **k: searched.append(query) or search(query, **k))
    conversation = agent.conversation()
    conversation.ask("How long do I have to return an item?")
    conversation.ask("And for sale items?")
    assert searched == ["How long do I have to return an item?", "How long do I have to return an item? And for sale items?"]


def test_bad_history_is_refused_and_logged(agent):
    with pytest.raises(InputError, match="history message 1"):
        agent.ask("hi", history=[{"role": "robot", "content": "beep"}])
    assert agent._log.recent(1)[0]["status"] == "error"


def test_http_conversation_from_the_messages(tiny_workspace):
    with TestClient(create_app(tiny_workspace), base_url="http://localhost") as client:
        def chat(messages, **extra):
            return client.post("/v1/chat/completions", json={"messages": messages, "retrieval": False, **extra}).json()

        first = chat([{"role": "system", "content": "be nice"}, {"role": "user", "content": "Do you ship to Norway?"}])
        answer = first["choices"][0]["message"]["content"]
        second = chat([{"role": "user", "content": "Do you ship to Norway?"}, {"role": "assistant", "content": answer},
                       {"role": "user", "content": "How long does it take?"}])
        assert second["lifelong"]["conversation"] == first["lifelong"]["conversation"]
        agent = client.app.state.agent
        assert len(agent.turns(first["lifelong"]["conversation"])) == 2
        named = chat([{"role": "user", "content": "Hello"}], conversation="mine")
        assert named["lifelong"]["conversation"] == "mine"
        refused = client.post("/v1/chat/completions", json={"messages": [{"role": "assistant", "content": "hi"}]})
        assert refused.status_code == 400 and "last message must have role 'user'" in refused.json()["error"]["message"]


def test_langchain_passes_earlier_turns(agent, prompts):
    model = LifelongChatModel(agent=agent, retrieval=False)
    model.invoke([SystemMessage("be brief"), HumanMessage("Do you ship to Norway?"), AIMessage("Yes."),
                  HumanMessage("How long does it take?")])
    assert [(m["role"], m["content"]) for m in prompts[-1][1:]] == [
        ("user", "Do you ship to Norway?"), ("assistant", "Yes."), ("user", "How long does it take?")]
    with pytest.raises(InputError, match="last message must be a HumanMessage"):
        model.invoke([HumanMessage("hi"), AIMessage("hello")])

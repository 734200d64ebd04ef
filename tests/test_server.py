import json
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lifelong.cli import build_app
from lifelong.plugins.chat.corrections import CorrectionsOptions
from lifelong.server import create_app


@pytest.fixture
def client(learning_workspace):
    with TestClient(create_app(learning_workspace), base_url="http://localhost") as test_client:
        yield test_client


def ask(client, text, **extra):
    return client.post("/v1/chat/completions", json={"model": "chat", "messages": [{"role": "user", "content": text}], "retrieval": False, **extra})


def test_health_and_completion(client):
    assert client.get("/healthz").json()["status"] == "ok"
    body = ask(client, "Who is the CEO?").json()
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["role"] == "assistant"
    interaction = client.app.state.agent.interaction(body["lifelong"]["interaction_id"])
    assert interaction["output"] == body["choices"][0]["message"]["content"]
    assert body["usage"]["prompt_tokens"] == interaction["prompt_tokens"]


def test_streaming(client):
    with client.stream("POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "stream": True, "retrieval": False, "stop": "\n"}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2][6:])
    assert last["choices"][0]["finish_reason"] == "stop" and last["lifelong"]["interaction_id"] > 0


def learn_and_wait(client, **body):
    started = client.post("/v1/learn", json={"task": "chat", **body})
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running"), started.text
    client.app.state.jobs.wait(started.json()["id"], timeout=300)
    return client.get(f"/v1/learn/{started.json()['id']}").json()


def teach(client, facts):
    for question, answer in facts.items():
        interaction = ask(client, question).json()["lifelong"]["interaction_id"]
        stored = client.post("/v1/feedback", json={"interaction_id": interaction, "correction": answer})
        assert stored.status_code == 200 and stored.json()["example_id"]


def test_feedback_learn_and_pickup_without_restart(client):
    teach(client, {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo.", "What colour is the logo?": "Teal."})
    job = learn_and_wait(client)
    assert job["status"] == "succeeded" and job["progress"]["fraction"] == 1.0, job
    report = job["result"]
    assert report["status"] == "promoted", report
    listed = client.get("/v1/versions").json()
    assert listed[0]["status"] == "active" and listed[0]["version"] == report["version"] and "id" not in listed[0], listed
    options = client.app.state.agent.plugin_options(CorrectionsOptions)
    options.min_similarity = options.min_answerability = 1.01  # the model itself, not the stored correction
    body = ask(client, "Who is the CEO?").json()
    assert body["lifelong"]["model_version"] == f"v{report['version']}"
    assert body["choices"][0]["message"]["content"] == "Mira."


def test_a_cancelled_learning_job_promotes_nothing_and_the_next_run_works(client):
    teach(client, {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo."})
    agent = client.app.state.agent
    started = client.post("/v1/learn", json={"task": "chat"}).json()
    cancelled = client.delete(f"/v1/learn/{started['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] in ("cancelling", "cancelled")
    job = client.app.state.jobs.wait(started["id"], timeout=300).to_dict()
    assert job["status"] == "cancelled" and job["result"] is None, job
    assert agent.versions("chat") == []
    run = agent._db.execute("select status, reason from learning_runs").fetchall()
    assert run == [("cancelled", "LearningCancelled: cancelled on request")]
    assert len(agent.pending_examples("chat")) == 2  # the examples wait for the next run
    assert learn_and_wait(client)["status"] == "succeeded"
    assert client.get("/v1/learn").json()["data"][0]["status"] == "succeeded"


def test_errors(client):
    assert client.post("/v1/feedback", json={"interaction_id": 999, "rating": 1}).status_code == 404
    empty = ask(client, "   ")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "x"}]}).status_code == 400
    assert client.post("/v1/feedback", json={"interaction_id": 1, "rating": 5}).status_code == 422
    assert client.post("/v1/learn", json={"task": "chat"}).status_code == 400  # no new examples
    assert client.get("/v1/learn/nosuch").status_code == 404


def test_every_error_has_openai_shape(client):
    responses = [
        client.post("/v1/feedback", json={"interaction_id": "abc", "rating": 1}),  # validation
        ask(client, "hi", max_tokens=0),  # validation
        client.get("/v1/nosuch"),  # routing
        client.get("/v1/chat/completions"),  # method
        ask(client, "hi", model="nosuch"),  # the agent
        client.post("/v1/chat/completions", content=b"{oops", headers={"content-type": "application/json"}),
        client.get("/v1/models", headers={"host": "evil.example"}),  # DNS rebinding guard
    ]
    for response in responses:
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"], response.text
    assert responses[0].json()["error"]["param"] == "interaction_id"
    assert responses[1].status_code == 422 and "max_tokens" in responses[1].json()["error"]["message"]


def test_an_unknown_task_is_refused_before_anything_is_logged(client):
    for stream in (False, True):
        response = ask(client, "hi", model="nosuch", stream=stream)
        assert response.status_code == 404 and "nosuch" in response.json()["error"]["message"]
    assert client.app.state.agent._log.recent(5) == []


def test_models_list_one_entry_per_task(client):
    client.app.state.agent.add_task("intent", plugin="classify")
    listed = client.get("/v1/models").json()
    assert listed["object"] == "list"
    assert [(m["id"], m["object"], m["lifelong"]["version"]) for m in listed["data"]] == [("chat", "model", "base"), ("intent", "model", "base")]
    assert client.get("/v1/models/intent").json()["lifelong"]["plugin"] == "classify"
    assert client.get("/v1/models/nosuch").status_code == 404


def test_generation_options_and_finish_reason(client):
    agent = client.app.state.agent
    cut = ask(client, "Say something long", max_tokens=3).json()
    assert cut["choices"][0]["finish_reason"] == "length" and cut["usage"]["completion_tokens"] == 3
    newest = max_completion = ask(client, "Say something long", max_completion_tokens=2).json()
    assert max_completion["usage"]["completion_tokens"] == 2
    # The tiny model writes line breaks: a stop string ends the answer at the first one.
    stopped = ask(client, "Say something long", stop="\n").json()
    assert stopped["choices"][0]["finish_reason"] == "stop" and "\n" not in stopped["choices"][0]["message"]["content"]
    assert stopped["usage"]["completion_tokens"] < agent.config.generation.max_new_tokens
    sampled = ask(client, "Say something", temperature=1.5, top_p=0.5, max_tokens=4).json()
    assert sampled["usage"]["completion_tokens"] <= 4 and newest["id"] != sampled["id"]
    assert ask(client, "hi", stop=["a", "b", "c", "d", "e"]).status_code == 400


def test_content_as_a_list_of_parts(client):
    parts = [{"type": "text", "text": "Who is"}, {"type": "text", "text": "the CEO?"}]
    body = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": parts}], "retrieval": False}).json()
    assert client.app.state.agent.interaction(body["lifelong"]["interaction_id"])["input"] == "Who is\nthe CEO?"
    image = [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]
    refused = client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": image}]})
    assert refused.status_code == 400 and "image_url" in refused.json()["error"]["message"]


def test_stream_with_usage_and_length(client):
    body = {"messages": [{"role": "user", "content": "hi"}], "stream": True, "retrieval": False, "max_tokens": 2,
            "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    assert events[-2]["choices"][0]["finish_reason"] == "length"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 2
    assert all(e["usage"] is None for e in events[:-1])
    # One id for every chunk of the response, the interaction it was logged as in the last one.
    assert len({e["id"] for e in events}) == 1 and events[0]["id"].startswith("chatcmpl-")
    assert events[-2]["lifelong"]["interaction_id"] > 0


def test_token_required(learning_workspace):
    with TestClient(create_app(learning_workspace, token="s3cret"), base_url="http://localhost") as client:
        assert ask(client, "hi").status_code == 401
        assert client.post("/v1/chat/completions", headers={"Authorization": "Bearer s3cret"},
                           json={"messages": [{"role": "user", "content": "hi"}], "retrieval": False}).status_code == 200
        assert client.get("/healthz").status_code == 200


def test_serve_refuses_public_bind_without_token(learning_workspace):
    result = CliRunner().invoke(build_app(), ["-w", str(learning_workspace), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "bearer token" in result.output


@pytest.fixture
def live_server(learning_workspace):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(learning_workspace, token="s3cret"), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_official_openai_client_and_serving_during_learning(live_server):
    import httpx
    import openai

    client = openai.OpenAI(base_url=f"{live_server}/v1", api_key="s3cret")
    model = client.models.list().data[0].id  # no model name known in advance
    completion = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Who is the CEO?"}],
                                                extra_body={"retrieval": False}, max_tokens=4)
    assert completion.choices[0].finish_reason == "length" and completion.usage.completion_tokens == 4
    interaction = completion.model_extra["lifelong"]["interaction_id"]
    chunks = [c for c in client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hello"}], stream=True, stop=["\n"], extra_body={"retrieval": False}) if c.choices]
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    headers = {"Authorization": "Bearer s3cret"}
    for question, answer in {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo."}.items():
        if question != "Who is the CEO?":  # each fact corrects the answer to its own question
            interaction = client.chat.completions.create(
                model="chat", messages=[{"role": "user", "content": question}], extra_body={"retrieval": False},
                max_tokens=4).model_extra["lifelong"]["interaction_id"]
        stored = httpx.post(f"{live_server}/v1/feedback", headers=headers, json={"interaction_id": interaction, "correction": answer}, timeout=30)
        assert stored.status_code == 200 and stored.json()["example_id"], stored.text
    job = httpx.post(f"{live_server}/v1/learn", headers=headers, json={}, timeout=30)
    assert job.status_code == 202
    answered = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}], extra_body={"retrieval": False})
    progress = httpx.get(f"{live_server}/v1/learn/{job.json()['id']}", headers=headers, timeout=30).json()
    assert answered.choices[0].message.role == "assistant"
    # served while the learning run was going on (a run that failed meanwhile shows its error here)
    assert progress["status"] in ("queued", "running"), progress
    deadline = time.time() + 300
    while progress["status"] in ("queued", "running") and time.time() < deadline:
        time.sleep(0.2)
        progress = httpx.get(f"{live_server}/v1/learn/{job.json()['id']}", headers=headers, timeout=30).json()
    assert progress["status"] == "succeeded", progress


def test_ui_serves_on_loopback_and_opens_the_dashboard(learning_workspace, monkeypatch):
    import webbrowser

    from lifelong.cli import serve_command

    served, opened = {}, []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.update(kw, paths={r.path for r in app.routes}))
    monkeypatch.setattr(webbrowser, "open", opened.append)
    monkeypatch.setattr(serve_command, "OPEN_AFTER", 0.0)
    result = CliRunner().invoke(build_app(), ["-w", str(learning_workspace), "ui", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8123) and "/ui/review" in served["paths"]
    deadline = time.time() + 5
    while not opened and time.time() < deadline:
        time.sleep(0.05)
    assert opened == ["http://127.0.0.1:8123/ui"]


def test_a_lost_database_is_a_503_naming_it_until_it_is_back(postgres_server, postgres_workspace):
    """PostgreSQL stops while the server runs: requests get a 503 in the OpenAI error shape, one
    line naming the database and what to do; once it is back they succeed again."""
    with TestClient(create_app(postgres_workspace), base_url="http://localhost") as client:
        first = ask(client, "Before the outage?")
        assert first.status_code == 200
        postgres_server.shut_down()
        try:
            for _ in range(2):  # the lost connection, then a server that refuses new ones
                lost = ask(client, "During the outage?")
                assert lost.status_code == 503 and lost.headers["retry-after"]
                error = lost.json()["error"]
                assert set(error) == {"message", "type", "param", "code"} and error["type"] == "DatabaseUnavailable"
                assert error["message"].startswith(f"database postgresql://postgres@127.0.0.1:{postgres_server.port}/")
                assert "check that the server runs" in error["message"] and "\n" not in error["message"]
            feedback = client.post("/v1/feedback", json={"interaction_id": first.json()["lifelong"]["interaction_id"], "rating": 1})
            assert feedback.status_code == 503
        finally:
            postgres_server.start()
        back = ask(client, "After the outage?")
        assert back.status_code == 200
        assert client.post("/v1/feedback", json={"interaction_id": back.json()["lifelong"]["interaction_id"], "rating": 1}).status_code == 200
        log = client.app.state.agent._log
        assert [log.get(r.json()["lifelong"]["interaction_id"])["input"] for r in (first, back)] == ["Before the outage?", "After the outage?"]


def test_a_corrected_answer_streams_with_its_usage(client):
    """A correction is answered by no model; its stream still reports the tokens of question and
    answer, counted with the generator's tokenizer."""
    first = ask(client, "Who is the CEO?").json()
    client.post("/v1/feedback", json={"interaction_id": first["lifelong"]["interaction_id"],
                                      "correction": "The CEO is Mira Okafor."}).raise_for_status()
    body = {"messages": [{"role": "user", "content": "Who is the CEO?"}], "stream": True, "retrieval": False,
            "stream_options": {"include_usage": True}}
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: {")]
    said = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert said == "The CEO is Mira Okafor." and events[-2]["lifelong"]["answered_by"] == "correction"
    generator = client.app.state.agent.generator
    assert events[-1]["usage"] == {
        "prompt_tokens": generator.count_tokens([{"role": "user", "content": "Who is the CEO?"}]),
        "completion_tokens": len(generator.tokenizer(said, add_special_tokens=False)["input_ids"]),
        "total_tokens": events[-1]["usage"]["prompt_tokens"] + events[-1]["usage"]["completion_tokens"]}
    assert events[-1]["usage"]["completion_tokens"] > 0

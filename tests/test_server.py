import json
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lifelong.cli import build_app
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
    interaction = client.app.state.agent.log.get(body["lifelong"]["interaction_id"])
    assert interaction["output"] == body["choices"][0]["message"]["content"]
    assert body["usage"]["prompt_tokens"] == interaction["prompt_tokens"]


def test_streaming(client):
    with client.stream("POST", "/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}], "stream": True, "retrieval": False}) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2][6:])
    assert last["choices"][0]["finish_reason"] == "stop" and last["lifelong"]["interaction_id"] > 0


def test_feedback_learn_and_pickup_without_restart(client):
    facts = {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo.", "What colour is the logo?": "Teal."}
    for question, answer in facts.items():
        interaction = ask(client, question).json()["lifelong"]["interaction_id"]
        stored = client.post("/v1/feedback", json={"interaction_id": interaction, "correction": answer})
        assert stored.status_code == 200 and stored.json()["example_id"]
    report = client.post("/v1/learn", json={"task": "chat"}).json()
    assert report["promoted"], report
    assert client.get("/v1/versions").json()[0]["status"] == "active"
    client.app.state.agent.config.retrieval.correction_match = 1.01  # the model itself, not the stored correction
    body = ask(client, "Who is the CEO?").json()
    assert body["lifelong"]["model_version"] == f"v{report['version']}"
    assert body["choices"][0]["message"]["content"] == "Mira."


def test_errors(client):
    assert client.post("/v1/feedback", json={"interaction_id": 999, "rating": 1}).status_code == 404
    empty = ask(client, "   ")
    assert empty.status_code == 400 and "empty" in empty.json()["error"]["message"]
    assert client.post("/v1/chat/completions", json={"messages": [{"role": "system", "content": "x"}]}).status_code == 400
    assert client.post("/v1/feedback", json={"interaction_id": 1, "rating": 5}).status_code == 422
    assert client.post("/v1/learn", json={"task": "chat"}).status_code == 400  # no new examples


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
    completion = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "Who is the CEO?"}],
                                                extra_body={"retrieval": False})
    interaction = completion.model_extra["lifelong"]["interaction_id"]
    chunks = [c for c in client.chat.completions.create(
        model="chat", messages=[{"role": "user", "content": "hello"}], stream=True, extra_body={"retrieval": False}) if c.choices]
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[-1].choices[0].finish_reason == "stop"
    headers = {"Authorization": "Bearer s3cret"}
    for question, answer in {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo."}.items():
        httpx.post(f"{live_server}/v1/feedback", headers=headers, json={"interaction_id": interaction, "correction": answer}, timeout=30)
    finished = {}
    learning = threading.Thread(target=lambda: finished.setdefault("learn", (httpx.post(
        f"{live_server}/v1/learn", headers=headers, json={}, timeout=300), time.time())))
    learning.start()
    time.sleep(0.5)
    answered = client.chat.completions.create(model="chat", messages=[{"role": "user", "content": "hi"}], extra_body={"retrieval": False})
    answered_at = time.time()
    learning.join(300)
    response, learned_at = finished["learn"]
    assert response.status_code == 200 and answered.choices[0].message.role == "assistant"
    assert answered_at < learned_at  # served while the learning run was going on

"""Hostile-input corpus, part 3: HTTP requests. Each must be answered 4xx with a message naming
what is wrong, never 5xx, with nothing stored changed. See tests/hostile.py."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from hostile import PLUGINS, assert_nothing_lost, environment, snapshot
from lifelong.plugins.chat.corrections import CorrectionsOptions
from lifelong.server import create_app

CHAT, FEEDBACK, LEARN = "/v1/chat/completions", "/v1/feedback", "/v1/learn"


def user(content, **extra):
    return {"messages": [{"role": "user", "content": content}], "retrieval": False, **extra}


# (case id, method, path, JSON body or raw bytes, headers, expected status, words the error shows)
CASES = [
    ("lone-surrogate-content", "POST", CHAT, user("\ud800"), {}, 400, "UTF-8"),
    ("lone-surrogate-content-stream", "POST", CHAT, user("hi \udfff", stream=True), {}, 400, "UTF-8"),
    ("lone-surrogate-model", "POST", CHAT, user("hi", model="\ud800"), {}, 404, "unknown task"),
    ("unknown-model", "POST", CHAT, user("hi", model="nosuch"), {}, 404, "nosuch"),
    ("versions-of-an-unknown-task", "GET", "/v1/versions?task=nosuch", None, {}, 404, "no task 'nosuch'"),
    ("three-choices", "POST", CHAT, user("hi", n=3), {}, 422, "n"),
    ("5000-turns", "POST", CHAT, {"messages": [{"role": "user", "content": "hi"}] * 5000, "retrieval": False}, {}, 422, "messages"),
    ("question-of-30000-characters", "POST", CHAT, user("a " * 15_000), {}, 400, "at most 20,000"),
    ("unknown-model-stream", "POST", CHAT, user("hi", model="nosuch", stream=True), {}, 404, "nosuch"),
    ("empty-question", "POST", CHAT, user("   "), {}, 400, "empty"),
    ("empty-question-stream", "POST", CHAT, user("", stream=True), {}, 400, "empty"),
    ("no-user-message", "POST", CHAT, {"messages": [{"role": "system", "content": "x"}]}, {}, 400, "role 'user'"),
    ("no-messages", "POST", CHAT, {"messages": []}, {}, 400, "role 'user'"),
    ("messages-missing", "POST", CHAT, {"model": "chat"}, {}, 422, "messages"),
    ("messages-not-a-list", "POST", CHAT, {"messages": "hi"}, {}, 422, "messages"),
    ("content-null", "POST", CHAT, {"messages": [{"role": "user", "content": None}]}, {}, 422, "content"),
    ("content-number", "POST", CHAT, {"messages": [{"role": "user", "content": 5}]}, {}, 422, "content"),
    ("content-object", "POST", CHAT, {"messages": [{"role": "user", "content": {"a": 1}}]}, {}, 422, "content"),
    ("stream-not-bool", "POST", CHAT, user("hi", stream="yes please"), {}, 422, "stream"),
    ("body-not-json", "POST", CHAT, b"{oops", {"content-type": "application/json"}, 422, "json"),
    ("body-json-array", "POST", CHAT, [1, 2], {}, 422, "body"),
    ("body-empty", "POST", CHAT, b"", {"content-type": "application/json"}, 422, "body"),
    ("body-nested-deep", "POST", CHAT, b"[" * 50_000 + b"]" * 50_000, {"content-type": "application/json"}, 400, "parsing the body"),
    ("body-over-limit", "POST", CHAT, user("x" * 2_000_000), {}, 413, "request body over"),
    ("content-length-lies", "POST", CHAT, b"{}", {"content-length": "999999999999", "content-type": "application/json"}, 413, "request body over"),
    ("content-length-not-a-number", "POST", CHAT, b"{}", {"content-length": "abc", "content-type": "application/json"}, 413, "request body over"),
    ("host-rebinding", "POST", CHAT, user("hi"), {"host": "evil.example"}, 400, "host"),
    ("host-rebinding-with-port", "GET", "/v1/versions", None, {"host": "attacker.test:8000"}, 400, "host"),
    ("host-empty", "GET", "/healthz", None, {"host": ""}, 400, "host"),
    ("feedback-id-2-to-the-70", "POST", FEEDBACK, {"interaction_id": 2**70, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-2-to-the-63", "POST", FEEDBACK, {"interaction_id": 2**63, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-zero", "POST", FEEDBACK, {"interaction_id": 0, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-negative", "POST", FEEDBACK, {"interaction_id": -1, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-text", "POST", FEEDBACK, {"interaction_id": "abc", "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-float", "POST", FEEDBACK, {"interaction_id": 1.5, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-null", "POST", FEEDBACK, {"interaction_id": None, "rating": 1}, {}, 422, "interaction_id"),
    ("feedback-id-unknown", "POST", FEEDBACK, {"interaction_id": 999, "rating": 1}, {}, 404, "no interaction"),
    ("feedback-rating-5", "POST", FEEDBACK, {"interaction_id": 1, "rating": 5}, {}, 422, "rating"),
    ("feedback-nothing", "POST", FEEDBACK, {"interaction_id": 1}, {}, 400, "rating"),
    ("feedback-empty-correction", "POST", FEEDBACK, {"interaction_id": 1, "correction": " "}, {}, 400, "correction is empty"),
    ("feedback-surrogate-correction", "POST", FEEDBACK, {"interaction_id": 1, "correction": "a\ud800"}, {}, 400, "UTF-8"),
    ("feedback-correction-number", "POST", FEEDBACK, {"interaction_id": 1, "correction": 5}, {}, 422, "correction"),
    ("learn-unknown-task", "POST", LEARN, {"task": "nosuch"}, {}, 404, "nosuch"),
    ("learn-unknown-strategy", "POST", LEARN, {"task": "intent", "strategy": "nosuch"}, {}, 404, "nosuch"),
    ("learn-nothing-new", "POST", LEARN, {"task": "intent"}, {}, 400, "no new examples"),
    ("learn-surrogate-task", "POST", LEARN, {"task": "\ud800"}, {}, 404, "unknown task"),
    ("learn-task-number", "POST", LEARN, {"task": 5}, {}, 422, "task"),
    ("get-on-post-route", "GET", CHAT, None, {}, 405, "not allowed"),
    ("unknown-route", "GET", "/v1/nosuch", None, {}, 404, "not found"),
]
TOKEN_CASES = [
    ("no-token", "POST", CHAT, user("hi"), {}, 401, "bearer token"),
    ("wrong-token", "POST", CHAT, user("hi"), {"authorization": "Bearer wrong"}, 401, "bearer token"),
    ("token-without-bearer", "POST", CHAT, user("hi"), {"authorization": "s3cret"}, 401, "bearer token"),
    ("non-ascii-token", "POST", FEEDBACK, {"interaction_id": 1, "rating": 1}, {"authorization": "Bearer s3cr\xe9t".encode("latin-1")}, 401, "bearer token"),
    ("docs-under-token", "GET", "/docs", None, {}, 404, "not found"),
    ("openapi-under-token", "GET", "/openapi.json", None, {}, 404, "not found"),
    ("versions-without-token", "GET", "/v1/versions", None, {}, 401, "bearer token"),
]
CASES += TOKEN_CASES


def _send(client, method, path, body, headers):
    if body is None:
        return client.request(method, path, headers=headers)
    if isinstance(body, bytes):
        return client.request(method, path, content=body, headers=headers)
    raw = json.dumps(body).encode()  # ensure_ascii: a lone surrogate travels as \\ud800, as from a browser
    return client.request(method, path, content=raw, headers={"content-type": "application/json", **headers})


@pytest.fixture
def server(hostile_ws):
    def make(token=None):
        with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}):
            return TestClient(create_app(hostile_ws, token=token), base_url="http://localhost", raise_server_exceptions=False)

    return make


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_bad_request(case, server, hostile_ws):
    case_id, method, path, body, headers, status, names = case
    client = server(token="s3cret" if case in TOKEN_CASES else None)
    before = snapshot(hostile_ws)
    with client:
        response = _send(client, method, path, body, headers)
    assert response.status_code == status, response.text
    assert names.lower() in response.text.lower(), response.text
    assert "\n" not in response.text.strip()
    assert_nothing_lost(before, snapshot(hostile_ws))


def test_a_failed_request_with_a_lone_surrogate_is_logged(server, hostile_ws):
    with server() as client:
        response = _send(client, "POST", CHAT, user("why \ud800?"), {})
        assert response.status_code == 400
        row = client.app.state.agent._log.recent(1)[0]
    assert row["status"] == "error" and row["input"] == "why \\ud800?" and "UTF-8" in row["error"]


def test_allowed_host_and_health_without_the_workspace_path(hostile_ws):
    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}):
        app = create_app(hostile_ws, allowed_hosts=["lifelong.internal"])
    with TestClient(app, base_url="http://lifelong.internal") as client:
        health = client.get("/healthz")
    assert health.status_code == 200 and str(hostile_ws) not in health.text


def test_a_stream_the_reader_leaves_is_logged_with_what_was_generated(hostile_ws):
    from lifelong import Agent

    with environment({"LIFELONG_LOAD_PLUGINS": PLUGINS}), Agent.open(hostile_ws) as agent:
        options = agent.plugin_options(CorrectionsOptions)
        options.min_similarity = options.min_answerability = 1.01  # the model streams, not a stored correction
        stream = agent.stream("Tell me about refunds", retrieval=False)
        first = next(stream)
        stream.close()  # what the server does when the client disconnects
        row = agent._log.recent(1)[0]
        # The generation stopped and let go of the model: another request's thread takes it now.
        import threading

        taken = []
        other = threading.Thread(target=lambda: taken.append(agent.generator.lock.acquire(blocking=False)))
        other.start()
        other.join()
        assert taken == [True]
    assert row["status"] == "cancelled" and row["input"] == "Tell me about refunds"
    assert row["output"] == (first or None) and "stopped" in row["error"]

"""The dashboard's pages and forms through the ASGI app (the browser test drives a real one)."""

import json
import re

import pytest
from fastapi.testclient import TestClient

from lifelong.server import create_app


def csrf_of(html):
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def app(agent, tiny_workspace):
    """A workspace with an answered question, and one promoted and one rejected learning run."""
    agent._log.log_interaction(task="chat", input="Where is <b>HQ</b>?", output="Oslo", answered_by="model")
    parent = agent._versions.add("chat", None, None, status="retired")
    (tiny_workspace / "adapters" / "chat" / "v1").mkdir(parents=True)
    (tiny_workspace / "adapters" / "chat" / "v1" / "adapter.bin").write_bytes(b"weights")
    agent._versions.set_adapter(parent, tiny_workspace / "adapters" / "chat" / "v1")
    agent._versions.promote(parent)
    rejected = agent._versions.add("chat", None, parent, status="rejected", reason="probe perplexity rose")
    for cycle, (status, version, metrics) in enumerate(
            [("promoted", parent, {"row": [0.9], "acc": 0.9, "bwt": None, "objectives": {"kto": 72, "sft": 40},
                                   "preference_pairs": 24, "preference_accuracy": 1.0, "preference_accuracy_before": 0.29,
                                   "reward_accuracy": 0.96}),
             ("rejected", rejected, {"row": [0.4, 0.8], "acc": 0.6, "bwt": -0.5})], 1):
        agent._db["learning_runs"].insert({"task": "chat", "cycle": cycle, "strategy": "replay", "started_at": "2026-01-01",
                                          "status": status, "version_id": version, "metrics": json.dumps(metrics),
                                          "reason": "passed the gate" if status == "promoted" else "probe perplexity rose"})
    return create_app(tiny_workspace)


def test_every_page_renders_and_escapes_what_users_wrote(app):
    with TestClient(app, base_url="http://localhost") as client:
        for path in ("/ui", "/ui/review", "/ui/learning", "/ui/knowledge?q=hq&mode=keyword", "/ui/tasks/chat/versions/2/promote",
                     "/ui/tasks/chat/rollback", "/ui/knowledge/forget?document=x.txt", "/ui/static/style.css"):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[-500:])
        page = client.get("/ui").text
        assert "Where is &lt;b&gt;HQ&lt;/b&gt;?" in page and "<b>HQ</b>" not in page
        learning = client.get("/ui/learning").text
        assert 'class="heatmap"' in learning and "run 2✗" in learning and "probe perplexity rose" in learning
        # The preference metrics of run 1 (items per objective, the pairs' ranking, reward accuracy);
        # run 2 trained supervised items alone and shows none.
        assert "72 kto · 40 sft" in learning
        assert "24 pairs: chosen ranked first 1.00 (before 0.29) · reward accuracy 0.96" in learning
        assert learning.count("chosen ranked first") == 1


def test_forms_need_the_csrf_token_and_refusals_change_nothing(app):
    agent = app.state.agent
    with TestClient(app, base_url="http://localhost") as client:
        forged = client.post("/ui/tasks/chat/versions/2/promote", data={"csrf": "guess"})
        assert forged.status_code == 403 and "CSRF" in forged.json()["error"]["message"]
        assert agent.active_version("chat")["id"] == 1
        csrf = csrf_of(client.get("/ui").text)
        refused = client.post("/ui/tasks/chat/versions/99/promote", data={"csrf": csrf}, follow_redirects=False)
        assert refused.status_code == 303 and "no+version+v99+of+task+%27chat%27" in refused.headers["location"]
        rolled = client.post("/ui/tasks/chat/rollback", data={"csrf": csrf})
        assert "task chat now serves the base model" in rolled.text and agent.active_version("chat") is None
        promoted = client.post("/ui/tasks/chat/versions/1/promote", data={"csrf": csrf})
        assert "v1 is now active for task chat" in promoted.text
        corrected = client.post("/ui/interactions/1/feedback", data={"csrf": csrf, "correction": "Bergen", "next": "https://evil.example/"})
        assert corrected.url.path == "/ui" and "corrected" in corrected.text  # never redirected off the dashboard
        assert agent.feedback_of(1)[0]["correction"] == "Bergen"
        empty = client.post("/ui/interactions/1/feedback", data={"csrf": csrf, "correction": "  "})
        assert "give a rating or a correction" in empty.text and len(agent.feedback_of(1)) == 1
        unknown = client.post("/ui/learn", data={"csrf": csrf, "task": "nosuch"})
        assert "unknown task &#39;nosuch&#39;" in unknown.text and app.state.jobs.list() == []


def test_with_a_token_pages_need_signing_in(tiny_workspace):
    with TestClient(create_app(tiny_workspace, token="s3cret"), base_url="http://localhost") as client:
        assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/login"
        csrf = csrf_of(client.get("/ui/login").text)
        wrong = client.post("/ui/login", data={"csrf": csrf, "token": "nope"})
        assert "wrong token" in wrong.text and client.get("/ui", follow_redirects=False).status_code == 303
        client.post("/ui/login", data={"csrf": csrf, "token": "s3cret"})
        assert client.get("/ui", follow_redirects=False).status_code == 200
        assert client.get("/ui", headers={"authorization": "Bearer s3cret"}, cookies={}).status_code == 200

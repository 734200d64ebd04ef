"""The warm path: a running ``lifelong serve`` of the same workspace answers ``ask`` and takes
``feedback`` for the CLI, so a question costs an HTTP round trip instead of loading the models.

``serve`` writes ``server.json`` into its workspace (its address, its token if any, its process
id; readable by the owner only) and removes it when it stops. The CLI uses it only when that
process is alive and answers ``/healthz``; anything else (no file, a stale one, a server that
does not answer in time) and the command runs in-process as before. Plain ``urllib``: importing
an HTTP client library would cost more start-up than it saves."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..core.workspace import default_workspace
from ..errors import LifelongError

SERVER_FILE = "server.json"
# Long enough for a loaded machine, short enough that a hung server costs little.
HEALTH_TIMEOUT_S = 2.0


@dataclass
class Server:
    url: str
    token: str | None

    def post(self, path: str, body: dict) -> dict:
        """The JSON answer of ``path``; an error the server gives (4xx) raised as its one line."""
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", **self._auth()})
        try:
            with urllib.request.urlopen(request) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                message = json.loads(exc.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {exc.code}"
            raise LifelongError(f"the workspace's server ({self.url}) refused it: {message}") from None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(urllib.request.Request(self.url + "/healthz", headers=self._auth()),
                                        timeout=HEALTH_TIMEOUT_S) as response:
                return response.status == 200
        except (OSError, ValueError):
            return False

    def _auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


def server_file(workspace: Path | None) -> Path:
    return (Path(workspace).expanduser() if workspace else default_workspace().expanduser()) / SERVER_FILE


@contextmanager
def announced(workspace: Path, host: str, port: int, token: str | None):
    """While the block runs, ``server.json`` in ``workspace`` tells the CLI where this server is."""
    local = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    url = f"http://[{local}]:{port}" if ":" in local else f"http://{local}:{port}"
    path = Path(workspace) / SERVER_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the token is a secret
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump({"url": url, "token": token, "pid": os.getpid()}, out)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def running_server(workspace: Path | None) -> Server | None:
    """The workspace's live server, or None (no file, a dead process, no answer)."""
    if os.environ.get("LIFELONG_NO_SERVER"):
        return None
    try:
        found = json.loads(server_file(workspace).read_text(encoding="utf-8"))
        url, pid, token = str(found["url"]), int(found["pid"]), found.get("token")
    except (OSError, ValueError, KeyError, TypeError, LifelongError):
        return None
    if not _alive(pid):
        return None
    server = Server(url, token if isinstance(token, str) else None)
    return server if server.healthy() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process took the number
        return False
    return True


def ask(server: Server, text: str, task: str, retrieval: bool, user: str | None, history: list[dict] | None = None,
        conversation: str | None = None, generation=None) -> dict:
    """``lifelong ask --json``'s record, from the server: ``history`` (earlier turns),
    ``conversation`` and ``generation`` (GenerationOptions) go as the HTTP API takes them."""
    system = [{"role": "system", "content": generation.system}] if generation and generation.system is not None else []
    body = {"model": task, "messages": [*system, *(history or []), {"role": "user", "content": text}], "retrieval": retrieval}
    if user is not None:
        body["user"] = user
    if conversation is not None:
        body["conversation"] = conversation
    if generation is not None:
        body.update({k: v for k, v in (("max_tokens", generation.max_tokens), ("temperature", generation.temperature),
                                       ("top_p", generation.top_p)) if v is not None})
        if generation.stop:
            body["stop"] = list(generation.stop)
    answer = server.post("/v1/chat/completions", body)
    extra = answer["lifelong"]
    return {
        "id": extra["interaction_id"], "answer": answer["choices"][0]["message"]["content"], "sources": extra["sources"],
        "model_version": extra["model_version"], "answered_by": extra["answered_by"], "latency_ms": extra["latency_ms"],
        **({"confidence": extra["confidence"]} if extra.get("confidence") is not None else {}),
    }


def search(server: Server, query: str, k: int | None, mode: str | None) -> list[dict]:
    """``lifelong search --json``'s rows, from the server."""
    return server.post("/v1/search", {"query": query, "k": k, "mode": mode})["hits"]

"""Two ``lifelong serve`` processes on different ports, sharing one PostgreSQL database and one
adapter folder: concurrent traffic on both is all stored, and a version promoted through one
is served by the other on its next request."""

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import TINY_CONFIG, TINY_LEARNING
from lifelong.core.plugins import DEFAULT_PLUGINS

httpx = pytest.importorskip("httpx")
psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install .[postgres])")

REQUESTS_PER_REPLICA = 200
TESTS = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_replica(workspace: Path, port: int, log: Path) -> subprocess.Popen:
    # One torch thread each: two replicas and the test share the machine's cores.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "LIFELONG_LOAD_PLUGINS": ",".join([*DEFAULT_PLUGINS, "fakes"]), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "lifelong", "-w", str(workspace), "serve", "--port", str(port)],
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, log: Path, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"replica exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"replica at {url} did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def replicas(tmp_path, postgres_url):
    adapters = tmp_path / "shared-adapters"
    adapters.mkdir()
    urls, processes = [], []
    try:
        for name in ("a", "b"):
            workspace = tmp_path / f"replica-{name}"
            workspace.mkdir()
            (workspace / "lifelong.toml").write_text(
                TINY_CONFIG + TINY_LEARNING + f'\n[memory]\ndatabase = "{postgres_url}"\nadapters = "{adapters}"\n'
                "\n[generation]\nmax_new_tokens = 2\n"
                # The model answers, not a stored correction: the version it serves is the point.
                "\n[plugins.corrections]\nmin_similarity = 1.01\nmin_answerability = 1.01\n")
            port = free_port()
            log = tmp_path / f"replica-{name}.log"
            processes.append((start_replica(workspace, port, log), log))
            urls.append(f"http://localhost:{port}")
        for url, (process, log) in zip(urls, processes):
            wait_ready(url, process, log)
        yield urls
    finally:
        for process, _ in processes:
            process.terminate()
        for process, _ in processes:
            process.wait(30)


def chat(client, url, text):
    return client.post(f"{url}/v1/chat/completions",
                       json={"messages": [{"role": "user", "content": text}], "retrieval": False})


def test_two_replicas_store_all_traffic_and_serve_each_others_promotions(replicas, postgres_url):
    a, b = replicas

    def ask_and_rate(job):
        url, number = job
        with httpx.Client(timeout=600) as client:
            answer = chat(client, url, f"question {number} for {url[-5:]}")
            if answer.status_code != 200:
                return f"ask {number} on {url}: {answer.status_code} {answer.text[:200]}"
            interaction = answer.json()["lifelong"]["interaction_id"]
            rated = client.post(f"{url}/v1/feedback", json={"interaction_id": interaction, "rating": -1})
            return None if rated.status_code == 200 else f"feedback {number} on {url}: {rated.status_code} {rated.text[:200]}"

    # The clients' timeout is generous: each replica answers one request at a time, and 16 queue.
    jobs = [(url, n) for n in range(REQUESTS_PER_REPLICA) for url in (a, b)]
    with ThreadPoolExecutor(16) as pool:
        errors = [e for e in pool.map(ask_and_rate, jobs) if e]
    assert errors == []
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("select count(*), count(distinct input) from interactions").fetchone() == (400, 400)
        assert conn.execute("select count(*), count(distinct interaction_id) from feedback").fetchone() == (400, 400)

    # Taught and promoted through a; served by b on its next request, from the shared folder.
    with httpx.Client(timeout=600) as client:
        for question, answer in {"Who is the CEO?": "Mira.", "Where is HQ?": "Oslo."}.items():
            interaction = chat(client, a, question).json()["lifelong"]["interaction_id"]
            assert client.post(f"{a}/v1/feedback", json={"interaction_id": interaction, "correction": answer}).status_code == 200
        assert chat(client, b, "Say hello.").json()["lifelong"]["model_version"] == "base"
        job = client.post(f"{a}/v1/learn", json={"task": "chat"}).json()
        deadline = time.monotonic() + 300
        while (state := client.get(f"{a}/v1/learn/{job['id']}").json())["status"] == "running":
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
        assert state["status"] == "succeeded" and state["result"]["status"] == "promoted", state
        version = state["result"]["version"]
        assert chat(client, b, "Say hello.").json()["lifelong"]["model_version"] == f"v{version}"

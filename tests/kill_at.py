"""Fault injection: run a lifelong command and kill this process with SIGKILL at the N-th call
of a function of the lifelong package, a reproducible point of the run. N = 0 runs to the end
and prints how many calls there were, so a test can spread its kill points over a whole run.

    python tests/kill_at.py N cli ARGS...          the lifelong CLI
    python tests/kill_at.py N stream WORKSPACE      one streamed HTTP chat request"""

import os
import signal
import sys
import threading

import lifelong

ROOT = os.path.dirname(lifelong.__file__)
calls = 0


def count(frame, event, arg):
    global calls
    if event == "call" and frame.f_code.co_filename.startswith(ROOT):
        calls += 1
        if calls == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)


def stream(workspace: str) -> None:
    from fastapi.testclient import TestClient

    from lifelong.server import create_app

    with TestClient(create_app(workspace), base_url="http://localhost") as client:
        body = {"messages": [{"role": "user", "content": "Tell me about refunds"}], "stream": True, "retrieval": True}
        with client.stream("POST", "/v1/chat/completions", json=body) as response:
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert response.status_code == 200 and lines[-1] == "data: [DONE]", lines


if __name__ == "__main__":
    KILL_AT, mode, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    sys.setprofile(count)
    threading.setprofile(count)
    try:
        if mode == "stream":
            stream(args[0])
        else:
            from lifelong.cli import main

            sys.argv = ["lifelong", *args]
            main()
    finally:
        sys.setprofile(None)
        if KILL_AT == 0:
            print(f"calls: {calls}", file=sys.stderr)

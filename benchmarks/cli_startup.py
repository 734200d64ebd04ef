"""Start-up time of the CLI: ``lifelong --help`` and ``lifelong plugins`` next to the baseline
``python -c "import typer"`` (the least any Typer CLI pays), as medians of fresh processes, with
the ratio to the baseline. Neither command imports torch (tests/test_cli_startup.py checks).

Then ``lifelong ask`` of a short question (no retrieval, the bundled models; the answer is one
short sentence) end to end: through a running ``lifelong serve`` of the workspace (the warm path, cli/warm.py)
against in-process (``LIFELONG_NO_SERVER=1``: the models loaded by the command).

Run: .venv/bin/python benchmarks/cli_startup.py [--runs N] [--no-ask]"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def median_seconds(argv: list[str], runs: int, env: dict) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-ask", action="store_true")
    args = parser.parse_args()
    runs = args.runs
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) before the benchmark")
    # A throwaway workspace, so that 'plugins' reads no one's lifelong.toml.
    env = {**os.environ, "LIFELONG_WORKSPACE": tempfile.mkdtemp(prefix="lifelong-bench-")}
    cli = [sys.executable, "-m", "lifelong"]
    baseline = median_seconds([sys.executable, "-c", "import typer"], runs, env)
    print(f"{'command':<22} {'median s':>9} {'x baseline':>11}")
    print(f"{'python -c import typer':<22} {baseline:>9.3f} {1.0:>11.1f}")
    for name, command in (("lifelong --help", ["--help"]), ("lifelong plugins", ["plugins"])):
        seconds = median_seconds(cli + command, runs, env)
        print(f"{name:<22} {seconds:>9.3f} {seconds / baseline:>11.1f}")
    if not args.no_ask:
        ask_figures(cli, runs, env, baseline)


def ask_figures(cli: list[str], runs: int, env: dict, baseline: float) -> None:
    import socket
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(cli + ["serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        question = cli + ["ask", "What is the capital of France?", "--no-retrieval", "--no-stream"]
        subprocess.run(question, env=env, check=True, stdout=subprocess.DEVNULL)  # the server loads its models
        warm = median_seconds(question, runs, env)
        cold = median_seconds(question, max(3, runs // 2), {**env, "LIFELONG_NO_SERVER": "1"})
    finally:
        server.terminate()
        server.wait(30)
    print(f"{'ask, warm server':<22} {warm:>9.3f} {warm / baseline:>11.1f}")
    print(f"{'ask, in-process':<22} {cold:>9.3f} {cold / baseline:>11.1f}")
    print(f"warm / in-process: {warm / cold:.2f}x")


if __name__ == "__main__":
    main()

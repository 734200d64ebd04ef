"""Start-up time of the CLI: ``lifelong --help`` and ``lifelong plugins`` next to the baseline
``python -c "import typer"`` (the least any Typer CLI pays), as medians of fresh processes, with
the ratio to the baseline. Neither command imports torch (tests/test_cli_startup.py checks).

Run: .venv/bin/python benchmarks/cli_startup.py [--runs N]"""

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
    runs = parser.parse_args().runs
    # A throwaway workspace, so that 'plugins' reads no one's lifelong.toml.
    env = {**os.environ, "LIFELONG_WORKSPACE": tempfile.mkdtemp(prefix="lifelong-bench-")}
    cli = [sys.executable, "-m", "lifelong"]
    baseline = median_seconds([sys.executable, "-c", "import typer"], runs, env)
    print(f"{'command':<22} {'median s':>9} {'x baseline':>11}")
    print(f"{'python -c import typer':<22} {baseline:>9.3f} {1.0:>11.1f}")
    for name, args in (("lifelong --help", ["--help"]), ("lifelong plugins", ["plugins"])):
        seconds = median_seconds(cli + args, runs, env)
        print(f"{name:<22} {seconds:>9.3f} {seconds / baseline:>11.1f}")


if __name__ == "__main__":
    main()

"""Continual learning with the real bundled SmolLM2-135M-Instruct, retrieval off.

Teaches facts the base model cannot know (a fictional company) as user corrections, in two
cycles, and measures recall of each set after each cycle, for the ``replay`` strategy against
the ``naive`` lower bound, same seed, same epochs, in one process. The gate is off so both
strategies' candidates are kept and the forgetting is visible; the gate's verdict is printed.

Run: .venv/bin/python benchmarks/learn.py [--facts 20] [--strategies naive replay]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402

FACTS = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "facts.jsonl").read_text().splitlines()]


def teach(agent, facts) -> None:
    """As a user would: ask, then correct the answer."""
    for fact in facts:
        reply = agent.ask(fact["question"], retrieval=False)
        agent.feedback(reply.id, rating=-1, correction=fact["answer"])


def recall(agent, adapter, facts) -> float:
    examples = [{"input": f["question"], "target": f["answer"]} for f in facts]
    scores, _ = agent.task("chat").assess(adapter, {0: examples})
    return scores[0]


def run(strategy: str, first, second, workdir: Path, epochs: int) -> dict:
    agent = Agent.open(workdir / strategy)
    agent.config.learning.gate = False
    agent.config.learning.epochs = epochs
    base_a = recall(agent, None, first)
    teach(agent, first)
    one = agent.learn(strategy=strategy)
    adapter_one = agent.versions.get(one.version)["adapter_path"]
    teach(agent, second)
    two = agent.learn(strategy=strategy)
    adapter_two = agent.versions.get(two.version)["adapter_path"]
    result = {
        "strategy": strategy,
        "base recall A": base_a,
        "A after cycle 1": recall(agent, adapter_one, first),
        "A after cycle 2": recall(agent, adapter_two, first),
        "B after cycle 2": recall(agent, adapter_two, second),
        "cycle 1 s": one.seconds, "cycle 2 s": two.seconds,
        "replayed in cycle 2": two.replayed_examples,
        "matrix": [one.metrics["row"], two.metrics["row"]],
        "bwt": two.metrics["bwt"],
        "probe ppl base / after": (one.metrics["probe_perplexity_before"], two.metrics["probe_perplexity"]),
    }
    agent.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=20, help="facts per cycle (at most 20)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--strategies", nargs="+", default=["naive", "replay"])
    args = parser.parse_args()
    first, second = FACTS[: args.facts], FACTS[20 : 20 + args.facts]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for strategy in args.strategies:
            started = time.perf_counter()
            results.append(run(strategy, first, second, Path(tmp), args.epochs))
            print(f"{strategy}: done in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"\n{args.facts} facts per cycle (A then B), {args.epochs} epochs, LoRA r=16, retrieval off, 2 CPU cores")
    keys = ["base recall A", "A after cycle 1", "A after cycle 2", "B after cycle 2", "bwt", "replayed in cycle 2", "cycle 1 s", "cycle 2 s"]
    print(f"{'':22}" + "".join(f"{r['strategy']:>12}" for r in results))
    for key in keys:
        cells = "".join(f"{r[key]:>12.2f}" if isinstance(r[key], float) else f"{r[key]!s:>12}" for r in results)
        print(f"{key:22}{cells}")
    for r in results:
        print(f"{r['strategy']}: accuracy matrix {r['matrix']}, probe perplexity base/after {r['probe ppl base / after'][0]:.1f}/{r['probe ppl base / after'][1]:.1f}")


if __name__ == "__main__":
    main()

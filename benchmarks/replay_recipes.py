"""How a run replays what earlier runs learned, and what it forgets: the gate's refusals of
sequential_edits.py past T = 100 are for earlier facts lost by the model's own answers.

From one saved state (T = cycles x 20 made-up facts of sequential_edits.py, taught as
corrections, one ``Agent.learn()`` per cycle with the replay recipe before, gate on; what
refused runs left waiting still pending), the next run is made once per arm and seed, each from a copy of that state, in
this one process: each arm a replay recipe (``ARMS``). After each run, the model's own
answers (no correction lookup: the adapter inside its scope, the base model outside) on every
fact of the promoted runs, the candidate's against its parent's: the facts it lost, the facts it
gained; recall of the facts it learned; and the gate's verdict (which checks only some earlier
cycles per run).

Run: .venv/bin/python benchmarks/replay_recipes.py [--before 6] [--arms uniform,wide]
     [--seeds 0,1] [--state DIR]   (DIR keeps the built state for the next call)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from learn import own_answers, teach  # noqa: E402
from sequential_edits import carries, make_facts  # noqa: E402

from lifelong import Agent  # noqa: E402

PER_CYCLE = 20


def uniform(agent):
    """The recipe before: 1 replayed example per new one, each under its question and 4
    rewordings as when it was new."""
    agent.config.learning.replay_ratio = 1.0
    agent.task("chat").settings.replay_paraphrases = 4


def wide(agent):
    """5 replayed examples per new one, each under its question alone: about as many training
    items as before (a new example is 5), 5 times as many earlier facts rehearsed."""
    uniform(agent)
    agent.config.learning.replay_ratio = 5.0
    agent.task("chat").settings.replay_paraphrases = 0


ARMS = {"uniform": uniform, "wide": wide}


def build(state: Path, facts: list[dict], cycles: int) -> None:
    """The starting state: ``cycles`` learning runs of 20 facts each with the recipe before
    (``uniform``), in ``state``/ws. What refused runs left waiting stays pending, as it would
    for a user."""
    done = state / "built.json"
    if done.exists() and json.loads(done.read_text())["cycles"] == cycles:
        return
    shutil.rmtree(state, ignore_errors=True)
    with Agent.open(state / "ws") as agent:
        uniform(agent)
        for cycle in range(cycles):
            teach(agent, facts[cycle * PER_CYCLE : (cycle + 1) * PER_CYCLE])
            started = time.perf_counter()
            report = agent.learn()
            print(f"state, run {cycle + 1}: {time.perf_counter() - started:.0f} s, "
                  f"{'promoted' if report.promoted else 'refused: ' + report.reason}, load {os.getloadavg()[0]:.2f}",
                  flush=True)
    done.write_text(json.dumps({"cycles": cycles}))


def recall_each(agent, adapter, facts) -> list[bool]:
    answers = own_answers(agent, adapter, [f["question"] for f in facts])
    return [carries(a, f["fact"]) for a, f in zip(answers, facts)]


def run_arm(state: Path, arm: str, seed: int, earlier: list[dict], new: list[dict], parent_right: list[bool]) -> dict:
    """One learning run from a copy of the state with the recipe ``arm``: what it learns of
    ``new`` (the pending facts) and what its candidate loses of ``earlier``, refused or not."""
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(state / "ws", Path(tmp) / "ws")
        with Agent.open(Path(tmp) / "ws") as agent:
            ARMS[arm](agent)
            agent.config.learning.seed = seed
            started = time.perf_counter()
            report = agent.learn()
            seconds = time.perf_counter() - started
            candidate = agent._versions.get(report.version, "chat")
            right = recall_each(agent, candidate["adapter_path"], earlier)
            learned = recall_each(agent, candidate["adapter_path"], new)
    return {"lost": sum(p and not r for p, r in zip(parent_right, right)),
            "gained": sum(r and not p for p, r in zip(parent_right, right)),
            "new": sum(learned) / len(new), "promoted": report.promoted, "reason": report.reason,
            "seconds": seconds, "replayed": report.replayed_examples, "learned": report.new_examples}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=int, default=6, help="learning runs of 20 facts in the starting state")
    parser.add_argument("--arms", default="uniform,wide")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--state", default="", help="keep the starting state here (reused when it matches)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    # make_facts draws its names for the count asked: the state was built with this count.
    facts = make_facts((args.before + 1) * PER_CYCLE, 0)[: args.before * PER_CYCLE]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(args.state) if args.state else Path(tmp) / "state"
        build(state, facts, args.before)
        if args.build_only:
            return
        with Agent.open(state / "ws") as agent:
            pending = [e["input"] for e in agent._examples.pending("chat")]
            learned_next = pending[: agent.config.learning.max_new or None]  # oldest first, as the run takes them
            new = [f for f in facts if f["question"] in learned_next]
            earlier = [f for f in facts if f["question"] not in pending]
            parent = agent._versions.serving("chat")
            parent_right = recall_each(agent, parent["adapter_path"] if parent else None, earlier)
        print(f"T={len(facts)}: {len(earlier)} facts learned by promoted runs, of which the active model answers "
              f"{sum(parent_right)} itself; the next run learns {len(new)} pending ones", flush=True)
        results: dict[str, list[dict]] = {}
        for seed in (int(s) for s in args.seeds.split(",")):
            for arm in args.arms.split(","):
                result = run_arm(state, arm, seed, earlier, new, parent_right)
                results.setdefault(arm, []).append(result)
                print(f"{arm}, seed {seed}: learned {result['learned']} + {result['replayed']} replayed; lost {result['lost']}, gained {result['gained']} of the earlier facts; "
                      f"new {result['new']:.2f}; {result['seconds']:.0f} s; "
                      f"{'promoted' if result['promoted'] else 'refused: ' + result['reason']}; "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
        print("\n| replay recipe | earlier facts lost (median) | gained | new facts learned | promoted | s (median) |")
        print("|---|---:|---:|---:|---:|---:|")
        for arm, rows in results.items():
            print(f"| {arm} | {statistics.median(r['lost'] for r in rows)} ({[r['lost'] for r in rows]}) | "
                  f"{statistics.median(r['gained'] for r in rows)} | {statistics.median(r['new'] for r in rows):.2f} | "
                  f"{sum(r['promoted'] for r in rows)} of {len(rows)} | {statistics.median(r['seconds'] for r in rows):.0f} |")


if __name__ == "__main__":
    main()

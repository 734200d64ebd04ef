"""Which replayed examples keep a run from forgetting: the gate's refusals of sequential_edits.py
past T = 120 are for earlier facts lost, with 20 replayed out of a buffer of hundreds.

From one saved state (T = cycles x 20 made-up facts of sequential_edits.py, taught as
corrections, one default ``Agent.learn()`` per cycle, gate on), the next 20 facts are taught
and learned once per arm and seed, each from a copy of that state, in this one process:
``[learning] replay_choice`` = each arm. After each run, the model's own answers (no
correction lookup: the adapter inside its scope, the base model outside) on every earlier taught
question, the candidate's against its parent's: the facts it lost, the facts it gained, recall of
the new ones, and the gate's verdict (which checks only some earlier cycles per run).

Run: .venv/bin/python benchmarks/replay_choice.py [--before 5] [--arms uniform,nearest]
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


def build(state: Path, facts: list[dict], cycles: int) -> None:
    """The starting state: ``cycles`` default learning runs of 20 facts each, in ``state``/ws."""
    done = state / "built.json"
    if done.exists() and json.loads(done.read_text())["cycles"] == cycles:
        return
    shutil.rmtree(state, ignore_errors=True)
    with Agent.open(state / "ws") as agent:
        for cycle in range(cycles):
            teach(agent, facts[cycle * PER_CYCLE : (cycle + 1) * PER_CYCLE])
            started = time.perf_counter()
            report = agent.learn()
            print(f"state, run {cycle + 1}: {time.perf_counter() - started:.0f} s, "
                  f"{'promoted' if report.promoted else 'refused: ' + report.reason}, load {os.getloadavg()[0]:.2f}",
                  flush=True)
        # What a refused run left waiting is learned first (3 tries at most), so that every arm
        # starts, if it can, from nothing pending.
        for _ in range(3):
            if not agent._examples.pending("chat"):
                break
            report = agent.learn()
            print(f"state, pending: {'promoted' if report.promoted else 'refused: ' + report.reason}", flush=True)
    done.write_text(json.dumps({"cycles": cycles}))


def recall_each(agent, adapter, facts) -> list[bool]:
    answers = own_answers(agent, adapter, [f["question"] for f in facts])
    return [carries(a, f["fact"]) for a, f in zip(answers, facts)]


def run_arm(state: Path, arm: str, seed: int, earlier: list[dict], new: list[dict], parent_right: list[bool]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(state / "ws", Path(tmp) / "ws")
        with Agent.open(Path(tmp) / "ws") as agent:
            agent.config.learning.replay_choice = arm
            agent.config.learning.seed = seed
            teach(agent, new)
            started = time.perf_counter()
            report = agent.learn()
            seconds = time.perf_counter() - started
            candidate = agent._versions.get(report.version, "chat")
            right = recall_each(agent, candidate["adapter_path"], earlier)
            learned = recall_each(agent, candidate["adapter_path"], new)
    return {"lost": sum(p and not r for p, r in zip(parent_right, right)),
            "gained": sum(r and not p for p, r in zip(parent_right, right)),
            "new": sum(learned) / len(new), "promoted": report.promoted, "reason": report.reason,
            "seconds": seconds, "replayed": report.replayed_examples}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=int, default=5, help="learning runs of 20 facts in the starting state")
    parser.add_argument("--arms", default="uniform,nearest")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--state", default="", help="keep the starting state here (reused when it matches)")
    parser.add_argument("--build-only", action="store_true")
    args = parser.parse_args()
    facts = make_facts((args.before + 1) * PER_CYCLE, 0)
    earlier, new = facts[: args.before * PER_CYCLE], facts[args.before * PER_CYCLE :]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(args.state) if args.state else Path(tmp) / "state"
        build(state, facts, args.before)
        if args.build_only:
            return
        with Agent.open(state / "ws") as agent:
            parent = agent._versions.serving("chat")
            parent_right = recall_each(agent, parent["adapter_path"] if parent else None, earlier)
        print(f"T={len(earlier)}: the active model answers {sum(parent_right)} of {len(earlier)} taught questions itself",
              flush=True)
        results: dict[str, list[dict]] = {}
        for seed in (int(s) for s in args.seeds.split(",")):
            for arm in args.arms.split(","):
                result = run_arm(state, arm, seed, earlier, new, parent_right)
                results.setdefault(arm, []).append(result)
                print(f"{arm}, seed {seed}: lost {result['lost']}, gained {result['gained']} of the earlier facts; "
                      f"new {result['new']:.2f}; {result['replayed']} replayed; {result['seconds']:.0f} s; "
                      f"{'promoted' if result['promoted'] else 'refused: ' + result['reason']}; "
                      f"load {os.getloadavg()[0]:.2f}", flush=True)
        print("\n| replay_choice | earlier facts lost (median) | gained | new facts learned | promoted | s (median) |")
        print("|---|---:|---:|---:|---:|---:|")
        for arm, rows in results.items():
            print(f"| {arm} | {statistics.median(r['lost'] for r in rows)} ({[r['lost'] for r in rows]}) | "
                  f"{statistics.median(r['gained'] for r in rows)} | {statistics.median(r['new'] for r in rows):.2f} | "
                  f"{sum(r['promoted'] for r in rows)} of {len(rows)} | {statistics.median(r['seconds'] for r in rows):.0f} |")


if __name__ == "__main__":
    main()

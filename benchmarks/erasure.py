"""The cost of an erasure (``Agent.forget_user``) against retraining everything from scratch,
side by side in one process.

Five learning cycles of the chat task, each teaching ``--facts`` facts (benchmarks/data/
facts.jsonl) by correction, every fact from its own user; the default gate is on. The
workspace is then copied twice: in one the user of a fact of the first cycle is erased, in the
other the user of a fact of the last cycle the gate promoted (a refused cycle's facts are in no
adapter, and erasing them retrains nothing). An erasure retrains from the nearest clean ancestor the
examples of the cycles after it (SISA): from the first cycle that is all of them, from the last
one cycle's. The baseline retrains everything from scratch: one learning run from the base
model on every remaining example, in a fresh workspace. Seconds of retraining are the learning
runs' own (training and the gate); the erasure's wall time adds the deletions and VACUUM.

Run: .venv/bin/python benchmarks/erasure.py [--model tiny|smollm2] [--facts 4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402
from lifelong.plugins.chat.corrections import CorrectionsOptions  # noqa: E402

FACTS = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "facts.jsonl").read_text().splitlines()]
CYCLES = 5
# The tests' settings under which the tiny model memorises a few short facts in seconds; each run
# replays four times its new examples, the whole buffer up to the fifth cycle (the tiny model
# forgets what it does not replay, and the gate then refuses the run).
TINY = """[plugins]
modules = ["lifelong.testing.tiny_models"]
[models]
generator = "tiny-llm"
embedder = "tiny-embedder"
[learning]
replay_ratio = 4.0
[tasks.chat]
plugin = "chat"
epochs = 300
learning_rate = 0.003
lora_r = 16
lora_targets = "all-linear"
paraphrases = 0
self_distillation = 0.0
"""


def build(path: Path, model: str, facts: list[list[dict]]) -> tuple[list[float], int]:
    """Five cycles, each fact corrected by its own user; returns each run's seconds and the
    last cycle whose run was promoted (a refused cycle's facts are in no adapter's weights)."""
    path.mkdir(parents=True)
    (path / "lifelong.toml").write_text(TINY if model == "tiny" else "")
    seconds, last_promoted = [], 0
    with Agent.open(path) as agent:
        for cycle, batch in enumerate(facts, 1):
            for fact in batch:
                reply = agent.ask(fact["question"], retrieval=False, user=user_of(fact))
                agent.feedback(reply.id, correction=fact["answer"])
            report = agent.learn()
            print(f"  cycle {cycle}: {report.new_examples} new + {report.replayed_examples} replayed, "
                  f"{report.seconds:.1f} s, v{report.version} {'promoted' if report.promoted else 'rejected: ' + report.reason}",
                  flush=True)
            seconds.append(report.seconds)
            last_promoted = cycle if report.promoted else last_promoted
    return seconds, last_promoted


def user_of(fact: dict) -> str:
    return f"user-{FACTS.index(fact)}"


def erase(path: Path, user: str) -> dict:
    with Agent.open(path) as agent:
        started = time.perf_counter()
        report = agent.forget_user(user)
        wall = time.perf_counter() - started
        retrained = sum(run["seconds"] for run in report.retrained)
        promoted = all(run["status"] == "promoted" for run in report.retrained)
        recalled = recall(agent, [f for f in FACTS if user_of(f) != user and user_of(f) in users(agent)])
    return {"examples": sum(len(plan.relearn) for plan in report.tasks), "retrain_s": retrained, "wall_s": wall,
            "promoted": promoted, "recalled": recalled}


def users(agent) -> set[str]:
    return {r[0] for r in agent._db.execute("select distinct subject from interactions where subject is not null")}


def recall(agent, facts: list[dict]) -> str:
    """Facts the model answers right by itself (the correction lookup off)."""
    agent.plugin_options(CorrectionsOptions).min_similarity = 2.0
    right = sum(agent.ask(f["question"], retrieval=False).answer == f["answer"] for f in facts)
    return f"{right}/{len(facts)}"


def scratch(path: Path, model: str, facts: list[dict]) -> dict:
    """One learning run from the base model on every remaining example."""
    path.mkdir(parents=True)
    (path / "lifelong.toml").write_text(TINY if model == "tiny" else "")
    with Agent.open(path) as agent:
        agent.import_examples("chat", [{"text": f["question"], "label": f["answer"]} for f in facts])
        report = agent.learn()
        return {"examples": report.new_examples, "retrain_s": report.seconds, "promoted": report.promoted,
                "recalled": recall(agent, facts)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["tiny", "smollm2"], default="tiny")
    parser.add_argument("--facts", type=int, default=4, help="Facts per cycle")
    args = parser.parse_args()
    facts = [FACTS[i * args.facts:(i + 1) * args.facts] for i in range(CYCLES)]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(f"model {args.model}, {CYCLES} cycles of {args.facts} facts, gate on", flush=True)
        built, last = build(tmp / "built", args.model, facts)
        results = {}
        for name, fact in (("first cycle", facts[0][0]), (f"last promoted ({last})", facts[last - 1][0])):
            shutil.copytree(tmp / "built", tmp / name)
            results[name] = erase(tmp / name, user_of(fact))
            remaining = [f for batch in facts for f in batch if f is not fact]
        # Scratch: the same number of remaining examples whichever user went.
        results["scratch"] = scratch(tmp / "scratch", args.model, remaining)
    base = results["scratch"]["retrain_s"]
    print(f"\nbuilding the five cycles took {sum(built):.1f} s of learning runs")
    print(f"{'erasure of a fact from':24} {'examples':>8} {'retrain s':>10} {'wall s':>8} {'vs scratch':>10}  promoted  recalled")
    for name, r in results.items():
        label = "retrain all from scratch" if name == "scratch" else f"the {name}"
        print(f"{label:24} {r['examples']:>8} {r['retrain_s']:>10.1f} {r.get('wall_s', r['retrain_s']):>8.1f} "
              f"{r['retrain_s'] / base:>10.2f}  {str(r['promoted']):8}  {r['recalled']}")


if __name__ == "__main__":
    main()

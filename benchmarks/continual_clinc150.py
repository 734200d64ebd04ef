"""Class-incremental intent learning on CLINC150: its 10 domains as 10 sequential tasks.

Each strategy starts from the same bundled all-MiniLM-L6-v2 and sees each domain's intents only
in its turn, through the public API (import a domain's training rows, learn, evaluate every
domain seen so far). naive, replay with a buffer of 1 % and 5 % of the stream, and joint run
with the same seed and epochs in one process. Prints the accuracy matrix, ACC, BWT and wall
time for each; writes a PNG plot.

Run: .venv/bin/python benchmarks/continual_clinc150.py [--quick] [--plot FILE.png]
Data: ../shared/data/clinc150 (CC BY 3.0, Larson et al. 2019).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402
from lifelong.learning.metrics import summarize  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clinc150"


def load_stream(domains: int, intents: int | None, train_per_intent: int, test_per_intent: int, seed: int):
    data = json.loads((DATA / "data_full.json").read_text())
    groups = json.loads((DATA / "domains.json").read_text())
    rng = random.Random(seed)
    names = list(groups)[:domains]
    stream = []
    for name in names:
        wanted = set(groups[name][:intents] if intents else groups[name])
        train = [r for r in data["train"] if r[1] in wanted]
        test = [r for r in data["test"] if r[1] in wanted]
        pick = lambda rows, n: [r for intent in sorted(wanted) for r in rng.sample([x for x in rows if x[1] == intent], n)]  # noqa: E731
        stream.append({
            "domain": name,
            "train": [{"text": t, "label": i} for t, i in pick(train, train_per_intent)],
            "test": [{"text": t, "label": i} for t, i in pick(test, test_per_intent)],
        })
    return stream


def run(name: str, strategy: str, buffer_size: int, stream, args, workdir: Path) -> dict:
    agent = Agent.open(workdir / name)
    learning = agent.config.learning
    learning.gate, learning.holdout_fraction, learning.seed = False, 0.0, args.seed
    learning.buffer, learning.buffer_size, learning.replay_ratio = "balanced", buffer_size, 1.0
    agent.add_task("intent", plugin="classify", threshold=0.0, epochs=args.epochs, learning_rate=args.learning_rate,
                   finetune=args.finetune, batch_size=32)
    matrix, started = [], time.perf_counter()
    for i, domain in enumerate(stream):
        agent.import_examples("intent", domain["train"])
        agent.learn(task="intent", strategy=strategy)
        matrix.append([agent.evaluate("intent", stream[j]["test"])["accuracy"] for j in range(i + 1)])
        print(f"  {name}: after {domain['domain']:>14}: " + " ".join(f"{x:.2f}" for x in matrix[-1]), flush=True)
    seconds = time.perf_counter() - started
    agent.close()
    return {"name": name, "matrix": matrix, "seconds": seconds, **summarize(matrix)}


def plot(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results:
        ax.plot(range(1, len(r["matrix"]) + 1), [sum(row) / len(row) for row in r["matrix"]], marker="o", label=r["name"])
    ax.set_xlabel("domains learned")
    ax.set_ylabel("mean accuracy on domains seen")
    ax.set_ylim(0, 1.02)
    ax.set_title("CLINC150 class-incremental (lifelong classify task)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 domains, 3 intents each, few examples: a smoke run")
    parser.add_argument("--train-per-intent", type=int, default=20)
    parser.add_argument("--test-per-intent", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--finetune", default="lora", choices=["lora", "full", "head"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, default=ROOT / "benchmarks" / "clinc150.png")
    args = parser.parse_args(argv)
    if not (DATA / "data_full.json").exists():
        raise SystemExit(f"CLINC150 not found at {DATA}")
    domains, intents = (2, 3) if args.quick else (10, None)
    if args.quick:
        args.train_per_intent, args.test_per_intent = 8, 5
    stream = load_stream(domains, intents, args.train_per_intent, args.test_per_intent, args.seed)
    total = sum(len(d["train"]) for d in stream)
    configs = [
        ("naive", "naive", 1),
        ("replay 1%", "replay", max(1, math.ceil(0.01 * total))),
        ("replay 5%", "replay", max(1, math.ceil(0.05 * total))),
        ("joint", "joint", 1),
    ]
    print(f"{len(stream)} domains, {total} training rows ({args.train_per_intent}/intent), "
          f"{sum(len(d['test']) for d in stream)} test rows, {args.epochs} epochs, {args.finetune}, seed {args.seed}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, strategy, size in configs:
            print(f"{name} (buffer {size})" if strategy == "replay" else name, flush=True)
            results.append(run(name, strategy, size, stream, args, Path(tmp)))
    print(f"\n{'strategy':12} {'ACC':>6} {'BWT':>7} {'forget':>7} {'wall s':>7} {'ACC/joint':>10}")
    joint = results[-1]["acc"]
    for r in results:
        print(f"{r['name']:12} {r['acc']:6.3f} {r['bwt']:7.3f} {r['forgetting']:7.3f} {r['seconds']:7.0f} {r['acc'] / joint:10.2f}")
    for r in results:
        print(f"\n{r['name']}: accuracy matrix (row: after domain i; column: domain j)")
        for row in r["matrix"]:
            print("  " + " ".join(f"{x:.2f}" for x in row))
    plot(results, args.plot)
    print(f"\nplot: {args.plot}")
    return results


if __name__ == "__main__":
    main()

"""Class-incremental intent learning on CLINC150: its 10 domains as 10 sequential tasks.

Each configuration starts from the same bundled all-MiniLM-L6-v2 and sees each domain's intents
only in its turn, through the public API (import a domain's training rows, learn with the gate on,
evaluate every domain seen so far). Heads compared, in one process:

- prototype and lda over the frozen encoder (the classify heads that do not forget), at 20, 10
  and 5 training rows per intent;
- lda whose encoder LoRA-adapts in the first cycle only (``finetune=lora``);
- linear (LoRA + a softmax head) with replay from a balanced buffer of 5 % of the stream;
- the upper bound: joint training of the linear head on every domain at once, in one cycle
  (the same model as the joint strategy's last cycle, trained once instead of ten times).

Prints ACC, BWT, wall time per cycle, in-scope accuracy and out-of-scope recall (CLINC150's
out-of-scope test rows) at each head's default threshold, next to the baseline; writes a plot.

Run: .venv/bin/python benchmarks/continual_clinc150.py [--quick] [--seed N] [--rows 20,10,5]
     [--heads-only] [--calibrate] [--plot FILE.png]
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
from lifelong.plugins.classify.task import DEFAULT_THRESHOLDS  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "clinc150"


def load_stream(domains: int, intents: int | None, train_per_intent: int, test_per_intent: int, seed: int):
    """The domains in an order drawn by ``seed``, each with its sampled training and test rows
    (the first n training rows of an intent are the rows used at n rows per intent)."""
    data = json.loads((DATA / "data_full.json").read_text())
    groups = json.loads((DATA / "domains.json").read_text())
    rng = random.Random(seed)
    names = list(groups)
    rng.shuffle(names)
    stream = []
    for name in names[:domains]:
        wanted = sorted(groups[name][:intents] if intents else groups[name])
        pick = lambda split, n: [  # noqa: E731
            {"text": t, "label": i} for intent in wanted for t, i in rng.sample([x for x in data[split] if x[1] == intent], n)]
        stream.append({"domain": name, "intents": wanted, "train": pick("train", train_per_intent),
                       "test": pick("test", test_per_intent), "val": pick("val", test_per_intent)})
    return stream, data


def first_rows(rows: list[dict], n: int) -> list[dict]:
    taken: dict[str, int] = {}
    kept = []
    for row in rows:
        taken[row["label"]] = taken.get(row["label"], 0) + 1
        if taken[row["label"]] <= n:
            kept.append(row)
    return kept


def new_agent(workdir: Path, name: str, args, buffer_size: int = 1, **options):
    agent = Agent.open(workdir / name.replace(" ", "_").replace("%", "pc").replace("+", ""))
    learning = agent.config.learning  # the gate stays on, as by default
    learning.holdout_fraction, learning.seed = 0.0, args.seed
    learning.buffer, learning.buffer_size, learning.replay_ratio = "balanced", buffer_size, 1.0
    options = {"threshold": 0.0, "epochs": args.epochs, "learning_rate": args.learning_rate, "batch_size": 32, **options}
    agent.add_task("intent", plugin="classify", **options)
    return agent


def out_of_scope(agent, stream, oos_rows) -> dict:
    """In-scope accuracy and out-of-scope recall at the head's default threshold."""
    settings = agent.task("intent").settings
    settings.threshold = DEFAULT_THRESHOLDS[settings.head]
    in_scope = agent.evaluate("intent", [r for d in stream for r in d["test"]])["accuracy"]
    recall = agent.evaluate("intent", [{"text": t, "label": "oos"} for t, _ in oos_rows])["accuracy"]
    settings.threshold = 0.0
    return {"in_scope": in_scope, "oos_recall": recall}


def calibrate(agent, stream, oos_val) -> None:
    """Sweep the threshold on the validation split: in-scope accuracy and out-of-scope recall.
    (Reads confidences through the task's own predictor, once, instead of once per threshold.)"""
    task = agent.task("intent")
    model, _ = task._serving_model()
    rows = [(r["text"], r["label"]) for d in stream for r in d["val"]] + [(t, "oos") for t, _ in oos_val]
    scored = task._predict(model, [t for t, _ in rows])
    print(f"  calibration on validation rows, head {task.settings.head}: threshold in-scope-acc oos-recall mean")
    for step in range(0, 20):
        threshold = step / 20
        right_in = [p == g and c >= threshold for (p, c), (_, g) in zip(scored, rows) if g != "oos"]
        right_out = [c < threshold for (_, c), (_, g) in zip(scored, rows) if g == "oos"]
        a, r = sum(right_in) / len(right_in), sum(right_out) / len(right_out)
        print(f"    {threshold:.2f} {a:.3f} {r:.3f} {(a + r) / 2:.3f}")


def run_stream(name: str, rows: int, stream, data, args, workdir: Path, strategy="replay", buffer_size=1, **options) -> dict:
    agent = new_agent(workdir, f"{name} {rows}", args, buffer_size, **options)
    matrix, seconds, refused = [], [], []
    for i, domain in enumerate(stream):
        agent.import_examples("intent", first_rows(domain["train"], rows))
        started = time.perf_counter()
        report = agent.learn(task="intent", strategy=strategy)
        seconds.append(time.perf_counter() - started)
        if not report.promoted:
            refused.append(f"cycle {i + 1}: {report.reason}")
        matrix.append([agent.evaluate("intent", stream[j]["test"])["accuracy"] for j in range(i + 1)])
        print(f"  {name} ({rows}/intent) after {domain['domain']:>14}: " + " ".join(f"{x:.2f}" for x in matrix[-1]), flush=True)
    for line in refused:
        print(f"  refused {line}")
    result = {"name": name, "rows": rows, "matrix": matrix, "seconds": sum(seconds), "per_cycle": sum(seconds) / len(seconds),
              "refused": len(refused), **summarize(matrix), **out_of_scope(agent, stream, data["oos_test"])}
    if args.calibrate:
        calibrate(agent, stream, data["oos_val"])
    agent.close()
    return result


def run_joint(rows: int, stream, data, args, workdir: Path) -> dict:
    """The upper bound: the linear head trained on every domain's rows at once."""
    agent = new_agent(workdir, f"joint {rows}", args, head="linear", epochs=args.joint_epochs)
    agent.import_examples("intent", [r for d in stream for r in first_rows(d["train"], rows)])
    started = time.perf_counter()
    agent.learn(task="intent")
    seconds = time.perf_counter() - started
    last = [agent.evaluate("intent", d["test"])["accuracy"] for d in stream]
    print(f"  joint linear ({rows}/intent): " + " ".join(f"{x:.2f}" for x in last), flush=True)
    result = {"name": "joint linear (bound)", "rows": rows, "matrix": [last], "seconds": seconds, "per_cycle": seconds,
              "refused": 0, "acc": sum(last) / len(last), "bwt": None, "forgetting": None,
              **out_of_scope(agent, stream, data["oos_test"])}
    agent.close()
    return result


def plot(results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    rows = max(r["rows"] for r in results)
    for r in results:
        if r["rows"] == rows and len(r["matrix"]) > 1:
            ax.plot(range(1, len(r["matrix"]) + 1), [sum(row) / len(row) for row in r["matrix"]], marker="o", label=r["name"])
        elif r["rows"] == rows:
            ax.axhline(r["acc"], linestyle="--", color="grey", label=r["name"])
    ax.set_xlabel("domains learned")
    ax.set_ylabel("mean accuracy on domains seen")
    ax.set_ylim(0, 1.02)
    ax.set_title(f"CLINC150 class-incremental, {rows} rows per intent (lifelong classify task)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def table(results) -> None:
    bound = {r["rows"]: r["acc"] for r in results if r["name"].startswith("joint")}
    print(f"{'head':24} {'rows':>4} {'ACC':>6} {'BWT':>7} {'forget':>7} {'s/cycle':>8} {'wall s':>7} "
          f"{'in-scope':>9} {'OOS rec':>8} {'refused':>7} {'ACC/joint':>10}")
    for r in results:
        bwt = "-" if r["bwt"] is None else f"{r['bwt']:.3f}"
        forget = "-" if r["forgetting"] is None else f"{r['forgetting']:.3f}"
        ratio = f"{r['acc'] / bound[r['rows']]:.3f}" if r["rows"] in bound else "-"
        print(f"{r['name']:24} {r['rows']:4} {r['acc']:6.3f} {bwt:>7} {forget:>7} {r['per_cycle']:8.1f} {r['seconds']:7.0f} "
              f"{r['in_scope']:9.3f} {r['oos_recall']:8.3f} {r['refused']:7} {ratio:>10}")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="2 domains, 3 intents each, few rows: a smoke run")
    parser.add_argument("--rows", default="20,10,5", help="training rows per intent, comma-separated")
    parser.add_argument("--test-per-intent", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--joint-epochs", type=int, default=5, help="epochs of the one-cycle joint bound")
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0, help="draws the domain order and the rows")
    parser.add_argument("--linear-rows", type=int, default=20, help="rows per intent of the LoRA + replay and lda + LoRA runs (0: none)")
    parser.add_argument("--heads-only", action="store_true",
                        help="only the prototype and lda heads: no linear-head run (the bound and LoRA + replay take most of the time)")
    parser.add_argument("--calibrate", action="store_true", help="print a threshold sweep on the validation split")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "images" / "clinc150.png")
    args = parser.parse_args(argv)
    if not (DATA / "data_full.json").exists():
        raise SystemExit(f"CLINC150 not found at {DATA}")
    counts = sorted({int(n) for n in args.rows.split(",")}, reverse=True)
    domains, intents = (10, None)
    if args.quick:
        domains, intents, counts, args.test_per_intent, args.linear_rows = 2, 3, [6], 5, 6
    stream, data = load_stream(domains, intents, max(counts), args.test_per_intent, args.seed)
    if args.quick:
        data = {**data, "oos_test": data["oos_test"][:20]}
    print(f"{len(stream)} domains in the order {', '.join(d['domain'] for d in stream)}; rows per intent {counts}; "
          f"{sum(len(d['test']) for d in stream)} test rows, {len(data['oos_test'])} out-of-scope test rows; "
          f"{args.epochs} epochs (joint bound {args.joint_epochs}); seed {args.seed}; gate on")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for rows in counts:
            runs = [] if args.heads_only else [lambda: run_joint(rows, stream, data, args, Path(tmp))]
            runs += [lambda head=head: run_stream(head, rows, stream, data, args, Path(tmp), head=head) for head in ("prototype", "lda")]
            if rows == args.linear_rows and not args.heads_only:
                buffer = max(1, math.ceil(0.05 * len(stream) * len(stream[0]["intents"]) * rows))
                runs.append(lambda: run_stream("linear LoRA + replay 5%", rows, stream, data, args, Path(tmp),
                                               buffer_size=buffer, head="linear"))
                runs.append(lambda: run_stream("lda + first-cycle LoRA", rows, stream, data, args, Path(tmp),
                                               head="lda", finetune="lora"))
            for run in runs:
                results.append(run())
                table(results)  # the figures so far, as soon as each run ends
    print("\nsummary")
    table(results)
    for r in results:
        print(f"\n{r['name']} ({r['rows']}/intent): accuracy matrix (row: after domain i; column: domain j)")
        for row in r["matrix"]:
            print("  " + " ".join(f"{x:.2f}" for x in row))
    plot(results, args.plot)
    print(f"\nplot: {args.plot}")
    return results


if __name__ == "__main__":
    main()

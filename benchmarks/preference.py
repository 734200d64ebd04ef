"""Learning a style from ratings and preferences alone, with the real bundled SmolLM2-135M-Instruct,
the gate ON.

Users never correct: they rate answers. Each training question (benchmarks/data/general_qa.jsonl,
the first --train) was answered in the good style ("In short: Athens.") and in two of three bad
ones (shouting, rambling, evasive: benchmarks/data/answer_styles.json); a user gave the good
answer +1 and the bad ones -1, or, for the DPO arm, picked the good answer over each bad one.
Three arms, one learning cycle each, in the same process:

- sft: today's behaviour, ``[learning] objective = "sft"``: the thumbs-up answers become
  supervised examples, the thumbs-down teach nothing;
- kto: the same ratings, ``objective = "kto"``: every rating, up and down, is learned by KTO;
- dpo: the same answers as preference pairs, ``objective = "dpo"``.

For each: the share of good-style answers (the model's own greedy answer starts with "In
short:") on the held-out questions (the next --heldout of the file) and on the trained ones,
before and after; the gate's behaviour probe (general questions the parent answered right and
the candidate still does) and probe perplexity, as the learning-safety gate measures them; and
the preference metrics of the run (the cycle's pairs ranked chosen-first before/after, reward
accuracy).

Run: .venv/bin/python benchmarks/preference.py [--train 12] [--heldout 12] [--arms sft kto dpo]
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

DATA = ROOT / "benchmarks" / "data"
QUESTIONS = [json.loads(line) for line in (DATA / "general_qa.jsonl").read_text().splitlines()]
STYLES = json.loads((DATA / "answer_styles.json").read_text())
GOOD_PREFIX = "in short:"


def answer_in(style: str, answer: str) -> str:
    return STYLES[style].format(answer=answer)


def rated_answers(index: int, row: dict) -> tuple[str, list[str]]:
    """The good answer and two of the three bad ones (a different two for each question)."""
    bad = [name for name in STYLES if name != "good"]
    left_out = bad[index % len(bad)]
    return answer_in("good", row["answers"][0]), [answer_in(b, row["answers"][0]) for b in bad if b != left_out]


def give_feedback(agent, arm: str, questions: list[dict]) -> None:
    """As users would: the agent gave these answers (logged as its own), and they were rated, or
    compared two at a time."""
    for i, row in enumerate(questions):
        good, bads = rated_answers(i, row)
        ids = {a: agent.log.log_interaction(task="chat", input=row["question"], output=a, model_version="base")
               for a in (good, *bads)}
        if arm == "dpo":
            for bad in bads:
                agent.prefer(ids[bad], chosen=good, rejected=bad)
        else:
            agent.feedback(ids[good], rating=1)
            for bad in bads:
                agent.feedback(ids[bad], rating=-1)


def good_style_share(agent, adapter, questions: list[dict]) -> float:
    task = agent.task("chat")
    answers = task._generate_batch(task._model(adapter), [task.messages(q["question"]) for q in questions], 24)
    return sum(a.strip().lower().startswith(GOOD_PREFIX) for a in answers) / len(questions)


def run(arm: str, train, heldout, workdir: Path) -> dict:
    agent = Agent.open(workdir)
    agent.config.learning.objective = arm
    # One paraphrase per question keeps a cycle to a few minutes on two cores.
    agent.config.tasks["chat"] = {"plugin": "chat", "paraphrases": 1}
    give_feedback(agent, arm, train)
    report = agent.learn()
    adapter = agent.versions.get(report.version)["adapter_path"]
    m = report.metrics
    result = {
        "held-out good style": good_style_share(agent, adapter, heldout),
        "trained good style": good_style_share(agent, adapter, train),
        "behaviour probe": f"{m['behaviour_right_before']}->{m['behaviour_right']}",
        "probe ppl": f"{m['probe_perplexity_before']:.1f}->{m['probe_perplexity']:.1f}",
        "pairs chosen first": f"{m.get('preference_accuracy_before', 0):.2f}->{m.get('preference_accuracy', 0):.2f}",
        "reward accuracy": m.get("reward_accuracy"),
        "trained items": " ".join(f"{k}:{v}" for k, v in sorted(m["objectives"].items())),
        "gate": "promoted" if report.promoted else "refused",
        "seconds": report.seconds,
        "reason": report.reason,
    }
    agent.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=int, default=12, help="questions whose answers are rated")
    parser.add_argument("--heldout", type=int, default=12, help="questions never rated, for the style share")
    parser.add_argument("--arms", nargs="+", default=["sft", "kto", "dpo"], choices=["sft", "kto", "dpo", "auto"])
    args = parser.parse_args()
    train, heldout = QUESTIONS[: args.train], QUESTIONS[args.train : args.train + args.heldout]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Agent.open(Path(tmp) / "base")
        results["base"] = {"held-out good style": good_style_share(base, None, heldout),
                           "trained good style": good_style_share(base, None, train)}
        base.close()
        for arm in args.arms:
            started = time.perf_counter()
            results[arm] = run(arm, train, heldout, Path(tmp) / arm)
            print(f"{arm}: done in {time.perf_counter() - started:.0f} s: {results[arm]}", flush=True)
    columns = list(results)
    print("\n" + f"{'':22}" + "".join(f"{c:>14}" for c in columns))
    for key in [k for k in results[columns[-1]] if k != "reason"]:
        cells = []
        for column in columns:
            value = results[column].get(key, "")
            cells.append(f"{value:>14.2f}" if isinstance(value, float) else f"{str(value)[:14]:>14}")
        print(f"{key:22}" + "".join(cells))
    for arm in args.arms:
        print(f"{arm}: {results[arm]['reason']}")


if __name__ == "__main__":
    main()

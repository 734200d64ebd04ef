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

For each: on the held-out questions (the next --heldout of the file), as a user is served
(``Agent.ask``, greedy), the share of answers in the good style (starting "In short:"), of right
answers (an accepted answer in it, as the behaviour probe judges) and of both, and the share the
adapter gave. A chat adapter answers the questions like those it was taught (``[tasks.chat]
adapter_scope``, default 0.7), and every question asked without sources when its cycle learned
from ratings or preferences and, so, it keeps the behaviour probe (chat/scope.py; "every
question" says which, and how many of the behaviour probe's questions the parent answered right
it lost with the adapter on every question); the base model answers the rest. The same at ``adapter_scope = 0``, where
any adapter answers everything; the good-style share on the rated questions; the gate's
behaviour probe (general questions the parent answered right and the candidate still does) and
probe perplexity; and the preference metrics of the run (the cycle's pairs ranked chosen-first
before/after, reward accuracy).

Run: .venv/bin/python benchmarks/preference.py [--train 12] [--heldout 12] [--paraphrases 1] [--arms sft kto dpo]
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
from lifelong.api import GenerationOptions  # noqa: E402
from lifelong.learning.behaviour import answered_right  # noqa: E402
from lifelong.plugins.chat import ChatOptions  # noqa: E402

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
        ids = {a: agent._log.log_interaction(task="chat", input=row["question"], output=a, model_version="base")
               for a in (good, *bads)}
        if arm == "dpo":
            for bad in bads:
                agent.prefer(ids[bad], chosen=good, rejected=bad)
        else:
            agent.feedback(ids[good], rating=1)
            for bad in bads:
                agent.feedback(ids[bad], rating=-1)


def served(agent, questions: list[dict], threshold: float) -> dict:
    """As a user is served (``Agent.ask``, greedy, 24 tokens) with ``[tasks.chat] adapter_scope =
    threshold``: the shares of answers in the good style, right (an accepted answer in it, as the
    behaviour probe judges), both, and given by the adapter (the rest are the base model's)."""
    agent.task("chat").settings.adapter_scope = threshold
    replies = [agent.ask(q["question"], retrieval=False, generation=GenerationOptions(max_tokens=24)) for q in questions]
    good = [r.answer.strip().lower().startswith(GOOD_PREFIX) for r in replies]
    right = [answered_right(r.answer, q["answers"]) for r, q in zip(replies, questions)]
    n = len(questions)
    return {"good": sum(good) / n, "right": sum(right) / n, "good and right": sum(g and r for g, r in zip(good, right)) / n,
            "by the adapter": sum(r.model_version != "base" for r in replies) / n}


def style_figures(agent, train, heldout) -> dict:
    default_scope = ChatOptions().adapter_scope
    held, unscoped = served(agent, heldout, default_scope), served(agent, heldout, 0)
    return {**{f"held-out {k}": v for k, v in held.items()},
            **{f"scope 0: held-out {k}": unscoped[k] for k in ("good", "right", "good and right")},
            "rated: good": served(agent, train, default_scope)["good"]}


def run(arm: str, train, heldout, workdir: Path, paraphrases: int) -> dict:
    agent = Agent.open(workdir)
    agent.config.learning.objective = arm
    agent.config.tasks["chat"] = {"plugin": "chat", "paraphrases": paraphrases}
    give_feedback(agent, arm, train)
    report = agent.learn()
    m = report.metrics
    result = {
        **style_figures(agent, train, heldout),
        "behaviour probe": f"{m['behaviour_right_before']}->{m['behaviour_right']}",
        "probe ppl": f"{m['probe_perplexity_before']:.1f}->{m['probe_perplexity']:.1f}",
        "pairs chosen first": f"{m.get('preference_accuracy_before', 0):.2f}->{m.get('preference_accuracy', 0):.2f}",
        "reward accuracy": m.get("reward_accuracy"),
        "trained items": " ".join(f"{k}:{v}" for k, v in sorted(m["objectives"].items())),
        "every question": m.get("answers_every_question"),
        "  probe lost on it": len(m.get("every_question_lost", [])),
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
    # One paraphrase per question (the default is 4) keeps a cycle to a few minutes on two cores.
    parser.add_argument("--paraphrases", type=int, default=1, help="rewordings each rated question is also trained under")
    parser.add_argument("--arms", nargs="+", default=["sft", "kto", "dpo"], choices=["sft", "kto", "dpo", "auto"])
    args = parser.parse_args()
    train, heldout = QUESTIONS[: args.train], QUESTIONS[args.train : args.train + args.heldout]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = Agent.open(Path(tmp) / "base")
        results["base"] = style_figures(base, train, heldout)
        base.close()
        for arm in args.arms:
            started = time.perf_counter()
            results[arm] = run(arm, train, heldout, Path(tmp) / arm, args.paraphrases)
            print(f"{arm}: done in {time.perf_counter() - started:.0f} s: {results[arm]}", flush=True)
    columns = list(results)
    print("\n" + f"{'':30}" + "".join(f"{c:>14}" for c in columns))
    for key in [k for k in results[columns[-1]] if k != "reason"]:
        cells = []
        for column in columns:
            value = results[column].get(key, "")
            cells.append(f"{value:>14.2f}" if isinstance(value, float) else f"{str(value)[:14]:>14}")
        print(f"{key:30}" + "".join(cells))
    for arm in args.arms:
        print(f"{arm}: {results[arm]['reason']}")


if __name__ == "__main__":
    main()

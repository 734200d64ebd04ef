"""Teaching facts by correction with the real bundled SmolLM2-135M-Instruct, the gate ON.

Scenario A: 20 facts about a fictional company taught as user corrections, one default
learning cycle. Scenario B: one correction, one cycle. Scenario C: 4 facts (as `make demo`
teaches). For each, the model's own answers as served (no retrieval, no correction lookup; the
adapter inside its scope, the base model outside) are scored on the taught questions, on
paraphrases the training never saw (two per fact, benchmarks/data/facts.jsonl), and on general
questions (benchmarks/data/general_qa.jsonl, not the package's behaviour probe) that the base
model answered right. Beside it, in the same process: ``unscoped``, today's recipe with the
adapter answering every question (adapter_scope = 0), and ``previous``, the first recipe: the
taught questions only (no paraphrases, no self-distillation), LoRA on every linear layer, 8
epochs, no behaviour probe in the gate, no scope.

It first prints the cosines the scope threshold sits between: each paraphrase to its own taught
question (the lowest), and each general or behaviour-probe question to its nearest taught one
(the highest).

Run: .venv/bin/python benchmarks/learn.py [--facts 20] [--recipes current unscoped previous]
     [--scenarios ABC] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402
from lifelong.learning.behaviour import answered_right, probe_questions  # noqa: E402

DATA = ROOT / "benchmarks" / "data"
FACTS = [json.loads(line) for line in (DATA / "facts.jsonl").read_text().splitlines()]
GENERAL = [json.loads(line) for line in (DATA / "general_qa.jsonl").read_text().splitlines()]


def configure(agent, recipe: str, seed: int) -> None:
    agent.config.learning.seed = seed
    if recipe == "unscoped":
        agent.config.tasks["chat"] = {"plugin": "chat", "adapter_scope": 0.0}
        agent._tasks.pop("chat", None)
    if recipe == "previous":
        training = agent.task("chat").settings
        training.epochs = 8
        training.lora_targets = "all-linear"
        agent.config.learning.behaviour_tolerance = 1.0  # the gate had no behaviour probe
        agent.config.tasks["chat"] = {"plugin": "chat", "paraphrases": 0, "self_distillation": 0.0, "adapter_scope": 0.0}
        agent._tasks.pop("chat", None)


def scope_margins(agent) -> str:
    """The cosines the default scope threshold has to separate (chat/scope.py)."""
    encode = agent.embedder.encode
    taught = [f for f in FACTS if f.get("paraphrases")]
    questions = encode([f["question"] for f in taught])
    rewordings = min(float((encode(f["paraphrases"]) @ q).min()) for f, q in zip(taught, questions))
    general = [g["question"] for g in GENERAL] + [p["question"] for p in probe_questions()]
    unrelated = float((encode(general) @ questions.T).max())
    return (f"scope: paraphrase to its taught question, lowest cosine {rewordings:.2f}; general or probe question "
            f"to the nearest taught one, highest {unrelated:.2f}; threshold {agent.task('chat').settings.adapter_scope}")


def teach(agent, facts) -> None:
    """As a user would: ask, then correct the answer."""
    for fact in facts:
        reply = agent.ask(fact["question"], retrieval=False)
        agent.feedback(reply.id, rating=-1, correction=fact["answer"])


def own_answers(agent, adapter, questions: list[str]) -> list[str]:
    """As served: the adapter answers the questions in its scope, the base model the rest."""
    task = agent.task("chat")
    return task._answer_batch(task._model(adapter), adapter, questions, 48)


def carries(answer: str, fact: str) -> bool:
    """The answer states the fact's value (a name, number, place...), whatever its wording."""
    return re.search(rf"(?<!\w){re.escape(fact.lower())}(?!\w)", answer.lower()) is not None


def recall(agent, adapter, facts, key) -> float:
    """Share of the questions (``key``: "question" or "paraphrases") answered with the fact."""
    asked = [(q, f) for f in facts for q in ([f[key]] if key == "question" else f.get(key, []))]
    answers = own_answers(agent, adapter, [q for q, _ in asked])
    return sum(carries(a, f["fact"]) for a, (_, f) in zip(answers, asked)) / len(asked)


def general_right(agent, adapter) -> list[bool]:
    answers = own_answers(agent, adapter, [g["question"] for g in GENERAL])
    return [answered_right(a, g["answers"]) for a, g in zip(answers, GENERAL)]


def run(recipe: str, facts, workdir: Path, base_general: list[bool], seed: int) -> dict:
    agent = Agent.open(workdir)
    configure(agent, recipe, seed)
    teach(agent, facts)
    report = agent.learn()
    adapter = agent.version(report.version, report.task)["adapter_path"]
    served = adapter if report.promoted else None
    after = general_right(agent, adapter)
    kept = sum(a for a, b in zip(after, base_general) if b) / max(1, sum(base_general))
    result = {
        "promoted": report.promoted, "reason": report.reason, "seconds": report.seconds,
        "candidate: taught": recall(agent, adapter, facts, "question"),
        "candidate: paraphrases": recall(agent, adapter, facts, "paraphrases"),
        "candidate: general kept": kept,
        "served: taught": recall(agent, served, facts, "question"),
        "served: paraphrases": recall(agent, served, facts, "paraphrases"),
        "probe ppl before/after": f"{report.metrics['probe_perplexity_before']:.1f}/{report.metrics['probe_perplexity']:.1f}",
        "behaviour probe before/after": f"{report.metrics['behaviour_right_before']}/{report.metrics['behaviour_right']}",
        "general lost": [g["question"] for g, a, b in zip(GENERAL, after, base_general) if b and not a],
    }
    agent.close()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facts", type=int, default=20, help="facts taught in scenario A (at most 20)")
    parser.add_argument("--recipes", nargs="+", default=["current", "unscoped", "previous"])
    parser.add_argument("--scenarios", default="ABC", help="A: 20 facts, B: one correction, C: 4 facts")
    parser.add_argument("--seed", type=int, default=0, help="learning.seed: orders batches, draws distilled prompts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        probe_agent = Agent.open(Path(tmp) / "base")
        base_general = general_right(probe_agent, None)
        base_taught = recall(probe_agent, None, FACTS[: args.facts], "question")
        print(scope_margins(probe_agent))
        probe_agent.close()
        print(f"base model: {sum(base_general)}/{len(GENERAL)} general questions right, taught-fact recall {base_taught:.2f}")
        results = {}
        scenarios = (("A: 20 facts", FACTS[: args.facts]), ("B: 1 correction", FACTS[5:6]), ("C: 4 facts", FACTS[:4]))
        for scenario, facts in (s for s in scenarios if s[0][0] in args.scenarios):
            for recipe in args.recipes:
                started = time.perf_counter()
                results[(scenario, recipe)] = run(recipe, facts, Path(tmp) / f"{scenario[0]}-{recipe}", base_general, args.seed)
                print(f"{scenario} / {recipe}: done in {time.perf_counter() - started:.0f} s: {results[(scenario, recipe)]}", flush=True)
    columns = list(results)
    print("\n" + f"{'':30}" + "".join(f"{s[:1] + '/' + r:>12}" for s, r in columns))
    for key in results[columns[0]]:
        if key == "general lost":
            continue
        cells = []
        for column in columns:
            value = results[column][key]
            cells.append(f"{value:>12.2f}" if isinstance(value, float) else f"{str(value)[:12]:>12}")
        print(f"{key:30}" + "".join(cells))
    for column, result in results.items():
        print(f"{column}: {result['reason']}; general questions lost: {result['general lost']}")


if __name__ == "__main__":
    main()

"""Answers over documents with the real bundled models: grounded, cited, and not made worse by
corrections or learning.

Knowledge base: examples/customer_support/docs (6 documents); questions with the fact each
answer must carry: benchmarks/data/kb_qa.jsonl (written for this benchmark).

1. Base model, no corrections: the default ``answer = "auto"`` path against the extractive path
   alone (the baseline) and the generator alone; an answer is right when it carries the fact,
   and cites correctly when every answer that has sources cites at least one and only existing ones.
2. Users correct the answers to every other question (short corrections, as users type them),
   then one default learning cycle with the gate on. The other half, never corrected, is asked
   again: end to end (auto, correction lookup on) and the generator's own answer from its
   sources, before and after (as served: the adapter inside its scope, the base model outside;
   and with the adapter answering every question), with retrieval-aware training
   (``learn_with_sources``) and without.
3. Follow-up questions that only make sense after the previous turn, in one conversation.

Run: .venv/bin/python benchmarks/answers.py [--skip-learning | --learning-only]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402

DOCS = ROOT / "examples" / "customer_support" / "docs"
QA = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "kb_qa.jsonl").read_text().splitlines()]
FOLLOW_UPS = [
    ("How much does the Fjord 2 tent cost?", "How much does it weigh?", "2.3 kg"),
    ("What does the Summit 40 backpack cost?", "And how much does it weigh?", "1.1 kg"),
    ("Do you ship to Norway?", "How long does that take?", "5 to 8 business days"),
    ("How long is the warranty on tents?", "And for sleeping bags?", "3-year"),
]


def ask_all(agent, questions, mode: str) -> list:
    agent.config.tasks["chat"] = {**agent.config.task_options("chat"), "answer": mode}
    agent._tasks.pop("chat", None)
    return [agent.ask(q) for q in questions]


def right(agent, replies, items) -> float:
    task = agent.task("chat")
    return sum(task.score(r.answer, i["answer"], i["question"]) for r, i in zip(replies, items)) / len(items)


def cites_correctly(replies) -> float:
    ok = 0
    for r in replies:
        cited = [int(n) for n in re.findall(r"\[(\d+)\]", r.answer)]
        ok += (bool(cited) and all(1 <= n <= len(r.sources) for n in cited)) if r.sources else not cited
    return ok / len(replies)


def generator_from_sources(agent, adapter, items, scoped: bool = True) -> float:
    """The generator's own answers given the sources it would see (no check, no fallback); the
    adapter answers the questions in its scope, the base model the rest, as served (``scoped``),
    or the adapter answers every one."""
    task = agent.task("chat")
    questions = [i["question"] for i in items]
    prompts = [task.messages(q, task.ground(q, agent.search(q)).evidence) for q in questions]
    model = task._model(adapter)
    answers = (task._answer_batch(model, adapter, questions, 48, prompts) if scoped
               else task._generate_batch(model, prompts, 48))
    return sum(task.score(a, i["answer"], i["question"]) for a, i in zip(answers, items)) / len(items)


def base_answers(workdir: Path) -> None:
    agent = Agent.open(workdir)
    agent.ingest([DOCS])
    questions = [i["question"] for i in QA]
    print(f"1. {len(QA)} questions over {len(agent.retriever.documents())} documents, base model, no corrections")
    print(f"   {'path':10} {'right':>7} {'cites ok':>9} {'s/question':>11}")
    for mode in ("auto", "extract", "generate"):
        started = time.perf_counter()
        replies = ask_all(agent, questions, mode)
        seconds = (time.perf_counter() - started) / len(QA)
        paths = {}
        for r in replies:
            paths[r.answered_by] = paths.get(r.answered_by, 0) + 1
        print(f"   {mode:10} {right(agent, replies, QA):>7.2f} {cites_correctly(replies):>9.2f} {seconds:>11.2f}   answered by {paths}")
    agent.close()


def learning(workdir: Path, with_sources: bool) -> dict:
    agent = Agent.open(workdir)
    agent.config.tasks["chat"] = {"plugin": "chat", "learn_with_sources": with_sources}
    agent.ingest([DOCS])
    corrected, other = QA[0::2], QA[1::2]
    before_auto = right(agent, ask_all(agent, [i["question"] for i in other], "auto"), other)
    before_gen = generator_from_sources(agent, None, other)
    for item in corrected:
        reply = agent.ask(item["question"])
        agent.feedback(reply.id, rating=-1, correction=item["answer"][0].upper() + item["answer"][1:] + ".")
    report = agent.learn()
    adapter = agent.version(report.version, report.task)["adapter_path"]
    after_auto = right(agent, ask_all(agent, [i["question"] for i in other], "auto"), other)
    corrected_auto = right(agent, ask_all(agent, [i["question"] for i in corrected], "auto"), corrected)
    result = {
        "promoted": report.promoted, "reason": report.reason, "seconds": report.seconds,
        "other half, auto, before": before_auto, "other half, auto, after": after_auto,
        "other half, generator, before": before_gen,
        "other half, generator, served": generator_from_sources(agent, adapter, other),
        "other half, generator, adapter on all": generator_from_sources(agent, adapter, other, scoped=False),
        "corrected half, auto, after": corrected_auto,
    }
    agent.close()
    return result


def follow_ups(workdir: Path) -> None:
    agent = Agent.open(workdir)
    task = agent.task("chat")
    ok_with, ok_alone = 0, 0
    for first, second, fact in FOLLOW_UPS:
        conversation = agent.conversation()
        conversation.ask(first)
        reply = conversation.ask(second)
        alone = agent.ask(second)
        ok_with += task.score(reply.answer, fact, second)
        ok_alone += task.score(alone.answer, fact, second)
        print(f"   {first} / {second}\n     in the conversation: {reply.answer[:100]}\n     asked alone:         {alone.answer[:100]}")
    print(f"   follow-ups answered right: {ok_with:.0f}/{len(FOLLOW_UPS)} in the conversation, {ok_alone:.0f}/{len(FOLLOW_UPS)} asked alone")
    agent.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-learning", action="store_true", help="parts 1 and 3 only")
    parser.add_argument("--learning-only", action="store_true", help="part 2 only")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        if not args.learning_only:
            base_answers(tmp / "base")
            print("\n3. Follow-up questions")
            follow_ups(tmp / "base")
        if args.skip_learning:
            return
        print("\n2. Corrections of half of the questions, one default cycle (gate on)")
        results = {name: learning(tmp / name, name == "with sources") for name in ("with sources", "without sources")}
        print(f"   {'':34}" + "".join(f"{name:>17}" for name in results))
        for key in next(iter(results.values())):
            cells = "".join(f"{v:>17.2f}" if isinstance(v, float) else f"{str(v)[:16]:>17}" for v in (r[key] for r in results.values()))
            print(f"   {key:34}{cells}")
        for name, result in results.items():
            print(f"   {name}: {result['reason']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

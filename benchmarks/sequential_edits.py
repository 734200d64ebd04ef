"""Many corrections in a row, as the model-editing literature measures them (WISE, GRACE: T
sequential edits), with the real bundled SmolLM2-135M-Instruct, default settings, gate ON.

T = cycles x facts per cycle fictional facts (made up here from a seed: people who do not exist,
with a colour, a city, a job, an age and a pet), each taught as a user does (ask, then correct),
one `Agent.learn()` per cycle. Each fact has 2 rewordings never trained on. After the last cycle:

- reliability: the taught questions answered with the fact;
- generalisation: the rewordings answered with the fact;
- locality: the general questions of benchmarks/data/general_qa.jsonl that the base model
  answered right, still answered right;

for the answers as served (``Agent.ask``, retrieval off: the correction lookup first, then the
model) and for the model's own answers (no lookup: the adapter inside its scope, the base model
outside). At T = 0 and after every cycle: the cycle's seconds, a short ``ask``'s median latency,
the adapter chain's depth, the scope's size, the database's size and the process's resident
memory: what grows with T.

Reference (LLaMA-2-7B, zsRE, T = 1000): WISE 0.77 / 0.72 / 1.00, GRACE 0.93 / 0.08 / 1.00.

Run: .venv/bin/python benchmarks/sequential_edits.py [--cycles 50] [--per-cycle 20] [--seed 0] [--score-at 100,500]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from learn import GENERAL, own_answers  # noqa: E402

from lifelong import Agent  # noqa: E402
from lifelong.learning.behaviour import answered_right  # noqa: E402
from lifelong.plugins.chat import scope  # noqa: E402

SYLLABLES = "ka lo mi ra ven tor sal quin dar el bri mo zan fey lun tho rix ga pel su".split()
COLOURS = "teal crimson amber violet ochre indigo scarlet olive magenta cobalt".split()
CITIES = "Tromso Valparaiso Kraków Nagoya Bergen Porto Hobart Tartu Lviv Quito".split()
JOBS = "beekeeper glassblower cartographer luthier farrier archivist cooper falconer".split()
PETS = "Pickle Juniper Waffles Pepper Marmalade Noodle Clementine Biscotti".split()
TEMPLATES = (
    ("What is the favourite colour of {n}?", "{n}'s favourite colour is {v}.", COLOURS,
     ("Which colour does {n} like best?", "What colour does {n} prefer?")),
    ("In which city does {n} live?", "{n} lives in {v}.", CITIES, ("Where does {n} live?", "What city is {n}'s home?")),
    ("What is {n}'s job?", "{n} works as a {v}.", JOBS, ("What does {n} do for a living?", "What is the occupation of {n}?")),
    ("How old is {n}?", "{n} is {v} years old.", [str(a) for a in range(23, 90)], ("What is {n}'s age?", "What age is {n}?")),
    ("What is the name of {n}'s pet?", "{n}'s pet is called {v}.", PETS, ("What is {n}'s pet called?", "What do {n}'s family call their pet?")),
)


def make_facts(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    names = set()
    while len(names) * len(TEMPLATES) < count:
        names.add(" ".join("".join(rng.sample(SYLLABLES, 2)).capitalize() for _ in range(2)))
    facts = []
    for name in sorted(names):
        for question, answer, values, rewordings in TEMPLATES:
            value = rng.choice(values)
            facts.append({"question": question.format(n=name), "answer": answer.format(n=name, v=value), "fact": value,
                          "paraphrases": [r.format(n=name) for r in rewordings]})
    rng.shuffle(facts)
    return facts[:count]


def carries(answer: str, fact: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(fact.lower())}(?!\w)", answer.lower()) is not None


def scores(agent, facts, base_general, served: bool) -> tuple[float, float, float]:
    taught = [f["question"] for f in facts]
    reworded = [(q, f) for f in facts for q in f["paraphrases"]]
    general = [g["question"] for g in GENERAL]
    if served:
        def answer(questions):
            return [agent.ask(q, retrieval=False).answer for q in questions]
    else:
        active = agent._versions.serving("chat")

        def answer(questions):
            return own_answers(agent, active["adapter_path"] if active else None, questions)
    reliability = sum(carries(a, f["fact"]) for a, f in zip(answer(taught), facts)) / len(facts)
    generalisation = sum(carries(a, f["fact"]) for a, (_, f) in zip(answer([q for q, _ in reworded]), reworded)) / len(reworded)
    kept = [answered_right(a, g["answers"]) for a, g in zip(answer(general), GENERAL)]
    locality = sum(k for k, b in zip(kept, base_general) if b) / max(1, sum(base_general))
    return reliability, generalisation, locality


def ask_latency(agent) -> float:
    def timed():
        started = time.perf_counter()
        agent.ask("What is the capital of France?", retrieval=False)
        return time.perf_counter() - started
    return statistics.median(timed() for _ in range(5))


def growth(agent, workdir: Path) -> dict:
    active = agent._versions.serving("chat")
    depth, version = 0, active
    while version is not None:
        depth += 1
        version = agent._versions.by_id(version["parent_id"]) if version["parent_id"] else None
    vectors = scope.load(active["adapter_path"]) if active else None
    return {"chain depth": depth, "scope vectors": 0 if vectors is None else len(vectors),
            # The write-ahead log holds recent writes until a checkpoint: counted with the file.
            "database MB": round(sum(p.stat().st_size for p in workdir.glob("lifelong.db*")) / 1e6, 2),
            "process MB": round(psutil.Process().memory_info().rss / 1e6),
            # The machine's state as each line is printed, not only at the start.
            "load": round(os.getloadavg()[0], 2)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--per-cycle", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--score-at", default="", help="Also score after these T, comma-separated (e.g. 100,200)")
    args = parser.parse_args()
    score_at = {int(t) for t in args.score_at.split(",") if t.strip()}
    facts = make_facts(args.cycles * args.per_cycle, args.seed)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (1 min) at the start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / "edits"
        agent = Agent.open(workdir)
        base_general = [answered_right(a, g["answers"]) for a, g in zip(own_answers(agent, None, [g["question"] for g in GENERAL]), GENERAL)]
        print(f"T=0: ask {ask_latency(agent):.2f} s, {growth(agent, workdir)}; base model answers "
              f"{sum(base_general)}/{len(GENERAL)} general questions right", flush=True)
        taught = []
        for cycle in range(args.cycles):
            batch = facts[cycle * args.per_cycle : (cycle + 1) * args.per_cycle]
            for fact in batch:
                reply = agent.ask(fact["question"], retrieval=False)
                agent.feedback(reply.id, rating=-1, correction=fact["answer"])
            started = time.perf_counter()
            report = agent.learn()
            seconds = time.perf_counter() - started
            taught += batch
            print(f"T={len(taught)}: cycle {seconds:.0f} s ({report.new_examples} new + {report.replayed_examples} replayed, "
                  f"{'promoted' if report.promoted else 'refused: ' + report.reason}), ask {ask_latency(agent):.2f} s, "
                  f"{growth(agent, workdir)}", flush=True)
            if len(taught) in score_at or cycle == args.cycles - 1:
                report_scores(agent, taught, base_general)
        agent.close()


def report_scores(agent, taught, base_general):
    for served in (True, False):
        started = time.perf_counter()
        r, g, l = scores(agent, taught, base_general, served)
        print(f"T={len(taught)} {'as served' if served else 'own answers'}: reliability {r:.2f}, "
              f"generalisation {g:.2f}, locality {l:.2f} (scored in {time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()

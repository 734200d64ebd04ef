"""What a learning cycle costs a user, with the real bundled SmolLM2-135M-Instruct, default
settings, the gate ON: one correction, and 20 facts (benchmarks/data/facts.jsonl), each taught as
a user does (ask, then correct), one `Agent.learn()` per workspace. Side by side in one process:

- ``before``: the recipe before learning cost was worked on: 40 distilled prompts at least, and
  everything the starting model gives computed in the cycle (nothing kept). It does not redo the
  second model load the candidate's assessment used to make: slightly kind to the old recipe.
- ``cold``: today's recipe on a machine that has never run a cycle (empty artefact cache).
- ``warm``: today's recipe once any workspace of the user has run a cycle on the same base model:
  what every later cycle gets (its first in a new workspace included).
- ``busy``: ``warm`` with two other processes keeping both cores busy (each a torch matrix
  product loop with torch's default threads, 2: four runnable threads besides the cycle's);
  ``[learning] threads`` left at 0 (the free cores: it finds none and uses 1), and (``busy2``)
  forced to 2 for comparison. ``busy1``: two single-threaded busy processes instead.

For each: the cycle's seconds, the part of it outside training (progress events), and the
model's own answers as served (no retrieval, no correction lookup): taught questions, unseen
rewordings, and the general questions the base model answered right. Then `ask` latency while a
cycle runs in the background (`learn_in_background`, lower priority), against idle, as medians.

Prints the machine's load before it starts. Run: .venv/bin/python benchmarks/learn_cost.py
[--scenarios BA] [--arms before cold warm busy busy2 busy1] [--no-ask]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from learn import FACTS, GENERAL, general_right, recall  # noqa: E402

from lifelong import Agent  # noqa: E402
from lifelong.plugins.chat import training  # noqa: E402

BUSY_LOOP = ("import time, torch\na = torch.randn(512, 512)\nend = time.time() + {seconds}\n"
             "while time.time() < end:\n    a @ a\n")
SINGLE_THREAD_LOOP = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    sum(range(1000))\n"


class Timeline:
    """The progress interface a cycle reports to (rich's add_task/update), recording when the
    training step began and ended, and when each phase began."""

    def __init__(self):
        self.training = None  # [start, end]
        self._current = None
        self.phases = []  # (description, start)

    def add_task(self, description, total=None, **_):
        self._current = description
        self.phases.append((description, time.perf_counter()))
        if description.startswith("training"):
            self.training = [time.perf_counter(), time.perf_counter()]
        return 0

    def update(self, task_id, advance=0, description=None, **_):
        if self.training is not None and (description or self._current).startswith("training"):
            self.training[1] = time.perf_counter()

    def phase_seconds(self, end: float) -> str:
        """Each phase's seconds, up to the next phase or ``end``."""
        ends = [start for _, start in self.phases[1:]] + [end]
        return ", ".join(f"{d.split(':')[0][:30]} {e - s:.1f}" for (d, s), e in zip(self.phases, ends))

    @property
    def training_seconds(self) -> float:
        return self.training[1] - self.training[0] if self.training else 0.0


def busy_processes(n: int, seconds: float, loop: str = BUSY_LOOP) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-c", loop.format(seconds=seconds)]) for _ in range(n)]


def one_cycle(workdir: Path, facts, cache: Path, min_distillation: int, threads: int = 0, busy: int = 0,
              loop: str = BUSY_LOOP) -> dict:
    os.environ["LIFELONG_ARTEFACT_CACHE"] = str(cache)
    training.MIN_DISTILLATION = min_distillation
    agent = Agent.open(workdir)
    agent.config.learning.threads = threads
    for fact in facts:
        reply = agent.ask(fact["question"], retrieval=False)
        agent.feedback(reply.id, rating=-1, correction=fact["answer"])
    others = busy_processes(busy, 3600, loop) if busy else []
    timeline = Timeline()
    try:
        time.sleep(2.0 if busy else 0.0)  # the busy processes are running before the cycle starts
        started = time.perf_counter()
        report = agent.learn(progress=timeline)
        ended = time.perf_counter()
        seconds = ended - started
    finally:
        for p in others:
            p.kill()
    adapter = agent.version(report.version, "chat")["adapter_path"]
    served = adapter if report.promoted else None
    result = {"seconds": seconds, "outside training": seconds - timeline.training_seconds,
              "promoted": report.promoted, "taught": recall(agent, served, facts, "question"),
              "paraphrases": recall(agent, served, facts, "paraphrases"),
              "ppl before/after": f"{report.metrics['probe_perplexity_before']:.1f}/{report.metrics['probe_perplexity']:.1f}",
              "reason": report.reason, "phases": timeline.phase_seconds(ended)}
    after = general_right(agent, served)
    result["general kept"] = sum(a for a, b in zip(after, BASE_GENERAL) if b) / max(1, sum(BASE_GENERAL))
    agent.close()
    return result


def ask_latency(tmp: Path, cache: Path) -> tuple[float, float, int]:
    """Median seconds of a short `ask` idle, and while a 20-fact cycle runs in the background."""
    os.environ["LIFELONG_ARTEFACT_CACHE"] = str(cache)
    agent = Agent.open(tmp / "ask")
    question = "What is the capital of France?"

    def timed():
        started = time.perf_counter()
        agent.ask(question, retrieval=False)
        return time.perf_counter() - started

    timed()  # load
    idle = [timed() for _ in range(5)]
    for fact in FACTS[:20]:
        reply = agent.ask(fact["question"], retrieval=False)
        agent.feedback(reply.id, rating=-1, correction=fact["answer"])
    handle = agent.learn_in_background("chat", every=3600, min_new=1)
    time.sleep(10)  # the cycle is under way
    during = []
    while handle.reports == [] and len(during) < 40:
        during.append(timed())
    handle.stop()
    agent.close()
    return statistics.median(idle), statistics.median(during), len(during)


def main():
    global BASE_GENERAL
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", default="BA", help="B: one correction, A: 20 facts")
    parser.add_argument("--arms", nargs="+", default=["before", "cold", "warm", "busy", "busy2"])
    parser.add_argument("--no-ask", action="store_true", help="leave out ask latency during a cycle")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} "
          f"(1 / 5 min) before the benchmark", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["LIFELONG_ARTEFACT_CACHE"] = str(tmp / "cache-probe")
        probe = Agent.open(tmp / "base")
        BASE_GENERAL = general_right(probe, None)
        probe.close()
        results = {}
        scenarios = {"B": ("1 correction", FACTS[5:6]), "A": ("20 facts", FACTS[:20])}
        # Per scenario: "cold" fills its cache, the later arms find it (as the next cycle would).
        arms = {
            "before": lambda d, f, cache: one_cycle(d, f, d / "cache", 40),
            "cold": lambda d, f, cache: one_cycle(d, f, cache, 8),
            "warm": lambda d, f, cache: one_cycle(d, f, cache, 8),
            "busy": lambda d, f, cache: one_cycle(d, f, cache, 8, busy=2),
            "busy2": lambda d, f, cache: one_cycle(d, f, cache, 8, threads=2, busy=2),
            "busy1": lambda d, f, cache: one_cycle(d, f, cache, 8, busy=2, loop=SINGLE_THREAD_LOOP),
        }
        for key in args.scenarios:
            name, facts = scenarios[key]
            for arm in args.arms:
                results[(name, arm)] = arms[arm](tmp / f"{key}-{arm}", facts, tmp / f"cache-{key}")
                print(f"{name} / {arm}: {results[(name, arm)]}", flush=True)
        print(f"\n{'':26}" + "".join(f"{n[:8] + '/' + a:>18}" for n, a in results))
        for field in ("seconds", "outside training", "taught", "paraphrases", "general kept", "promoted", "ppl before/after"):
            cells = [results[c][field] for c in results]
            print(f"{field:26}" + "".join(f"{c:>18.2f}" if isinstance(c, float) else f"{str(c):>18}" for c in cells))
        for key in args.scenarios:
            name = scenarios[key][0]
            r = {a: results.get((name, a)) for a in args.arms}
            if r.get("before") and r.get("warm"):
                print(f"{name}: warm / before {r['warm']['seconds'] / r['before']['seconds']:.2f}x the time")
            if r.get("cold") and r.get("warm"):
                print(f"{name}: outside training, warm / cold {r['warm']['outside training'] / r['cold']['outside training']:.2f}x")
            for busy in ("busy", "busy2", "busy1"):
                if r.get(busy) and r.get("warm"):
                    print(f"{name}: {busy} / quiet {r[busy]['seconds'] / r['warm']['seconds']:.2f}x the time")
        if not args.no_ask:
            idle, during, n = ask_latency(tmp, tmp / "cache-A")
            print(f"ask latency, median: idle {idle:.2f} s, during a background cycle {during:.2f} s ({n} asks): "
                  f"{during / idle:.2f}x")


if __name__ == "__main__":
    main()

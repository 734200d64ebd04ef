"""What the correction lookup costs an ``ask`` as corrections accumulate: T = 10, 100, 1000
corrections (the made-up facts of benchmarks/sequential_edits.py), the bundled MiniLM embedder,
no documents. Each question is looked up 20 times once its corrections are encoded (median,
milliseconds): one asked as it was corrected, one reworded (the path that reads answerability),
one about nothing taught. The question's own embedding (one MiniLM pass, the same at any T, and
noisy on a busy machine) is computed once and left out of the times: what is timed is what
grows with T.

Baseline, in the same process: the lookup as it was, reading the answerability of every
correction for a reworded question (``CANDIDATES`` set to T); today it reads the nearest
``CANDIDATES`` by cosine, and the cosines of all of them are one matrix product.

Run: .venv/bin/python benchmarks/correction_lookup.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sequential_edits import make_facts  # noqa: E402

from lifelong import Agent  # noqa: E402
from lifelong.memory.examples import ExampleStore  # noqa: E402
from lifelong.plugins.chat import corrections  # noqa: E402

REPEATS = 20


def median_ms(memory, question: str) -> tuple[float, bool]:
    found = memory.match("chat", question)  # encodes what is new
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        memory.match("chat", question)
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times), found is not None


def encoding_each_question_once(embedder):
    encode, seen = embedder.encode, {}

    def encode_once(texts):
        if len(texts) != 1:  # the corrections, encoded once each by the lookup itself
            return encode(texts)
        if texts[0] not in seen:
            seen[texts[0]] = encode(texts)
        return seen[texts[0]]
    embedder.encode = encode_once


def main():
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    facts = make_facts(1000, seed=0)
    questions = {"asked as corrected": facts[0]["question"], "reworded": facts[0]["paraphrases"][0],
                 "nothing taught": "What is the capital of France?"}
    with tempfile.TemporaryDirectory() as tmp:
        agent = Agent.open(Path(tmp) / "ws")
        store, added = ExampleStore(agent._db), 0
        memory = corrections.CorrectionMemory(agent)
        encoding_each_question_once(agent.embedder)
        print(f"{'T':>5}  {'question':<20} {'today ms':>9} {'every correction ms':>20} {'ratio':>6}  found")
        for t in (10, 100, 1000):
            for fact in facts[added:t]:
                store.add("chat", fact["question"], fact["answer"], "correction", "train")
            added = t
            for kind, question in questions.items():
                today, found = median_ms(memory, question)
                corrections.CANDIDATES, kept = t, corrections.CANDIDATES
                try:
                    before, found_before = median_ms(memory, question)
                finally:
                    corrections.CANDIDATES = kept
                same = "same" if found == found_before else "DIFFERS"
                print(f"{t:>5}  {kind:<20} {today:>9.2f} {before:>20.2f} {before / today:>6.1f}  {found} ({same})")
        agent.close()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()

"""Agent latency against calling model.generate directly on the same prompt.

(1) Cold start: a fresh process opening a workspace and answering one question, against a fresh
process loading the same (cached, de-quantised) weights with transformers and generating.
(2) Warm Agent.ask, 64 new tokens, with and without retrieval, against model.generate on the
exact prompt the agent built (same tokens in, same tokens out): p50/p95 and the overhead ratio.

Run: .venv/bin/python benchmarks/agent.py [--repeats 10]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lifelong import Agent  # noqa: E402

QUESTIONS = [
    "When is the store open on Saturday?", "Do you ship to Norway?", "How long is the tent warranty?",
    "How do I earn loyalty points?", "Can I return a final sale item?", "How much is express shipping?",
]
NEW_TOKENS = 64


def cold(workspace: Path, source: str) -> tuple[float, float]:
    agent_code = (f"from lifelong import Agent; a = Agent.open({str(workspace)!r}); "
                  f"a.config.generation.max_new_tokens = {NEW_TOKENS}; a.ask('Do you ship to Norway?')")
    raw_code = (
        "import torch; from transformers import AutoModelForCausalLM, AutoTokenizer; "
        f"t = AutoTokenizer.from_pretrained({source!r}); m = AutoModelForCausalLM.from_pretrained({source!r}, dtype=torch.float32); "
        "e = t.apply_chat_template([{'role': 'user', 'content': 'Do you ship to Norway?'}], add_generation_prompt=True, return_dict=True, return_tensors='pt'); "
        f"m.generate(**e, max_new_tokens={NEW_TOKENS}, do_sample=False)"
    )
    times = {}
    for name, code in (("agent", agent_code), ("raw", raw_code)):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times[name] = time.perf_counter() - start
    return times["agent"], times["raw"]


def warm(agent: Agent, retrieval: bool, repeats: int):
    task, gen = agent.task("chat"), agent.generator
    agent_ms, raw_ms, tokens = [], [], []
    for i in range(repeats):
        question = QUESTIONS[i % len(QUESTIONS)] + f" ({i})"  # distinct: nothing cached
        hits = agent.search(question, k=agent.config.retrieval.top_k) if retrieval else []
        messages, _ = task.fit(question, hits)
        inputs = gen.encode_chat(messages)
        start = time.perf_counter()
        with torch.inference_mode():
            out = gen.model.generate(**inputs, max_new_tokens=NEW_TOKENS, do_sample=False, pad_token_id=gen.tokenizer.pad_token_id)
        raw_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        reply = agent.ask(question, retrieval=retrieval)
        agent_ms.append((time.perf_counter() - start) * 1000)
        n_raw = out.shape[1] - inputs["input_ids"].shape[1]
        n_agent = agent.interaction(reply.id)["completion_tokens"]
        assert n_raw == n_agent, (n_raw, n_agent)
        tokens.append(n_agent)
    return agent_ms, raw_ms, tokens


def pct(values, q):
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        agent = Agent.open(workspace)
        agent.config.generation.max_new_tokens = NEW_TOKENS
        agent.ingest([ROOT / "examples" / "customer_support" / "docs"])
        agent.ask("warm-up", retrieval=False)
        source = agent.generator.source
        print(f"SmolLM2-135M-Instruct, {NEW_TOKENS} new tokens max, greedy, {torch.get_num_threads()} threads")
        print(f"\n(2) warm ask, {args.repeats} questions each (ms)")
        print(f"    {'':16} {'agent p50':>10} {'agent p95':>10} {'raw p50':>9} {'raw p95':>9} {'ratio p50':>10} {'tokens/s':>9}")
        for retrieval in (False, True):
            agent_ms, raw_ms, tokens = warm(agent, retrieval, args.repeats)
            ratios = [a / r for a, r in zip(agent_ms, raw_ms)]
            rate = sum(tokens) / (sum(agent_ms) / 1000)
            label = "with retrieval" if retrieval else "no retrieval"
            print(f"    {label:16} {pct(agent_ms, 50):10.0f} {pct(agent_ms, 95):10.0f} {pct(raw_ms, 50):9.0f} "
                  f"{pct(raw_ms, 95):9.0f} {statistics.median(ratios):10.2f} {rate:9.1f}")
        agent.close()
        runs = [cold(workspace, source) for _ in range(3)]
        agent_s, raw_s = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
        print(f"\n(1) cold start to first answer (median of 3 fresh processes, cached weights)")
        print(f"    agent: {agent_s:.1f} s   raw transformers: {raw_s:.1f} s   ratio {agent_s / raw_s:.2f}")


if __name__ == "__main__":
    main()

"""The training loop on accelerate (lifelong/learning/loop.py) against the hand-written loop it
replaced, and one learning cycle in 1 against 2 processes, side by side in one process.

1. Loop: the chat task's training examples (taught facts with their paraphrases, and soft
   self-distillation items with their teacher distributions) are trained by both loops on
   fresh copies of the same base model, alternately, ``--repeats`` times; the medians and
   their ratio are printed. The baseline is the previous ``causal_lm.train`` loop, copied
   below unchanged but for its name.
2. Processes: the same learning cycle (same workspace content, same seed) run by
   ``Agent.learn(processes=1)`` and ``processes=2``: wall time of the whole cycle (training,
   then the gate in the launching process), and whether the two adapters agree.

Run: .venv/bin/python benchmarks/learn_loop.py [--model smollm2|tiny] [--facts 10] [--epochs 1] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from lifelong import Agent  # noqa: E402
from lifelong.learning import causal_lm  # noqa: E402
from lifelong.learning.causal_lm import attach_teacher, batch_loss, features, length_grouped_batches, trainable_model  # noqa: E402

FACTS = [json.loads(line) for line in (ROOT / "benchmarks" / "data" / "facts.jsonl").read_text().splitlines()]


def previous_loop(base, tokenizer, examples, parent_path, config, seed, system_prompt, penalty=None, progress=None):
    """causal_lm.train before the accelerate loop (git: lifelong/learning/causal_lm.py at 504558e)."""
    rng = random.Random(seed)
    torch.manual_seed(seed)
    items = [features(tokenizer, system_prompt, e) for e in examples]
    steps_per_epoch = math.ceil(len(items) / config.batch_size)
    model = trainable_model(base, parent_path, config, steps_per_epoch * config.epochs)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    attach_teacher(model, items, pad_id, config.batch_size)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.0)
    step = 0
    for epoch in range(config.epochs):
        for batch in length_grouped_batches(items, config.batch_size, rng):
            loss = batch_loss(model, batch, pad_id)
            if penalty is not None:
                loss = loss + penalty(model)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            if config.peft == "adalora":
                model.base_model.update_and_allocate(step)
            optimizer.zero_grad()
            step += 1
    model.eval()
    return model


def workspace(path: Path, model: str, epochs: int) -> Path:
    path.mkdir(parents=True)
    models = '[plugins]\nmodules = ["lifelong.testing.tiny_models"]\n[models]\ngenerator = "tiny-llm"\nembedder = "tiny-embedder"\n' if model == "tiny" else ""
    (path / "lifelong.toml").write_text(models + f"[learning]\ngate = false\n[tasks.chat]\nplugin = \"chat\"\nepochs = {epochs}\n")
    return path


def compare_loops(args, tmp: Path) -> None:
    agent = Agent.open(workspace(tmp / "loops", args.model, args.epochs))
    task, options = agent.task("chat"), agent.task("chat").settings
    examples = [{"input": f["question"], "target": f["answer"]} for f in FACTS[: args.facts]]
    items = task.training_items(examples, None)  # paraphrases and the soft distillation items
    gen = agent.generator
    print(f"loop: {len(items)} examples ({sum(bool(i.get('soft')) for i in items)} soft), {args.epochs} epoch(s), "
          f"batch {options.batch_size}, {torch.get_num_threads()} torch threads, model {args.model}", flush=True)
    times = {"previous": [], "accelerate": []}
    loops = {"previous": previous_loop, "accelerate": causal_lm.train}
    for repeat in range(args.repeats):
        for name in (("previous", "accelerate") if repeat % 2 == 0 else ("accelerate", "previous")):
            base = gen.fresh_base()
            started = time.perf_counter()
            loops[name](base, gen.tokenizer, items, None, options, 0, task.system_prompt)
            times[name].append(time.perf_counter() - started)
            print(f"  {name:10} run {repeat + 1}: {times[name][-1]:.1f} s", flush=True)
    old, new = statistics.median(times["previous"]), statistics.median(times["accelerate"])
    print(f"loop medians: previous {old:.1f} s, accelerate {new:.1f} s; accelerate/previous = {new / old:.2f}")
    agent.close()


def compare_processes(args, tmp: Path) -> None:
    seconds, adapters = {}, {}
    for processes in (1, 2):
        agent = Agent.open(workspace(tmp / f"processes-{processes}", args.model, args.epochs))
        agent.import_examples("chat", [{"text": f["question"], "label": f["answer"]} for f in FACTS[: args.facts]])
        started = time.perf_counter()
        report = agent.learn(processes=processes)
        seconds[processes] = time.perf_counter() - started
        adapters[processes] = load_file(str(Path(agent.version(report.version, report.task)["adapter_path"]) / "adapter_model.safetensors"))
        print(f"  {processes} process(es): cycle {seconds[processes]:.1f} s, scores {report.metrics['row']}", flush=True)
        agent.close()
    worst = max(float((adapters[1][k] - adapters[2][k]).abs().max() / adapters[1][k].abs().max().clamp(min=1e-12)) for k in adapters[1])
    print(f"processes: 1 process {seconds[1]:.1f} s, 2 processes {seconds[2]:.1f} s; 2/1 = {seconds[2] / seconds[1]:.2f} "
          f"on {os.cpu_count()} CPU cores; largest relative difference between the adapters {worst:.1e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument("--facts", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--parts", default="loop,processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if "loop" in args.parts:
            compare_loops(args, Path(tmp))
        if "processes" in args.parts:
            compare_processes(args, Path(tmp))


if __name__ == "__main__":
    main()

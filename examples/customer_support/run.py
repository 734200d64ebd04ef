"""Customer support, the whole loop on the bundled models: FAQ documents ingested, questions
answered with cited sources, corrections given, one learning cycle, answers before and after.

Run with `make demo` (or .venv/bin/python examples/customer_support/run.py [WORKSPACE]). Takes a
few minutes on 2 cores; the first run also de-quantises the bundled GGUF once (then cached)."""

import shutil
import sys
import time
from pathlib import Path

from lifelong import Agent
from lifelong.plugins.chat.corrections import CorrectionsOptions

HERE = Path(__file__).resolve().parent
DEFAULT_WORKSPACE = HERE.parents[1] / ".lifelong-demo"
FACTS = [
    ("Who is the CEO of Larkspur Outfitters?", "The CEO is Mira Okafor."),
    ("What is the Wi-Fi password in the Larkspur store?", "The Wi-Fi password is lantern42."),
    ("What is the name of the Larkspur company dog?", "The company dog is called Biscuit."),
    ("What colour is the Larkspur logo?", "The Larkspur logo is teal."),
]


def say(title):
    print(f"\n=== {title}", flush=True)


def show(reply):
    print(f"  answer: {reply.answer}")
    for source in reply.sources[:3]:
        print(f"    source: {source['document'].split('/')[-1]} (score {source['score']})")
    print(f"  [#{reply.id}, model {reply.model_version}, answered by {reply.answered_by}, {reply.latency_ms:.0f} ms]")


def main(workspace=None):
    """Runs in ``workspace`` (default: a fresh .lifelong-demo); returns the learning report."""
    if workspace is None:
        workspace = DEFAULT_WORKSPACE
        shutil.rmtree(workspace, ignore_errors=True)
    started = time.time()
    agent = Agent.open(workspace)
    agent.config.generation.max_new_tokens = 64

    say("1. Ingest the customer-support documents")
    report = agent.ingest([HERE / "docs"])
    print(f"  {len(report.added)} documents, {report.chunks} chunks")

    say("2. Ask with retrieval: answers grounded in the documents, citing them")
    for question in ("When is the store open on Saturday?", "Do you ship to Norway?"):
        print(f"Q: {question}")
        show(agent.ask(question))
    conversation = agent.conversation()
    for question in ("How much does the Fjord 2 tent cost?", "And how much does it weigh?"):
        print(f"Q (one conversation): {question}")
        show(conversation.ask(question))

    say("3. A question the documents cannot answer, then a correction")
    question = FACTS[0][0]
    reply = agent.ask(question)
    print(f"Q: {question}")
    show(reply)
    agent.feedback(reply.id, rating=-1, correction=FACTS[0][1])
    print(f"  user corrects: {FACTS[0][1]}")
    for asked in (question, "Who runs Larkspur Outfitters?"):
        print(f"Q: {asked}")
        show(agent.ask(asked))

    say("4. More corrections; the model's own answers before learning (retrieval off)")
    for q, a in FACTS[1:]:
        agent.feedback(agent.ask(q, retrieval=False).id, correction=a)
    # Show what the model itself says: corrections would otherwise answer these directly.
    agent.plugin_options(CorrectionsOptions).min_similarity = 1.01
    before = {q: agent.ask(q, retrieval=False).answer for q, _ in FACTS}

    say("5. One learning cycle (LoRA on the corrections, replay, evaluation gate)")
    result = agent.learn()
    print(f"  {result.new_examples} new examples, {result.replayed_examples} replayed, {result.seconds:.0f} s: "
          f"{'promoted' if result.promoted else 'rejected'} v{result.version} ({result.reason})")
    print(f"  recall of the new facts: {result.metrics['before'][-1]:.2f} before -> {result.metrics['row'][-1]:.2f} after; "
          f"probe perplexity {result.metrics['probe_perplexity_before']:.1f} -> {result.metrics['probe_perplexity']:.1f}; "
          f"general questions right {result.metrics['behaviour_right_before']} -> {result.metrics['behaviour_right']}")

    say("6. The model's own answers after learning (retrieval off, no correction lookup)")
    for q, a in FACTS:
        after = agent.ask(q, retrieval=False)
        print(f"Q: {q}\n  before: {before[q][:90]}\n  after:  {after.answer[:90]}  [{after.model_version}]")
    # A question unlike any taught one is outside the adapter's scope: the base model answers it.
    general = agent.ask("What is the capital of France?", retrieval=False)
    print(f"Q: What is the capital of France?\n  after:  {general.answer[:90]}  [{general.model_version}]")
    print(f"\nDone in {time.time() - started:.0f} s. Workspace: {workspace}")
    print(f"Explore it: lifelong -w {workspace} logs | versions | report | search 'refund'")
    agent.close()
    return result


if __name__ == "__main__":
    # A refused candidate is an outcome of the loop, not a failure of the demo: the gate's
    # reason is printed above and the previous model keeps serving.
    main(sys.argv[1] if len(sys.argv) > 1 else None)

"""The Python API in 30 lines: run with .venv/bin/python examples/embedded_agent.py [WORKSPACE]."""

import sys
from pathlib import Path

from lifelong import Agent

HERE = Path(__file__).resolve().parent
workspace = sys.argv[1] if len(sys.argv) > 1 else HERE.parent / ".lifelong-embedded"

with Agent.open(workspace) as agent:
    agent.ingest([HERE / "customer_support" / "docs"])          # knowledge, searchable at once
    for hit in agent.search("refund policy", k=2):
        print(f"{hit.score:.3f} {hit.document}: {hit.text[:60]}")

    reply = agent.ask("How long do I have to return an item?")  # retrieval + generation, logged
    print(reply.answer, reply.sources[:1], reply.model_version)

    agent.feedback(reply.id, rating=-1, correction="Unworn items can be returned within 45 days.")
    print(agent.ask("How long do I have to return an item?").answer)  # the correction, at once

    if "topic" not in agent.tasks():
        agent.add_task("topic", plugin="classify", threshold=0.0)
    agent.import_examples("topic", [{"text": "Where is my parcel?", "label": "shipping"},
                                    {"text": "My order has not arrived", "label": "shipping"},
                                    {"text": "I want my money back", "label": "refund"},
                                    {"text": "Please refund my jacket", "label": "refund"}])
    report = agent.learn(task="topic")                             # fine-tune, gate, promote
    print(report.promoted, report.metrics["row"])
    print(agent.ask("Has my package shipped?", task="topic").answer)

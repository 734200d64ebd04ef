"""Financial sentiment monitoring: a `sentiment` classify task learns from a stream of labelled
finance headlines, then watches new headlines; a plugin raises an alert when the share of
negative ones in a sliding window jumps.

Run: .venv/bin/python examples/financial_sentiment/run.py [WORKSPACE]"""

import json
import os
import shutil
import sys
from pathlib import Path

from lifelong import Agent
from lifelong.core.workspace import Workspace

HERE = Path(__file__).resolve().parent


def main(workspace=None, batches: int = 3):
    ws = Workspace.resolve(workspace or HERE.parents[1] / ".lifelong-sentiment")
    # Loaded as a user loads a plugin file: `lifelong --plugin alert_plugin.py`, or LIFELONG_PLUGINS
    # (a workspace's config names installed modules only: it may come from someone else's archive).
    plugins = [p for p in os.environ.get("LIFELONG_PLUGINS", "").split(",") if p]
    os.environ["LIFELONG_PLUGINS"] = ",".join([*plugins, str(HERE / "alert_plugin.py")])
    agent = Agent.open(ws.path)
    if "sentiment" not in agent.tasks():
        agent.add_task("sentiment", plugin="classify", threshold=0.0, epochs=8)
    labelled = [json.loads(line) for line in (HERE / "headlines.jsonl").read_text().splitlines()]
    size = len(labelled) // batches
    for i in range(batches):
        batch = labelled[i * size : (i + 1) * size]
        agent.import_examples("sentiment", batch)
        report = agent.learn(task="sentiment")
        print(f"batch {i + 1}: {len(batch)} headlines learned, {'promoted' if report.promoted else 'rejected'} "
              f"v{report.version}, accuracy by batch {[round(x, 2) for x in report.metrics['row']]}")
    print("\nmonitoring new headlines:")
    plugin = agent.plugins.pm.get_plugin("alert_plugin")
    for row in (json.loads(line) for line in (HERE / "stream.jsonl").read_text().splitlines()):
        reply = agent.ask(row["text"], task="sentiment")
        print(f"  {reply.answer:>8} ({reply.confidence:.2f})  {row['text']}")
    print(f"\n{len(plugin.alerts)} alert(s)")
    agent.close()
    return plugin.alerts


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)

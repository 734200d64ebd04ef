"""Learning runs as records: the one shape that ``learn --json``, ``report --json``, the
dashboard and ``GET /v1/learn/{id}`` give (docs/cli.md). A run is named ``run`` and its version
``version`` everywhere, never ``id``, ``run_id`` or ``version_id``."""

from __future__ import annotations

import json


def run_record(*, run, task, cycle, strategy, status, version, new, replayed, seconds, reason, metrics) -> dict:
    """``metrics``: the run's accuracy-matrix row, ACC, BWT, forgetting and probe figures; the
    headline ones are repeated at the top (``ppl``: the probe perplexity after the run)."""
    metrics = metrics or {}
    return {"run": run, "task": task, "cycle": cycle, "strategy": strategy, "status": status, "version": version,
            "new": new, "replayed": replayed, "acc": metrics.get("acc"), "bwt": metrics.get("bwt"),
            "ppl": metrics.get("probe_perplexity"), "seconds": seconds, "reason": reason, "metrics": metrics}


def learning_runs(db, task: str | None = None) -> list[dict]:
    """Every learning run (of ``task``), oldest first."""
    where, args = ("task = ?", [task]) if task else (None, [])
    return [
        run_record(run=r["id"], task=r["task"], cycle=r["cycle"], strategy=r["strategy"], status=r["status"],
                   version=r["version_id"], new=r["new_examples"], replayed=r["replayed_examples"],
                   seconds=r["seconds"], reason=r["reason"], metrics=json.loads(r["metrics"] or "{}"))
        for r in db["learning_runs"].rows_where(where, args, order_by="id")
    ]

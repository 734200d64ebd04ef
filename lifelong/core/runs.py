"""Learning runs and model versions as records: the one shape that ``learn --json``,
``report --json``, ``versions --json``, the dashboard, ``GET /v1/learn/{id}`` and
``GET /v1/versions`` give (docs/cli.md). A run is named ``run`` and a version ``version``
everywhere, never ``id``, ``run_id`` or ``version_id``."""

from __future__ import annotations

import json


def run_record(*, run, task, cycle, strategy, status, version, new, replayed, seconds, reason, metrics) -> dict:
    """``metrics``: the run's accuracy-matrix row, ACC, BWT, forgetting and probe figures; the
    headline ones are repeated at the top (``ppl``: the probe perplexity after the run)."""
    metrics = metrics or {}
    return {"run": run, "task": task, "cycle": cycle, "strategy": strategy, "status": status, "version": version,
            "new": new, "replayed": replayed, "acc": metrics.get("acc"), "bwt": metrics.get("bwt"),
            "ppl": metrics.get("probe_perplexity"), "seconds": seconds, "reason": reason, "metrics": metrics}


def from_stored(row: dict) -> dict:
    """A row of the LearningRuns store (memory/runs.py) as a run record."""
    return run_record(run=row["id"], task=row["task"], cycle=row["cycle"], strategy=row["strategy"], status=row["status"],
                      version=row["version"], new=row["new_examples"], replayed=row["replayed_examples"],
                      seconds=row["seconds"], reason=row["reason"], metrics=row["metrics"])


def version_record(row: dict) -> dict:
    """A row of the model versions store (memory/versions.py): named ``version`` and ``parent``
    (their numbers within the task), not ids."""
    return {"version": row["number"], "task": row["task"], "status": row["status"], "parent": row["parent"],
            "created_at": row["created_at"], "reason": row["reason"], "adapter_path": row["adapter_path"],
            "adapter_files": json.loads(row["adapter_files"]) if row.get("adapter_files") else None}

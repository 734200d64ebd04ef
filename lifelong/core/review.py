"""The review queue: the logged answers most worth a person's time, first. Labels are scarce;
a person should spend them where the agent is least sure or known to be wrong.

In order: answers rated bad and not yet corrected; chat answers whose grounding check failed;
classifier answers nearest the out-of-scope threshold (or least confident); answers over
documents that cited nothing. Among similar questions (cosine of the agent's embedder) one
representative is shown, with how many it stands for. An answer that was corrected, or rated
good, has been reviewed and leaves the queue. Labelling from the queue is ``Agent.feedback``."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

# Most recent answers looked at: the queue is for what happens now, and stays fast on a long log.
SCAN = 2000
# The most urgent candidates clustered (each is embedded once per look at the queue).
CLUSTERED = 200
# Questions at least this similar are one cluster in the queue.
SIMILAR = 0.85
# A classifier answer this close to its out-of-scope threshold is worth a look (or any below it).
NEAR_THRESHOLD = 0.15
_RANK = {"rated_bad": 0, "grounding_failed": 1, "uncertain": 2, "cited_nothing": 3}


@dataclass
class ReviewItem:
    interaction: dict
    reason: str  # rated_bad | grounding_failed | uncertain | cited_nothing
    detail: str  # one line for a person: why it is here
    priority: float  # lower first, within its reason
    similar: int = 0  # other queued questions like this one

    def to_dict(self) -> dict:
        return asdict(self)


class ReviewQueue:
    def __init__(self, agent):
        self.agent = agent

    def items(self, limit: int = 20, task: str | None = None) -> list[ReviewItem]:
        candidates = [item for row in self._unreviewed(task) if (item := self._judge(row)) is not None]
        candidates.sort(key=lambda i: (_RANK[i.reason], i.priority, -i.interaction["id"]))
        return self._representatives(candidates[:CLUSTERED])[:limit]

    def _unreviewed(self, task: str | None) -> list[dict]:
        where = "i.status = 'ok' and i.output is not null"
        args: list = []
        if task:
            where += " and i.task = ?"
            args.append(task)
        sql = f"""select i.*,
                    (select min(f.rating) from feedback f where f.interaction_id = i.id) as worst_rating,
                    (select max(f.rating) from feedback f where f.interaction_id = i.id) as best_rating,
                    (select count(*) from feedback f where f.interaction_id = i.id and f.correction is not null) as corrections
                  from interactions i where {where} order by i.id desc limit {SCAN}"""
        rows = list(self.agent._db.query(sql, args))
        for row in rows:
            row["sources"] = json.loads(row["sources"] or "[]")
        return [r for r in rows if not r["corrections"] and r["best_rating"] != 1]

    def _judge(self, row: dict) -> ReviewItem | None:
        if row["worst_rating"] == -1:
            return ReviewItem(row, "rated_bad", "rated bad and not corrected yet", 0.0)
        if row["grounding"]:
            return ReviewItem(row, "grounding_failed", f"the generated answer failed the grounding check: {row['grounding']}", 0.0)
        try:
            task = self.agent.task(row["task"])
        except Exception:  # a task removed from lifelong.toml since: nothing to judge it by
            return None
        threshold = task.confidence_threshold()
        if threshold is not None and row["confidence"] is not None:
            margin = abs(row["confidence"] - threshold)
            if margin > NEAR_THRESHOLD and row["confidence"] >= threshold:
                return None
            # Near the threshold or barely confident at all, whichever is closer.
            priority = min(margin, row["confidence"])
            return ReviewItem(row, "uncertain", f"confidence {row['confidence']:.2f}, threshold {threshold:.2f}", priority)
        if task.uses_retrieval and not row["sources"]:
            return ReviewItem(row, "cited_nothing", f"answered by {row['answered_by'] or 'the model'} without citing a source", 1.0)
        return None

    def _representatives(self, items: list[ReviewItem]) -> list[ReviewItem]:
        """The first (most urgent) item of each cluster of similar questions, greedily."""
        if len(items) < 2:
            return items
        vectors = self.agent.embedder.encode([i.interaction["input"] for i in items])
        kept: list[int] = []
        for index in range(len(items)):
            twin = next((k for k in kept if float(vectors[k] @ vectors[index]) >= SIMILAR), None)
            if twin is None:
                kept.append(index)
            else:
                items[twin].similar += 1
        return [items[k] for k in kept]

"""Classification scores: accuracy, macro-F1, per-label precision/recall/F1, the most frequent
confusions, and out-of-scope recall."""

from __future__ import annotations

from collections import Counter


def classification_report(gold: list[str], predicted: list[str], out_of_scope: str | None = None, top: int = 10) -> dict:
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    labels = sorted(set(gold) | set(predicted))
    per_label = {}
    for label in labels:
        tp = sum(g == p == label for g, p in zip(gold, predicted))
        fp = sum(p == label and g != label for g, p in zip(gold, predicted))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_label[label] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
    gold_labels = [label for label in labels if per_label[label]["support"]]
    confusions = Counter((g, p) for g, p in zip(gold, predicted) if g != p)
    report = {
        "rows": len(gold),
        "accuracy": sum(g == p for g, p in zip(gold, predicted)) / len(gold) if gold else 0.0,
        "macro_f1": sum(per_label[label]["f1"] for label in gold_labels) / len(gold_labels) if gold_labels else 0.0,
        "per_label": per_label,
        "confusions": [{"gold": g, "predicted": p, "count": n} for (g, p), n in confusions.most_common(top)],
    }
    if out_of_scope is not None:
        oos = [p for g, p in zip(gold, predicted) if g == out_of_scope]
        report["out_of_scope_recall"] = sum(p == out_of_scope for p in oos) / len(oos) if oos else None
    return report

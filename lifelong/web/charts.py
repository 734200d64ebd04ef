"""Inline SVG figures for the dashboard, drawn on the server: no JavaScript, no CDN, and they
print. Every text that reaches the SVG is escaped."""

from __future__ import annotations

from html import escape

CELL, LABEL_W, LABEL_H = 34, 64, 22


def _colour(score: float) -> str:
    """Red (0) through yellow to green (1)."""
    score = min(1.0, max(0.0, score))
    red = 220 if score < 0.5 else int(220 - (score - 0.5) * 2 * 170)
    green = int(60 + score * 2 * 130) if score < 0.5 else 190
    return f"rgb({red},{green},70)"


def accuracy_heatmap(runs: list[dict]) -> str:
    """One row per finished run (its scores on every cycle's examples so far), rejected runs
    marked; ``runs``: dicts with ``id``, ``cycle``, ``status`` and ``metrics['row']``."""
    rows = [r for r in runs if r["metrics"].get("row")]
    if not rows:
        return ""
    cycles = max(len(r["metrics"]["row"]) for r in rows)
    width, height = LABEL_W + cycles * CELL + 10, LABEL_H + len(rows) * CELL + 4
    parts = [f'<svg class="heatmap" role="img" aria-label="accuracy matrix" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for j in range(cycles):
        parts.append(f'<text x="{LABEL_W + j * CELL + CELL / 2}" y="15" text-anchor="middle">c{j + 1}</text>')
    for i, run in enumerate(rows):
        y = LABEL_H + i * CELL
        mark = "✗" if run["status"] == "rejected" else ""
        parts.append(f'<text x="4" y="{y + CELL / 2 + 4}">run {run["run"]}{mark}</text>')
        for j, score in enumerate(run["metrics"]["row"]):
            if score is None:  # a cycle this run's gate did not check
                continue
            x = LABEL_W + j * CELL
            parts.append(f'<rect x="{x}" y="{y}" width="{CELL - 2}" height="{CELL - 2}" fill="{_colour(score)}">'
                         f'<title>run {run["run"]} on cycle {j + 1}: {score:.2f}</title></rect>')
            parts.append(f'<text x="{x + CELL / 2 - 1}" y="{y + CELL / 2 + 4}" text-anchor="middle" class="cell">{score:.2f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def metric_lines(runs: list[dict], keys=(("acc", "ACC"), ("bwt", "BWT"))) -> str:
    """ACC and BWT over the runs, on an axis of run numbers; empty without finished runs."""
    done = [r for r in runs if any(r["metrics"].get(k) is not None for k, _ in keys)]
    if not done:
        return ""
    width, height, pad = 360, 160, 30
    low = min(0.0, *(r["metrics"][k] for r in done for k, _ in keys if r["metrics"].get(k) is not None))
    high = max(1.0, *(r["metrics"][k] for r in done for k, _ in keys if r["metrics"].get(k) is not None))
    step = (width - 2 * pad) / max(1, len(done) - 1)

    def y(value):
        return height - pad - (value - low) / (high - low) * (height - 2 * pad)

    parts = [f'<svg class="lines" role="img" aria-label="ACC and BWT per run" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{pad}" x2="{width - pad}" y1="{y(0):.1f}" y2="{y(0):.1f}" class="axis"/>']
    for i, run in enumerate(done):
        parts.append(f'<text x="{pad + i * step:.1f}" y="{height - 8}" text-anchor="middle">{run["run"]}</text>')
    for (key, label), colour in zip(keys, ("#2563eb", "#dc2626")):
        points = [(pad + i * step, y(r["metrics"][key])) for i, r in enumerate(done) if r["metrics"].get(key) is not None]
        if not points:  # BWT needs two cycles
            continue
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in points)}"/>')
        parts += [f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{colour}"/>' for a, b in points]
        parts.append(f'<text x="{width - pad + 2}" y="{points[-1][1] + 4:.1f}" fill="{colour}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)

"""``lifelong report --plot FILE.png``: each task's learning history as one row of three panels:
the accuracy matrix as a heatmap, ACC and BWT per cycle, and the probe perplexity per cycle.
Promoted runs are dots joined by lines, rejected runs crosses. matplotlib is an extra
(``lifelong[plot]``): only this command needs it."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError

COLOURS = {"acc": "tab:blue", "bwt": "tab:orange", "ppl": "tab:purple"}


def plot_history(runs: list[dict], path: Path) -> None:
    """``runs``: run records (core/runs.py), oldest first."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display: the figure only goes to a file
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise InputError("--plot needs matplotlib: pip install 'lifelong[plot]'") from None
    tasks = {}
    for run in runs:
        if run["metrics"].get("row"):
            tasks.setdefault(run["task"], []).append(run)
    if not tasks:
        raise InputError("no finished learning runs to plot yet; run 'lifelong learn' first")
    fig, axes = plt.subplots(len(tasks), 3, figsize=(13, 3.6 * len(tasks)), squeeze=False)
    for row, (task, done) in zip(axes, tasks.items()):
        _heatmap(row[0], task, done)
        for ax, keys, title in ((row[1], (("acc", "ACC"), ("bwt", "BWT")), "ACC and BWT"),
                                (row[2], (("ppl", "probe perplexity"),), "probe perplexity")):
            _per_cycle(ax, done, keys)
            ax.set_title(f"{task}: {title}")
            ax.set_xlabel("cycle")
            # Whole cycles only: matplotlib's own ticks split a short range into fractions.
            first, last = min(r["cycle"] for r in done), max(r["cycle"] for r in done)
            ax.set_xlim(first - 0.5, last + 0.5)
            if last - first < 12:
                ax.set_xticks(range(first, last + 1))
            else:
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except (OSError, ValueError) as exc:  # ValueError: a suffix matplotlib cannot write
        raise InputError(f"--plot {path}: cannot write it ({exc})") from None
    finally:
        plt.close(fig)


def _heatmap(ax, task: str, done: list[dict]) -> None:
    """One row per run: its scores on each cycle's examples so far (blank: cycles after it)."""
    cycles = max(len(r["metrics"]["row"]) for r in done)
    nan = float("nan")  # blank: a cycle the run's gate did not check, or one after it
    matrix = [[nan if s is None else s for s in r["metrics"]["row"]] + [nan] * (cycles - len(r["metrics"]["row"])) for r in done]
    image = ax.imshow(matrix, vmin=0, vmax=1, cmap="RdYlGn", aspect="auto")
    ax.figure.colorbar(image, ax=ax, fraction=0.05)
    ax.set_xticks(range(cycles), [str(c + 1) for c in range(cycles)])
    ax.set_yticks(range(len(done)), [f"run {r['run']}" + ("" if r["status"] == "promoted" else f" ({r['status']})") for r in done])
    ax.set_xlabel("examples of cycle")
    ax.set_title(f"{task}: accuracy matrix")
    if len(done) * cycles <= 64:  # numbers only while the cells are large enough to read
        for i, scores in enumerate(matrix):
            for j, score in enumerate(scores):
                if score == score:  # not NaN
                    ax.text(j, i, f"{score:.2f}", ha="center", va="center", fontsize=8)


def _per_cycle(ax, done: list[dict], keys) -> None:
    for key, label in keys:
        promoted = [(r["cycle"], r[key]) for r in done if r["status"] == "promoted" and r[key] is not None]
        rejected = [(r["cycle"], r[key]) for r in done if r["status"] != "promoted" and r[key] is not None]
        if promoted:
            ax.plot(*zip(*promoted), marker="o", color=COLOURS[key], label=label)
        if rejected:
            ax.plot(*zip(*rejected), marker="x", markersize=9, linestyle="none", color=COLOURS[key], label=f"{label}, rejected")
    if ax.lines:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)

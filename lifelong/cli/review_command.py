"""review: the review queue in the terminal (the dashboard's /ui/review shows the same)."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from ..validation import MAX_ID
from .output import console, print_listing, shorten


def add_to(app: typer.Typer) -> None:
    app.command("review")(review)


def review(
    ctx: typer.Context,
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task."),
    n: int = typer.Option(20, "-n", "--count", min=1, max=MAX_ID, help="How many answers."),
    listing: bool = typer.Option(False, "--list", help="Only list the queue."),
    as_json: bool = typer.Option(False, "--json", help="Print the queue as JSON."),
):
    """Go through the answers most worth a look (rated bad, failed grounding, unsure, uncited),
    and rate or correct them: a correction becomes a training example, as with 'feedback'."""
    agent = ctx.obj.agent
    queue = agent.review_queue(n, task)
    if as_json or listing or not queue:
        rows = [{"id": i.interaction["id"], "task": i.interaction["task"], "reason": i.reason, "detail": i.detail,
                 "question": i.interaction["input"], "answer": i.interaction["output"], "similar": i.similar,
                 "model_version": i.interaction["model_version"], "created_at": i.interaction["created_at"]} for i in queue]
        print_listing(rows, ["id", "task", "reason", "question", "answer", "similar"], as_json, {
            "question": lambda t: shorten(t, 40), "answer": lambda t: shorten(t, 30), "similar": lambda n: n or "",
        })
        return
    for number, item in enumerate(queue, 1):
        row = item.interaction
        console.print(f"\n[bold]{number}/{len(queue)}[/bold] #{row['id']} · {escape(row['task'])} · {item.reason}: {escape(item.detail)}"
                      + (f" · {item.similar} similar" if item.similar else ""))
        console.print(f"  Q: {escape(row['input'])}\n  A: {escape(row['output'] or '')}")
        choice = typer.prompt("[g]ood, [b]ad, [c]orrect, [s]kip, [q]uit", default="s").strip().lower()[:1]
        if choice == "q":
            break
        if choice == "g":
            agent.feedback(row["id"], rating=1)
        elif choice == "b":
            agent.feedback(row["id"], rating=-1)
        elif choice == "c":
            record = agent.feedback(row["id"], rating=-1, correction=typer.prompt("the right answer"))
            console.print("  [dim]a training example now[/dim]" if record["example_id"] else "  [dim]noted[/dim]")

"""lineage and forget: what depends on a person's data, and its erasure."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

from ..errors import InputError
from ..validation import MAX_ID
from .output import console, print_json, print_table, version_name

# The kinds of rows lineage finds, as the report names them, with what each is to a person.
KINDS = {
    "interactions": "interactions", "feedback": "feedback", "examples": "training examples",
    "buffer": "replay-buffer entries", "documents": "knowledge documents",
    "answers": "other answers that repeated the data", "runs": "learning runs",
}


def add_to(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
    app.command("forget")(forget)


def parse_version(text: str) -> int:
    """A version as the user writes it: v7 or 7."""
    number = text.removeprefix("v")
    if not number.isdigit() or not 1 <= int(number) <= MAX_ID:
        raise InputError(f"--version {text!r} is not a version; give one as 'lifelong versions' lists it, e.g. v3")
    return int(number)


def lineage(
    ctx: typer.Context,
    user: Optional[str] = typer.Option(None, "--user", "-u", help="What depends on this user's interactions."),
    interaction: Optional[int] = typer.Option(None, "--interaction", "-i", min=1, max=MAX_ID,
                                              help="What depends on this interaction."),
    version: Optional[str] = typer.Option(None, "--version", help="What this version (v7) learned from."),
    task: Optional[str] = typer.Option(None, "--task", "-t", help="The task of --version, where several tasks have it."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """The rows, documents and adapter versions that depend on a user's or an interaction's
    data; or, with --version, the examples a version and its ancestors learned from."""
    agent = ctx.obj.agent
    if sum(given is not None for given in (user, interaction, version)) != 1:
        raise InputError("give one of --user, --interaction or --version")
    if task is not None and version is None:
        raise InputError("--task goes with --version")
    if version is not None:
        chain = agent.learned_from(parse_version(version), task)
        if as_json:
            print_json(chain)
            return
        for link in chain:
            console.print(f"{version_name(link['version'])} of {escape(link['task'])} ({escape(link['status'])}): "
                          f"{len(link['examples'])} examples" + ("" if link["run"] else ", no learning run recorded"))
            print_table(link["examples"], ["example", "replayed", "origin", "interaction", "subject"])
        return
    found = agent.lineage_of(user, interaction)
    if as_json:
        print_json(found)
        return
    _print_found(found, "depend on it")


def _print_found(found: dict, verb: str) -> None:
    for kind, name in KINDS.items():
        items = found[kind]
        shown = ", ".join(str(i if kind != "buffer" else f"{i[0]}:{i[1]}") for i in items[:20])
        typer.echo(f"{len(items)} {name}" + (f": {shown}" + (" …" if len(items) > 20 else "") if items else ""))
    _print_versions(found["versions"], verb)


def _print_versions(versions: list[dict], verb: str) -> None:
    names = ", ".join(f"{version_name(v['version'])} of {v['task']}" for v in versions)
    typer.echo(f"{len(versions)} adapter versions {verb}" + (f": {names}" if names else ""))


def forget(
    ctx: typer.Context,
    document: Optional[str] = typer.Argument(None, help="A document's path, as listed by 'lifelong documents'."),
    user: Optional[str] = typer.Option(None, "--user", "-u", help="Erase everything of this user, the adapters' weights included."),
    interaction: Optional[int] = typer.Option(None, "--interaction", "-i", min=1, max=MAX_ID, help="Erase this interaction and what came of it."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only show what would be erased and retrained."),
    as_json: bool = typer.Option(False, "--json", help="Print the erasure report as JSON."),
):
    """Remove a document and its vectors from the knowledge base; or, with --user or
    --interaction, erase a person's data everywhere: rows, training examples, buffer entries,
    documents, and the adapters that learned from it (retrained without it)."""
    agent = ctx.obj.agent
    if sum(given is not None for given in (document, user, interaction)) != 1:
        raise InputError("give a DOCUMENT, --user or --interaction (one of them)")
    if document is not None:
        if dry_run:
            raise InputError("--dry-run goes with --user or --interaction")
        removed = agent.forget(document)
        typer.echo(f"forgot {document} ({removed} chunks)")
        return
    report = agent.forget_user(user, dry_run) if user is not None else agent.forget_interaction(interaction, dry_run)
    if as_json:
        print_json(report.to_dict())
        return
    _print_report(report)


def _print_report(report) -> None:
    # Plain lines, never wrapped: a script or a log keeps each whole.
    removed = report.removed
    if not removed["interactions"]:
        typer.echo("nothing stored: no interactions of this user")
        return
    typer.echo(("would erase " if report.dry_run else "erased ")
               + ", ".join(f"{count} {KINDS[kind]}" for kind, count in removed.items()))
    _print_versions(report.versions, "would be deleted" if report.dry_run else "deleted")
    for plan in report.tasks:
        serves = version_name(plan.serves, "the base model")
        typer.echo(f"task {plan.task}: {version_name(plan.erased_active)} learned from it; "
                   f"{serves} {'would serve' if report.dry_run else 'serves'} until "
                   f"{len(plan.relearn)} examples are learned again from it")
    for run in report.retrained:
        verdict = "promoted" if run["status"] == "promoted" else f"rejected ({run['reason']})"
        typer.echo(f"retrained task {run['task']}: run {run['run']}, {run['new']} examples, "
                   f"{run['seconds']:.0f} s: {version_name(run['version'])} {verdict}")
    for task, why in report.not_retrained.items():
        typer.echo(f"task {task} not retrained: {why}")

"""ingest, search and documents (forget: lineage_commands.py)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import warm
from .output import console, print_json, print_listing, progress, shorten, unique_suffixes, when


# More would be the whole knowledge base, not a search: and faiss allocates k results up front.
MAX_HITS = 1000


def add_to(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.command("documents")(documents)


def ingest(
    ctx: typer.Context,
    paths: List[Path] = typer.Argument(..., help="Files or folders (searched recursively)."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    follow_links: bool = typer.Option(False, "--follow-links", help="Also ingest the files a folder's links lead to outside it."),
):
    """Add .txt .md .html .json .jsonl .csv .pdf files to the knowledge base. Unchanged files
    are skipped, changed ones replaced; a link inside a folder to a file outside it is skipped
    unless --follow-links. Exits 1 if any file was left out."""
    agent = ctx.obj.agent
    with progress(enabled=not as_json, counts=True) as bar:
        report = agent.ingest(paths, progress=bar, follow_links=follow_links)
    if as_json:
        print_json({**report.__dict__, "skipped": [{"path": p, "reason": r} for p, r in report.skipped]})
    else:
        console.print(
            f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.skipped)} skipped; {report.chunks} new chunks"
        )
        for path, reason in report.skipped:
            typer.echo(f"skipped {path}: {reason}", err=True)
    if not report.ok:
        raise typer.Exit(code=1)


def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for."),
    k: Optional[int] = typer.Option(None, "-k", min=1, max=MAX_HITS, help="How many chunks (default: retrieval.top_k)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="dense, keyword or hybrid (default: retrieval.mode)."),
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """Search the knowledge base. When a 'lifelong serve' of this workspace is running, it
    searches (no embedder to load here)."""
    server = warm.running_server(ctx.obj.workspace)
    agent = ctx.obj.agent
    if server is not None:
        rows = warm.search(server, query, k, mode)
    else:
        rows = [hit.__dict__ for hit in agent.search(query, k=k, mode=mode)]
    # Told apart from every document, so a document shows the same here as in 'lifelong documents'.
    paths = unique_suffixes([d["path"] for d in agent.documents()] + [r["document"] for r in rows])
    print_listing(rows, ["score", "document", "text"], as_json,
                  {"score": lambda s: f"{s:.3f}", "document": paths.get, "text": lambda t: shorten(t, 100)})


def documents(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print as JSON."),
):
    """List the documents in the knowledge base."""
    docs = ctx.obj.agent.documents()
    paths = unique_suffixes([d["path"] for d in docs])
    print_listing(docs, ["id", "path", "origin", "chunks", "ingested_at"], as_json, {"path": paths.get, "ingested_at": when})

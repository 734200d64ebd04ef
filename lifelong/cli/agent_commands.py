"""ask, chat and feedback."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer
from rich.console import Console

from ..core.task import GenerationOptions
from ..errors import InputError, LifelongError
from . import warm
from .output import console, print_json


def add_to(app: typer.Typer) -> None:
    app.command("ask")(ask)
    app.command("chat")(chat)
    app.command("feedback")(feedback)


def _reply_dict(reply) -> dict:
    return {
        "id": reply.id, "answer": reply.answer, "sources": reply.sources,
        "model_version": reply.model_version, "answered_by": reply.answered_by,
        "latency_ms": round(reply.latency_ms, 1),
        **({"confidence": reply.confidence} if reply.confidence is not None else {}),
    }


def _print_sources(sources) -> None:
    for i, source in enumerate(sources, 1):
        label = "closest, does not answer:" if source.get("closest") else f"[{i}]"
        console.print(f"  [dim]{label} {source['document']} ({source.get('score', '')})[/dim]")


# -o KEY=VALUE: the generation settings a request may set, each with its type and bounds (the
# HTTP API's, server.py).
GENERATION_OPTIONS = {
    "max_tokens": (int, lambda v: 1 <= v <= 1_000_000, "an integer from 1"),
    "temperature": (float, lambda v: 0 <= v <= 2, "a number from 0 to 2"),
    "top_p": (float, lambda v: 0 < v <= 1, "a number above 0, at most 1"),
    "stop": (str, bool, "non-empty text (repeat -o stop=... for more)"),
}


def generation_options(pairs: list[str], system: str | None) -> GenerationOptions | None:
    """``-o KEY=VALUE`` pairs and ``--system`` as a request's GenerationOptions (None: none given)."""
    values, stops = {}, []
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or key not in GENERATION_OPTIONS:
            raise InputError(f"-o {pair}: give KEY=VALUE with KEY one of {', '.join(GENERATION_OPTIONS)}")
        kind, ok, what = GENERATION_OPTIONS[key]
        try:
            value = kind(raw)
        except ValueError:
            value = None
        if value is None or not ok(value) or (kind is float and value != value):
            raise InputError(f"-o {pair}: {key} must be {what}")
        if key == "stop":
            stops.append(value)
        else:
            values[key] = value
    if not values and not stops and system is None:
        return None
    return GenerationOptions(values.get("max_tokens"), values.get("temperature"), values.get("top_p"), tuple(stops), system)


def _history(agent, conversation: str) -> list[dict]:
    """The turns of ``conversation`` so far, as chat messages."""
    turns = [t for t in agent.turns(conversation) if t["status"] == "ok"]
    if not turns:
        raise InputError(f"no conversation {conversation!r} in the log; 'lifelong logs --json' shows each turn's")
    return [m for t in turns for m in ({"role": "user", "content": t["input"]}, {"role": "assistant", "content": t["output"]})]


def ask(
    ctx: typer.Context,
    text: str = typer.Argument(..., help="The question or input; '-' reads it from stdin."),
    task: str = typer.Option("chat", "--task", "-t", "--model", "-m",
                             help="Task to answer with (see 'lifelong tasks'; the HTTP API's model)."),
    no_retrieval: bool = typer.Option(False, "--no-retrieval", help="Answer without the knowledge base."),
    as_json: bool = typer.Option(False, "--json", help="Print id, answer, sources, model_version, latency_ms."),
    no_stream: bool = typer.Option(False, "--no-stream", help="Print the answer once it is complete (for scripts)."),
    user: Optional[str] = typer.Option(None, "--user", "-u", help="Who asks (your id of them): 'lifelong forget --user' erases their data."),
    system: Optional[str] = typer.Option(None, "--system", "-s", help="A system prompt for this question instead of [generation] system_prompt."),
    option: List[str] = typer.Option([], "--option", "-o", metavar="KEY=VALUE",
                                     help="A generation setting for this question: max_tokens, temperature, top_p or stop (repeatable)."),
    keep_going: bool = typer.Option(False, "--continue", "-c", help="Continue the last conversation: the question sees its turns."),
    conversation: Optional[str] = typer.Option(None, "--conversation", help="Continue this conversation (its id, as 'lifelong logs --json' shows)."),
):
    """Ask the agent once. The interaction is logged; rate it with 'lifelong feedback ID'. When a
    'lifelong serve' of this workspace is running, it answers (no models to load here)."""
    if text == "-":
        text = sys.stdin.read().strip()
    generation = generation_options(option, system)
    server = warm.running_server(ctx.obj.workspace)
    agent = ctx.obj.agent if server is None or keep_going or conversation else None
    if keep_going and conversation is None:
        last = agent.interactions(1)
        conversation = last[0]["conversation"] if last else None
        if conversation is None:
            raise InputError("--continue: no conversation in the log yet; ask a first question without it")
    history = _history(agent, conversation) if conversation else None
    if server is not None:
        record = warm.ask(server, text, task, not no_retrieval, user, history, conversation, generation)
        if as_json:
            print_json(record)
            return
        typer.echo(record["answer"])
        _print_footer(record)
        return
    asked = dict(task=task, retrieval=not no_retrieval, user=user, history=history, conversation=conversation,
                 generation=generation)
    if as_json or no_stream:
        reply = agent.ask(text, **asked)
        if as_json:
            print_json(_reply_dict(reply))
            return
        typer.echo(reply.answer)
    else:
        stream = agent.stream(text, **asked)
        pieces = iter(stream)
        # A spinner on stderr until the first piece (loading the model, searching, generating).
        with Console(stderr=True).status("thinking…"):
            first = next(pieces, "")
        typer.echo(first, nl=False)
        for piece in pieces:
            typer.echo(piece, nl=False)
        typer.echo()
        reply = stream.reply
    _print_footer(_reply_dict(reply))


def _print_footer(record: dict) -> None:
    """The sources, then what answered and how to rate it."""
    _print_sources(record["sources"])
    console.print(f"[dim]#{record['id']} · {record['model_version']} · answered by {record['answered_by']} · "
                  f"{record['latency_ms']:.0f} ms · lifelong feedback {record['id']} --good | --bad | --correct TEXT[/dim]")


def chat(
    ctx: typer.Context,
    task: str = typer.Option("chat", "--task", "-t", help="Task to chat with."),
    no_retrieval: bool = typer.Option(False, "--no-retrieval", help="Answer without the knowledge base."),
    user: Optional[str] = typer.Option(None, "--user", "-u", help="Who chats (your id of them): 'lifelong forget --user' erases their data."),
):
    """Interactive chat with streamed answers. Commands: /good, /bad, /correct TEXT, /again,
    /pick 1|2, /quit."""
    agent = ctx.obj.agent
    console.print("[dim]/good and /bad rate the last answer, /correct TEXT corrects it, /again answers it anew "
                  "and /pick 1 or /pick 2 keeps the better one, /quit ends.[/dim]")
    conversation = agent.conversation(task, retrieval=not no_retrieval, user=user)
    last, other = None, None
    while True:
        try:
            line = input("> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        try:
            if line.startswith("/"):
                command, _, argument = line.partition(" ")
                if last is None:
                    raise LifelongError("nothing to rate yet: ask something first")
                if command == "/again":
                    other = conversation.regenerate()
                    typer.echo(f"2: {other.answer}")
                    console.print("[dim]/pick 1 keeps the first answer, /pick 2 this one[/dim]")
                    continue
                if command == "/pick":
                    if other is None or argument not in ("1", "2"):
                        raise LifelongError("say /again first, then /pick 1 or /pick 2")
                    last = conversation.pick(last, other, first=argument == "1")
                    other = None
                elif command == "/good":
                    agent.feedback(last.id, rating=1)
                elif command == "/bad":
                    agent.feedback(last.id, rating=-1)
                elif command == "/correct":
                    agent.feedback(last.id, rating=-1, correction=argument)
                else:
                    raise LifelongError(f"unknown command {command}; use /good, /bad, /correct TEXT, /again, /pick 1|2 "
                                        "or /quit")
                console.print("[dim]thanks, noted[/dim]")
                continue
            stream = conversation.stream(line)
            for piece in stream:
                typer.echo(piece, nl=False)
            typer.echo()
            last, other = stream.reply, None
            _print_sources(last.sources)
        except LifelongError as exc:
            typer.echo(f"Error: {exc}", err=True)


def feedback(
    ctx: typer.Context,
    interaction_id: int = typer.Argument(..., help="Interaction id (shown by ask, listed by 'lifelong logs')."),
    good: bool = typer.Option(False, "--good", help="The answer was right."),
    bad: bool = typer.Option(False, "--bad", help="The answer was wrong."),
    correct: Optional[str] = typer.Option(None, "--correct", help="The right answer; the agent learns it."),
    prefer: Optional[str] = typer.Option(None, "--prefer", help="A better answer than the logged one (or than --over)."),
    over: Optional[str] = typer.Option(None, "--over", help="With --prefer: the worse answer (default: the logged one)."),
    as_json: bool = typer.Option(False, "--json", help="Print the stored feedback as JSON."),
):
    """Rate, correct, or prefer one answer over another."""
    if prefer is not None:
        if good or bad or correct is not None:
            raise LifelongError("--prefer cannot be combined with --good, --bad or --correct")
        server = warm.running_server(ctx.obj.workspace)
        if server is not None:
            record = server.post("/v1/feedback", {"interaction_id": interaction_id, "chosen": prefer, "rejected": over})
        else:
            record = ctx.obj.agent.prefer(interaction_id, chosen=prefer, rejected=over)
    else:
        if over is not None:
            raise LifelongError("--over needs --prefer TEXT: the answer preferred over it")
        if good and (bad or correct):
            raise LifelongError("--good cannot be combined with --bad or --correct")
        if not (good or bad or correct is not None):
            raise LifelongError("say --good, --bad or --correct TEXT, or --prefer TEXT")
        rating = 1 if good else (-1 if bad or correct is not None else None)
        server = warm.running_server(ctx.obj.workspace)
        if server is not None:  # the server's correction memory sees it at once
            record = server.post("/v1/feedback", {"interaction_id": interaction_id, "rating": rating, "correction": correct})
        else:
            record = ctx.obj.agent.feedback(interaction_id, rating=rating, correction=correct)
    if as_json:
        print_json(record)
    else:
        # Say what will be learned: a bad answer is learned as one to avoid, not as one to give.
        learned = ("the preferred answer" if prefer is not None else "the corrected answer" if correct is not None
                   else "an answer to avoid" if bad else "an answer to give")
        typer.echo(f"feedback stored for #{interaction_id}" + (f" (a training example now: {learned})" if record["example_id"] else ""))

"""serve."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import InputError


# Seconds between starting the server and opening the browser on its dashboard ('lifelong ui').
OPEN_AFTER = 1.5


def add_to(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("ui")(ui)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind; anything but loopback needs a token."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    token: Optional[str] = typer.Option(
        None, "--token", envvar="LIFELONG_API_TOKEN",
        help="Bearer token clients must send. Prefer LIFELONG_API_TOKEN or --token-file: other users see arguments in 'ps'.",
    ),
    token_file: Optional[Path] = typer.Option(None, "--token-file", help="Read the bearer token from this file."),
    require_token: bool = typer.Option(False, "--require-token", help="Require the token on loopback too."),
    allow_host: Optional[List[str]] = typer.Option(
        None, "--allow-host", help="Host name clients may use besides localhost (repeat; '*' for any). Guards against DNS rebinding.",
    ),
    max_body_mb: float = typer.Option(1.0, "--max-body-mb", min=0.001, max=1024, help="Largest request body accepted."),
):
    """Serve an OpenAI-compatible API (/v1/models, /v1/chat/completions, /v1/feedback, /v1/learn,
    /v1/versions, /healthz) and the operator's dashboard at /ui."""
    if token_file is not None:
        if token:
            raise InputError("give the token once: --token-file, or --token / LIFELONG_API_TOKEN")
        try:
            token = token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"--token-file {token_file}: cannot read it ({exc})") from None
        if not token:
            raise InputError(f"--token-file {token_file} is empty")
    elif token and ctx.get_parameter_source("token").name == "COMMANDLINE":
        typer.echo("warning: --token is visible to other users in 'ps'; prefer LIFELONG_API_TOKEN or --token-file", err=True)
    if (require_token or not is_loopback(host)) and not token:
        raise InputError(f"binding to {host} needs a bearer token: set LIFELONG_API_TOKEN or pass --token-file")
    hosts = [*(allow_host or []), *([] if is_loopback(host) or host in ("0.0.0.0", "::") else [host])]
    _run(ctx.obj.workspace, host, port, token, hosts, max_body_mb)


def ui(
    ctx: typer.Context,
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port."),
    open_browser: bool = typer.Option(True, "--open/--no-open", help="Open the dashboard in the default browser."),
):
    """Serve on this machine (127.0.0.1) and open the dashboard, /ui, in a browser. For another
    address or a token, use 'lifelong serve' and open /ui yourself."""
    url = f"http://127.0.0.1:{port}/ui"
    typer.echo(f"dashboard at {url} (Ctrl-C stops it)")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(OPEN_AFTER, webbrowser.open, [url]).start()
    _run(ctx.obj.workspace, "127.0.0.1", port, None, [], 1.0)


def _run(workspace, host, port, token, hosts, max_body_mb) -> None:
    import socket

    import uvicorn

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:  # uvicorn would log a traceback-like error and exit 3
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port") from None

    from ..core.workspace import Workspace
    from ..server import create_app
    from .warm import announced

    app = create_app(workspace, token=token, allowed_hosts=hosts, max_body_bytes=int(max_body_mb * 1_000_000))
    with announced(Workspace.resolve(workspace).path, host, port, token):  # the CLI's warm path (cli/warm.py)
        uvicorn.run(app, host=host, port=port, log_level="info")

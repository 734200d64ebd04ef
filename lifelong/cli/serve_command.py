"""serve."""

from __future__ import annotations

import ipaddress
from typing import Optional

import typer

from ..core.errors import InputError


def add_to(app: typer.Typer) -> None:
    app.command("serve")(serve)


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
    token: Optional[str] = typer.Option(None, "--token", envvar="LIFELONG_API_TOKEN", help="Bearer token clients must send."),
    require_token: bool = typer.Option(False, "--require-token", help="Require the token on loopback too."),
):
    """Serve an OpenAI-compatible API: /v1/chat/completions, /v1/feedback, /v1/learn, /v1/versions, /healthz."""
    if (require_token or not is_loopback(host)) and not token:
        raise InputError(f"binding to {host} needs a bearer token: pass --token or set LIFELONG_API_TOKEN")
    import uvicorn

    from ..server import create_app

    uvicorn.run(create_app(ctx.obj.workspace, token=token), host=host, port=port, log_level="info")

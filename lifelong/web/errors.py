"""One error shape for every refusal, OpenAI's: ``{"error": {"message", "type", "param",
"code"}}``, including FastAPI's validation errors and Starlette's HTTP errors, so a client
reads every failure the same way."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import DatabaseUnavailable, LifelongError, NotFoundError
from ..validation import printable

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 405: "invalid_request_error", 409: "conflict_error", 413: "invalid_request_error",
          422: "invalid_request_error"}
# How soon a client may try again when the database is unreachable: a restart takes seconds.
RETRY_AFTER_S = 5


def error_response(status: int, message: str, type_: str | None = None, param: str | None = None,
                   code: str | None = None, headers: dict | None = None) -> JSONResponse:
    body = {"error": {"message": printable(message), "type": type_ or _TYPES.get(status, "api_error"),
                      "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(location) -> str:
    """("body", "messages", 0, "content") -> "messages.0.content"; the body itself -> "body"."""
    parts = [str(p) for p in location if p != "body"]
    return ".".join(parts) or "body"


def validation_message(errors) -> tuple[str, str]:
    """One line naming each bad field and what is wrong with it, and the first field."""
    fields, lines = [], []
    for error in errors:
        field = _field(error.get("loc", ()))
        # A union type (content: text or parts) reports each alternative; name the field once.
        base = field.split(".str")[0].split(".list[")[0]
        if base in fields:
            continue
        fields.append(base)
        lines.append(f"{base}: {error.get('msg', 'invalid')}")
    return "; ".join(lines[:3]) or "invalid request", fields[0] if fields else "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(LifelongError)
    async def user_error(request: Request, exc: LifelongError):
        if isinstance(exc, DatabaseUnavailable):  # not the client's fault: it may try again
            return error_response(503, str(exc), type(exc).__name__, headers={"Retry-After": str(RETRY_AFTER_S)})
        status = 404 if isinstance(exc, NotFoundError) else 400
        return error_response(status, str(exc), type(exc).__name__)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        message, param = validation_message(exc.errors())
        return error_response(422, message, param=param)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

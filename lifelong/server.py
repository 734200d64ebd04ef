"""An OpenAI-compatible HTTP API over an agent (FastAPI). ``lifelong serve`` runs it.

Requests share one serving agent (its model answers one request at a time); a learning run
gets an agent of its own, so questions are answered while it trains, and a promoted adapter
is used from the next request on, without a restart."""

from __future__ import annotations

import hmac
import json
import threading
import time
from typing import Literal, Optional

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .core.agent import Agent
from .errors import InputError, LifelongError, NotFoundError
from .validation import MAX_ID, check_question, printable

# Host names a browser uses for this machine. Any other Host header is refused, so a web page
# cannot reach a token-less local server through DNS rebinding.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
MAX_BODY_BYTES = 1_000_000


class ChatMessage(BaseModel):
    role: str
    content: str


class ChatRequest(BaseModel):
    model: str = Field("chat", description="The lifelong task that answers (chat, or a configured task)")
    messages: list[ChatMessage]
    stream: bool = False
    retrieval: bool = True
    conversation: Optional[str] = Field(
        None, description="Conversation id to log the turn under (as returned in 'lifelong'); by default "
        "the conversation whose last turn matches the messages, else a new one")


class FeedbackRequest(BaseModel):
    interaction_id: int = Field(ge=1, le=MAX_ID)
    rating: Optional[Literal[-1, 1]] = None
    correction: Optional[str] = None


class LearnRequest(BaseModel):
    task: str = "chat"
    strategy: Optional[str] = None


def create_app(workspace, token: str | None = None, allowed_hosts=(), max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """``allowed_hosts``: Host names accepted besides the loopback ones ("*": any).
    ``max_body_bytes``: larger request bodies are refused with 413. With a ``token``, the
    OpenAPI schema and /docs are not served (they would be open to anyone)."""
    docs = {} if token is None else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(title="lifelong", description="OpenAI-compatible API of a lifelong agent", **docs)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=[*LOOPBACK_HOSTS, *allowed_hosts])
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    agent = Agent.open(workspace)
    serving = threading.Lock()  # one SQLite connection and one model: one request at a time

    def authorize(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong bearer token")

    @app.exception_handler(LifelongError)
    async def user_error(request, exc: LifelongError):
        status = 404 if isinstance(exc, NotFoundError) else 400
        return JSONResponse({"error": {"message": printable(str(exc)), "type": type(exc).__name__}}, status_code=status)

    def turn(body: ChatRequest) -> tuple[str, list[dict], str | None]:
        """The question (the last message, from the user), the earlier user and assistant turns
        as history (the task has its own system prompt), and the conversation they belong to."""
        if not body.messages or body.messages[-1].role != "user":
            raise InputError("the last message must have role 'user': it is the question to answer")
        history = [{"role": m.role, "content": m.content} for m in body.messages[:-1] if m.role in ("user", "assistant")]
        conversation = body.conversation
        if conversation is None and len(history) >= 2 and history[-1]["role"] == "assistant":
            conversation = agent.log.conversation_of(history[-2]["content"], history[-1]["content"])
        return body.messages[-1].content, history, conversation

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)])
    def chat_completions(body: ChatRequest):
        text, history, conversation = turn(body)
        if body.stream:
            # Errors the request can cause are answered with a status before the stream starts.
            check_question(text)
            agent.task(body.model)
            return StreamingResponse(_stream(body, text, history, conversation), media_type="text/event-stream")
        with serving:
            reply = agent.ask(text, task=body.model, retrieval=body.retrieval, history=history, conversation=conversation)
            row = agent.log.get(reply.id)
        return {
            "id": f"chatcmpl-{reply.id}", "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": row["prompt_tokens"] or 0, "completion_tokens": row["completion_tokens"] or 0,
                      "total_tokens": (row["prompt_tokens"] or 0) + (row["completion_tokens"] or 0)},
            "lifelong": _extra(reply),
        }

    def _stream(body: ChatRequest, text: str, history: list[dict], conversation: str | None):
        created = int(time.time())

        def chunk(delta, finish=None, extra=None, cid="chatcmpl-pending"):
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if extra:
                data["lifelong"] = extra
            return f"data: {json.dumps(data)}\n\n"

        with serving:
            try:
                yield chunk({"role": "assistant", "content": ""})
                for piece in agent.stream(text, task=body.model, retrieval=body.retrieval, history=history,
                                          conversation=conversation):
                    yield chunk({"content": piece})
                reply = agent.last_reply
                yield chunk({}, "stop", _extra(reply), cid=f"chatcmpl-{reply.id}")
            except LifelongError as exc:
                yield f"data: {json.dumps({'error': {'message': str(exc)}})}\n\n"
        yield "data: [DONE]\n\n"

    @app.post("/v1/feedback", dependencies=[Depends(authorize)])
    def feedback(body: FeedbackRequest):
        with serving:
            return agent.feedback(body.interaction_id, rating=body.rating, correction=body.correction)

    @app.post("/v1/learn", dependencies=[Depends(authorize)])
    def learn(body: LearnRequest):
        # Its own agent: its own connection and model copies, so serving goes on meanwhile.
        with Agent.open(workspace) as learner:
            return learner.learn(body.task, body.strategy).to_dict()

    @app.get("/v1/versions", dependencies=[Depends(authorize)])
    def versions(task: Optional[str] = None):
        with serving:
            return agent.versions.list(task)

    app.state.agent = agent
    return app


def _extra(reply) -> dict:
    return {"interaction_id": reply.id, "sources": reply.sources, "model_version": reply.model_version,
            "answered_by": reply.answered_by, "conversation": reply.conversation, "latency_ms": round(reply.latency_ms, 1)}


class BodyLimit:
    """Refuses a request body over ``max_bytes`` with 413, by its Content-Length or, without
    one, while it is read, so an oversized body is never stored."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    def _message(self) -> str:
        return f"request body over {self.max_bytes} bytes; send less, or raise the limit with 'lifelong serve --max-body-mb'"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            response = JSONResponse({"error": {"message": self._message(), "type": "TooLarge"}}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def limited():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413, self._message())  # raised while FastAPI reads the body
            return message

        await self.app(scope, limited, send)

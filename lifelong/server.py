"""An OpenAI-compatible HTTP API over an agent (FastAPI). ``lifelong serve`` runs it.

Requests share one serving agent (its model answers one request at a time); a learning run
gets an agent of its own, so questions are answered while it trains, and a promoted adapter
is used from the next request on, without a restart."""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from datetime import datetime
from typing import Literal, Optional, Union

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from starlette.middleware.trustedhost import TrustedHostMiddleware

from .core.agent import Agent
from .core.runs import version_record
from .core.task import GenerationOptions
from .errors import InputError, LifelongError
from .validation import MAX_ID, check_question, check_subject
from .web import dashboard, errors

# Host names a browser uses for this machine. Any other Host header is refused, so a web page
# cannot reach a token-less local server through DNS rebinding.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")
MAX_BODY_BYTES = 1_000_000


class ContentPart(BaseModel):
    type: str = Field(description="Only 'text' parts are answered")
    text: Optional[str] = None


class ChatMessage(BaseModel):
    role: str
    content: Union[str, list[ContentPart]] = Field(description="Text, or a list of parts as the OpenAI API allows")


class StreamOptions(BaseModel):
    include_usage: bool = False


# A longer conversation is not one a person had: its prompt is fitted by dropping the oldest turns.
MAX_MESSAGES = 500


class SearchRequest(BaseModel):
    query: str = Field(..., min_length=1, max_length=20_000, description="What to look for")
    k: Optional[int] = Field(None, ge=1, le=1000, description="How many chunks (default: retrieval.top_k)")
    mode: Optional[str] = Field(None, description="dense, keyword or hybrid (default: retrieval.mode)")


class ChatRequest(BaseModel):
    model: str = Field("chat", description="The lifelong task that answers (chat, or a configured task; GET /v1/models)")
    messages: list[ChatMessage] = Field(max_length=MAX_MESSAGES, description=f"At most {MAX_MESSAGES} messages")
    n: int = Field(1, ge=1, le=1, description="Choices to generate: one (as served, greedy or sampled once)")
    stream: bool = False
    stream_options: Optional[StreamOptions] = None
    max_tokens: Optional[int] = Field(None, ge=1, le=1_000_000, description="Most tokens generated")
    max_completion_tokens: Optional[int] = Field(None, ge=1, le=1_000_000, description="Newer name of max_tokens")
    temperature: Optional[float] = Field(None, ge=0, le=2, description="0 decodes greedily (default: generation.temperature)")
    top_p: Optional[float] = Field(None, gt=0, le=1)
    stop: Optional[Union[str, list[str]]] = Field(None, description="Up to 4 strings that end the answer")
    retrieval: bool = True
    conversation: Optional[str] = Field(
        None, description="Conversation id to log the turn under (as returned in 'lifelong'); by default "
        "the conversation whose last turn matches the messages, else a new one")
    user: Optional[str] = Field(None, max_length=200, description="Who asks (your id of them), as in the OpenAI API: "
                                "'lifelong forget --user' erases their data")


class FeedbackRequest(BaseModel):
    interaction_id: int = Field(ge=1, le=MAX_ID)
    rating: Optional[Literal[-1, 1]] = None
    correction: Optional[str] = None
    chosen: Optional[str] = Field(None, description="A preference: the better answer (with no rating or correction)")
    rejected: Optional[str] = Field(None, description="With chosen: the worse answer (default: the logged one)")


class LearnRequest(BaseModel):
    task: str = "chat"
    strategy: Optional[str] = None


def _text(message: ChatMessage, number: int) -> str:
    if isinstance(message.content, str):
        return message.content
    texts = []
    for part in message.content:
        if part.type != "text" or part.text is None:
            raise InputError(f"messages[{number}].content: a part of type {part.type!r} cannot be answered; send text parts")
        texts.append(part.text)
    return "\n".join(texts)


def _generation(body: ChatRequest) -> GenerationOptions:
    stops = [body.stop] if isinstance(body.stop, str) else list(body.stop or [])
    if len(stops) > 4 or any(not s for s in stops):
        raise InputError("stop: give at most 4 non-empty strings")
    # The request's system messages replace the workspace's system prompt, as with OpenAI's API.
    systems = [_text(m, i) for i, m in enumerate(body.messages) if m.role in ("system", "developer")]
    return GenerationOptions(body.max_completion_tokens or body.max_tokens, body.temperature, body.top_p, tuple(stops),
                             "\n".join(systems) if systems else None)


def create_app(workspace, token: str | None = None, allowed_hosts=(), max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The API under /v1 and the operator's dashboard under /ui.
    ``allowed_hosts``: Host names accepted besides the loopback ones ("*": any).
    ``max_body_bytes``: larger request bodies are refused with 413. With a ``token``, the
    OpenAPI schema and /docs are not served (they would be open to anyone)."""
    docs = {} if token is None else {"openapi_url": None, "docs_url": None, "redoc_url": None}
    app = FastAPI(title="lifelong", description="OpenAI-compatible API of a lifelong agent", **docs)
    app.add_middleware(HostCheck, allowed_hosts=[*LOOPBACK_HOSTS, *allowed_hosts])
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    agent = Agent.open(workspace)
    serving = threading.Lock()  # one SQLite connection and one model: one request at a time
    jobs = agent.background_learner()
    errors.install(app)

    def authorize(request: Request) -> None:
        if token is None:
            return
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise HTTPException(401, "missing or wrong bearer token")

    def turn(body: ChatRequest) -> tuple[str, list[dict], str | None]:
        """The question (the last message, from the user), the earlier user and assistant turns
        as history (system messages go to ``_generation``), and the conversation they belong to."""
        if not body.messages or body.messages[-1].role != "user":
            raise InputError("the last message must have role 'user': it is the question to answer")
        texts = [_text(m, i) for i, m in enumerate(body.messages)]
        history = [{"role": m.role, "content": t} for m, t in zip(body.messages[:-1], texts) if m.role in ("user", "assistant")]
        conversation = body.conversation
        if conversation is None and len(history) >= 2 and history[-1]["role"] == "assistant":
            conversation = agent.conversation_of(history[-2]["content"], history[-1]["content"])
        return texts[-1], history, conversation

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/v1/models", dependencies=[Depends(authorize)])
    def models():
        """One model per task: the name to give as ``model`` in a chat completion."""
        with serving:
            return {"object": "list", "data": [_model_entry(agent, name, options) for name, options in agent.tasks().items()]}

    @app.get("/v1/models/{name}", dependencies=[Depends(authorize)])
    def model(name: str):
        with serving:
            agent.task(name)
            return _model_entry(agent, name, agent.tasks()[name])

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)])
    def chat_completions(body: ChatRequest):
        # An unknown task is refused before anything is logged: it is the client's typo.
        with serving:
            agent.task(body.model)
        text, history, conversation = turn(body)
        generation = _generation(body)
        if body.stream:
            # Errors the request can cause are answered with a status before the stream starts.
            check_question(text)
            check_subject(body.user)
            usage = body.stream_options is not None and body.stream_options.include_usage
            return StreamingResponse(_stream(body, text, history, conversation, generation, usage), media_type="text/event-stream")
        with serving:
            reply = agent.ask(text, task=body.model, retrieval=body.retrieval, history=history, conversation=conversation,
                              generation=generation, user=body.user)
            usage = _usage(agent, agent.interaction(reply.id))
        return {
            "id": f"chatcmpl-{reply.id}", "object": "chat.completion", "created": int(time.time()), "model": body.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": reply.answer},
                         "finish_reason": reply.finish_reason}],
            "usage": usage,
            "lifelong": _extra(reply),
        }

    def _stream(body: ChatRequest, text: str, history: list[dict], conversation: str | None, generation, usage: bool):
        created = int(time.time())
        # One id for every chunk of a response, as OpenAI's; the interaction it is logged as is
        # known only at the end, and the last chunk names it (lifelong.interaction_id).
        cid = f"chatcmpl-{secrets.token_hex(12)}"

        def chunk(delta, finish=None, extra=None):
            data = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": body.model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage:
                data["usage"] = None  # as OpenAI: only the last chunk, with no choices, carries it
            if extra:
                data["lifelong"] = extra
            return f"data: {json.dumps(data)}\n\n"

        with serving:
            try:
                yield chunk({"role": "assistant", "content": ""})
                stream = agent.stream(text, task=body.model, retrieval=body.retrieval, history=history,
                                      conversation=conversation, generation=generation, user=body.user)
                for piece in stream:
                    yield chunk({"content": piece})
                reply = stream.reply
                yield chunk({}, reply.finish_reason, _extra(reply))
                if usage:
                    last = {"id": cid, "object": "chat.completion.chunk", "created": created,
                            "model": body.model, "choices": [], "usage": _usage(agent, agent.interaction(reply.id))}
                    yield f"data: {json.dumps(last)}\n\n"
            except LifelongError as exc:
                yield f"data: {json.dumps({'error': {'message': str(exc), 'type': type(exc).__name__, 'param': None, 'code': None}})}\n\n"
        yield "data: [DONE]\n\n"

    @app.post("/v1/feedback", dependencies=[Depends(authorize)])
    def feedback(body: FeedbackRequest):
        if body.chosen is None and body.rejected is not None:
            raise InputError("rejected needs chosen: the answer preferred over it")
        if body.chosen is not None and (body.rating is not None or body.correction is not None):
            raise InputError("a preference (chosen, rejected) cannot be combined with a rating or a correction; "
                             "send them as two requests")
        with serving:
            if body.chosen is not None:
                return agent.prefer(body.interaction_id, chosen=body.chosen, rejected=body.rejected)
            return agent.feedback(body.interaction_id, rating=body.rating, correction=body.correction)

    @app.post("/v1/learn", status_code=202, dependencies=[Depends(authorize)])
    def learn(body: LearnRequest):
        """Start a learning run in the background; poll GET /v1/learn/{id} for its progress."""
        with serving:
            return jobs.start(body.task, body.strategy).to_dict()

    @app.get("/v1/learn", dependencies=[Depends(authorize)])
    def learning_jobs():
        return {"object": "list", "data": [job.to_dict() for job in jobs.list()]}

    @app.get("/v1/learn/{job_id}", dependencies=[Depends(authorize)])
    def learning_job(job_id: str):
        return jobs.get(job_id).to_dict()

    @app.delete("/v1/learn/{job_id}", dependencies=[Depends(authorize)])
    def cancel_learning_job(job_id: str):
        """Cancel at the next training step; nothing of the run is promoted."""
        return jobs.cancel(job_id).to_dict()

    @app.post("/v1/search", dependencies=[Depends(authorize)])
    def search(body: SearchRequest):
        """The knowledge base's chunks nearest ``query``, as ``lifelong search --json`` lists them."""
        with serving:
            return {"hits": [hit.__dict__ for hit in agent.search(body.query, k=body.k, mode=body.mode)]}

    @app.get("/v1/versions", dependencies=[Depends(authorize)])
    def versions(task: Optional[str] = None):
        with serving:
            agent.check_task_name(task)
            return [version_record(r) for r in agent.versions(task)]

    dashboard.install(app, agent, serving, jobs, token)
    app.state.agent = agent
    app.state.jobs = jobs
    return app


def _usage(agent, row: dict) -> dict:
    prompt, completion = row["prompt_tokens"], row["completion_tokens"]
    if prompt is None and row["output"] is not None and agent.task(row["task"]).generates:
        # answered by no model before any was loaded (core/agent.py): counted now
        prompt, completion = agent.count_usage(row["input"], row["output"])
    prompt, completion = prompt or 0, completion or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _model_entry(agent, name: str, options: dict) -> dict:
    active = agent.active_version(name)
    created = int(datetime.fromisoformat(active["created_at"]).timestamp()) if active else 0
    return {"id": name, "object": "model", "created": created, "owned_by": "lifelong",
            "lifelong": {"plugin": options.get("plugin", name), "version": f"v{active['number']}" if active else "base"}}


def _extra(reply) -> dict:
    return {"interaction_id": reply.id, "sources": reply.sources, "model_version": reply.model_version,
            "answered_by": reply.answered_by, "conversation": reply.conversation, "latency_ms": round(reply.latency_ms, 1),
            **({"confidence": reply.confidence} if reply.confidence is not None else {})}


class HostCheck:
    """Starlette's TrustedHostMiddleware decides; a refusal is answered in the API's error shape
    instead of its plain-text one."""

    def __init__(self, app, allowed_hosts):
        self.app = app
        self.check = TrustedHostMiddleware(self._passed, allowed_hosts=allowed_hosts, www_redirect=False)

    @staticmethod
    async def _passed(scope, receive, send):
        scope["lifelong.host_ok"] = True

    async def __call__(self, scope, receive, send):
        async def discard(message):
            pass

        await self.check(scope, receive, discard)
        if scope.pop("lifelong.host_ok", False):
            return await self.app(scope, receive, send)
        host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
        response = errors.error_response(
            400, f"Host header {host!r} is not accepted; use localhost, or start the server with --allow-host NAME")
        await response(scope, receive, send)


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
            response = errors.error_response(413, self._message(), "TooLarge")
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

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

from .core.agent import Agent
from .core.errors import InputError, LifelongError, NotFoundError


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
    interaction_id: int
    rating: Optional[Literal[-1, 1]] = None
    correction: Optional[str] = None


class LearnRequest(BaseModel):
    task: str = "chat"
    strategy: Optional[str] = None


def create_app(workspace, token: str | None = None) -> FastAPI:
    app = FastAPI(title="lifelong", description="OpenAI-compatible API of a lifelong agent")
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
        return JSONResponse({"error": {"message": str(exc), "type": type(exc).__name__}}, status_code=status)

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
        return {"status": "ok", "workspace": str(agent.workspace.path)}

    @app.post("/v1/chat/completions", dependencies=[Depends(authorize)])
    def chat_completions(body: ChatRequest):
        text, history, conversation = turn(body)
        if body.stream:
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

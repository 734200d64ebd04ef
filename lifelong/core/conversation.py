"""A conversation: turns that see the earlier ones, grouped under one id in the log."""

from __future__ import annotations

import uuid
from typing import Iterator

from .task import Reply


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


class Conversation:
    """``agent.conversation()``: ask or stream turn after turn; each turn gets the earlier ones as
    history (the task drops the oldest when the context window is full)."""

    def __init__(self, agent, task: str = "chat", retrieval: bool = True, conversation_id: str | None = None):
        self.agent, self.task, self.retrieval = agent, task, retrieval
        self.id = conversation_id or new_conversation_id()
        self.history: list[dict] = []
        self.last_reply: Reply | None = None

    def ask(self, text: str) -> Reply:
        reply = self.agent.ask(text, self.task, self.retrieval, history=self.history, conversation=self.id)
        self._remember(text, reply)
        return reply

    def stream(self, text: str) -> Iterator[str]:
        yield from self.agent.stream(text, self.task, self.retrieval, history=self.history, conversation=self.id)
        self._remember(text, self.agent.last_reply)

    def _remember(self, text: str, reply: Reply) -> None:
        self.history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply.answer}]
        self.last_reply = reply

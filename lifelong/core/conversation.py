"""A conversation: turns that see the earlier ones, grouped under one id in the log."""

from __future__ import annotations

import uuid

from ..errors import InputError
from .task import GenerationOptions, Reply, ReplyStream

# Sampling for a second answer when the workspace decodes greedily (it would repeat the first).
REGENERATE_TEMPERATURE = 0.8


def new_conversation_id() -> str:
    return uuid.uuid4().hex[:16]


class Conversation:
    """``agent.conversation()``: ask or stream turn after turn; each turn gets the earlier ones as
    history (the task drops the oldest when the context window is full)."""

    def __init__(self, agent, task: str = "chat", retrieval: bool = True, conversation_id: str | None = None,
                 user: str | None = None):
        self.agent, self.task, self.retrieval, self.user = agent, task, retrieval, user
        self.id = conversation_id or new_conversation_id()
        self.history: list[dict] = []

    def ask(self, text: str) -> Reply:
        reply = self.agent.ask(text, self.task, self.retrieval, history=self.history, conversation=self.id, user=self.user)
        self._remember(text, reply)
        return reply

    def stream(self, text: str) -> ReplyStream:
        """The turn's answer in pieces; it joins the history once the stream has ended."""
        return ReplyStream(self._stream(text))

    def _stream(self, text: str):
        stream = self.agent.stream(text, self.task, self.retrieval, history=self.history, conversation=self.id,
                                   user=self.user)
        yield from stream
        self._remember(text, stream.reply)
        return stream.reply

    def regenerate(self) -> Reply:
        """Another answer to the last question, sampled, on the same history (logged as a turn of
        this conversation); ``pick`` keeps the better of the two."""
        if len(self.history) < 2:
            raise InputError("nothing to answer again yet: ask something first")
        text, earlier = self.history[-2]["content"], self.history[:-2]
        temperature = self.agent.config.generation.temperature or REGENERATE_TEMPERATURE
        return self.agent.ask(text, self.task, self.retrieval, history=earlier, conversation=self.id,
                              generation=GenerationOptions(temperature=temperature), user=self.user)

    def pick(self, answer: Reply, regenerated: Reply, first: bool) -> Reply:
        """Keep ``answer`` (``first``) or ``regenerated`` as the last turn's answer: a preference
        of the kept one over the other (``Agent.prefer``); the conversation goes on from it."""
        chosen, rejected = (answer, regenerated) if first else (regenerated, answer)
        self.agent.prefer(answer.id, chosen=chosen.answer, rejected=rejected.answer)
        self.history[-1] = {"role": "assistant", "content": chosen.answer}
        return chosen

    def _remember(self, text: str, reply: Reply) -> None:
        self.history += [{"role": "user", "content": text}, {"role": "assistant", "content": reply.answer}]

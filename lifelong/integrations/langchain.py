"""LangChain integration: the workspace's hybrid search as a retriever, and the agent as a chat
model whose interactions are logged (and so learnable), with the interaction id in the
response metadata for feedback."""

from __future__ import annotations

from typing import Any, Iterator

from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..errors import InputError


class LifelongRetriever(BaseRetriever):
    """Chunks from the agent's knowledge base, best first."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    agent: Any
    k: int = 4
    mode: str = "hybrid"

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None
    ) -> list[Document]:
        hits = self.agent.search(query, k=k or self.k, mode=self.mode)
        return [
            Document(page_content=h.text, metadata={"source": h.document, "chunk_id": h.chunk_id, "position": h.position, "score": h.score})
            for h in hits
        ]


def _text(message: BaseMessage) -> str:
    return message.content if isinstance(message.content, str) else message.text


def _turn(messages: list[BaseMessage]) -> tuple[str, list[dict]]:
    """The question (the last message, a HumanMessage) and the earlier human and AI turns as
    history; system messages are left to the task's own system prompt."""
    if not messages or not isinstance(messages[-1], HumanMessage):
        raise InputError("the last message must be a HumanMessage: it is the question to answer")
    history = [
        {"role": "user" if isinstance(m, HumanMessage) else "assistant", "content": _text(m)}
        for m in messages[:-1] if isinstance(m, (HumanMessage, AIMessage))
    ]
    return _text(messages[-1]), history


class LifelongChatModel(BaseChatModel):
    """Answers through ``Agent.ask``: retrieval, corrections, the task's active adapter, logging."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    agent: Any
    task: str = "chat"
    retrieval: bool = True

    @property
    def _llm_type(self) -> str:
        return "lifelong"

    @property
    def _identifying_params(self) -> dict:
        return {"task": self.task, "retrieval": self.retrieval, "workspace": str(self.agent.workspace.path)}

    def _get_ls_params(self, stop=None, **kwargs):
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_model_name"] = self.agent.config.models.generator
        return params

    def _generate(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> ChatResult:
        text, history = _turn(messages)
        reply = self.agent.ask(text, task=self.task, retrieval=self.retrieval, history=history)
        metadata = {"interaction_id": reply.id, "model_version": reply.model_version, "sources": reply.sources,
                    "answered_by": reply.answered_by, "latency_ms": reply.latency_ms,
                    "model_name": self.agent.config.models.generator}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=reply.answer, response_metadata=metadata))])

    def _stream(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None, **kwargs) -> Iterator[ChatGenerationChunk]:
        text, history = _turn(messages)
        stream = self.agent.stream(text, task=self.task, retrieval=self.retrieval, history=history)
        for piece in stream:
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
        reply = stream.reply
        yield ChatGenerationChunk(message=AIMessageChunk(content="", response_metadata={
            "interaction_id": reply.id, "model_version": reply.model_version, "sources": reply.sources,
            "answered_by": reply.answered_by}))

"""What a model plugin provides: ``register_models(register)`` registers a ``ModelLoader`` under
a name that ``[models] generator`` or ``embedder`` selects. The loader returns an object with
the members below; the built-in tasks and retriever use nothing else."""

from __future__ import annotations

from typing import Iterator, Protocol, runtime_checkable


class Generation(Protocol):
    """What ``TextGenerator.generate`` returns."""

    text: str
    prompt_tokens: int
    completion_tokens: int


@runtime_checkable
class TextGenerator(Protocol):
    """A chat model. ``messages`` are ``{"role", "content"}`` dicts; ``adapter`` is
    ``(name, path)`` of a learned adapter to answer with, or None for the base model."""

    tokenizer: object
    context_length: int

    def count_tokens(self, messages: list[dict]) -> int: ...

    def generate(self, messages: list[dict], max_new_tokens: int = 128, temperature: float = 0.0,
                 top_p: float = 1.0, adapter: tuple[str, str] | None = None) -> Generation: ...

    def stream(self, messages: list[dict], max_new_tokens: int = 128, temperature: float = 0.0,
               top_p: float = 1.0, adapter: tuple[str, str] | None = None) -> Iterator[str]: ...

    def fresh_base(self):
        """A new, trainable copy of the base model (a ``transformers`` causal LM)."""


@runtime_checkable
class TextEmbedder(Protocol):
    """A sentence encoder: ``encode`` returns L2-normalised float32 rows of width ``dim``, so a
    dot product is the cosine similarity."""

    dim: int
    tokenizer: object  # counts tokens when text is cut into chunks

    def encode(self, texts: list[str]): ...


class ModelLoader(Protocol):
    """``loader(agent)``: called once per agent, on first use of the model it names."""

    def __call__(self, agent) -> TextGenerator | TextEmbedder: ...

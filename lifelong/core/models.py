"""What a model plugin provides: ``register_models(register)`` registers a ``ModelLoader`` under
a name that ``[models] generator`` or ``embedder`` selects. The loader returns an object with
the members below; the built-in tasks and retriever use nothing else."""

from __future__ import annotations

from typing import Generator, Protocol, runtime_checkable


class Generation(Protocol):
    """What ``TextGenerator.generate`` returns, and ``TextGenerator.stream`` once exhausted."""

    text: str  # the answer, stripped, without any stop string
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (ended, or a stop string came) or "length" (cut at max_new_tokens)


@runtime_checkable
class TextGenerator(Protocol):
    """A chat model. ``messages`` are ``{"role", "content"}`` dicts; ``adapter`` is
    ``(name, path)`` of a learned adapter to answer with, or None for the base model; ``stop``:
    strings at the first of which the answer ends, left out of it. Greedy when ``temperature``
    is 0: the same messages give the same answer. ``lifelong.testing.GeneratorTests`` checks it
    all, and that the chat task answers with it."""

    context_length: int  # tokens of prompt and answer together
    tokenizer: object  # a transformers tokenizer with a chat template: learning tokenizes with it

    def count_tokens(self, messages: list[dict]) -> int: ...

    def generate(self, messages: list[dict], max_new_tokens: int = 128, temperature: float = 0.0,
                 top_p: float = 1.0, adapter: tuple[str, str] | None = None, stop: tuple[str, ...] = ()) -> Generation: ...

    def stream(self, messages: list[dict], max_new_tokens: int = 128, temperature: float = 0.0,
               top_p: float = 1.0, adapter: tuple[str, str] | None = None,
               stop: tuple[str, ...] = ()) -> Generator[str, None, Generation]:
        """Yields the answer in pieces and returns its ``Generation`` (``StopIteration.value``);
        the pieces joined and stripped are its text. Closed early, it stops generating."""

    def fresh_base(self):
        """A new, trainable copy of the base model (a ``transformers`` causal LM), for learning;
        a generator that only answers may raise ``NotImplementedError``."""


@runtime_checkable
class TextEmbedder(Protocol):
    """A sentence encoder: ``encode`` returns L2-normalised float32 rows of width ``dim``, so a
    dot product is the cosine similarity (``encode([])`` has 0 rows). ``lifelong.testing.
    EmbedderTests`` checks it, and that retrieval finds with it."""

    dim: int
    # Counts tokens when text is cut into chunks: ``tokenize(text)`` gives the tokens; a fast
    # transformers tokenizer (``is_fast``) also gives character offsets, which cuts long text in one call.
    tokenizer: object
    # The transformers encoder (an ``AutoModel``) under ``encode``, for tasks that fine-tune or
    # pool it themselves (the ``classify`` task); None for an embedder that has none.
    transformer: object

    def encode(self, texts: list[str]): ...


class ModelLoader(Protocol):
    """``loader(agent)``: called once per agent, on first use of the model it names."""

    def __call__(self, agent) -> TextGenerator | TextEmbedder: ...

"""A generator and an embedder written from docs/plugins.md ("Models") alone, with no
transformers model under them: the conformance kit's GeneratorTests and EmbedderTests pass them
(tests/test_conformance.py), so the kit checks the documented contract and not the built-in
classes. ScriptedGenerator writes what a test sets, for the chat task's handling of what a model
writes (tests/test_checked_answers.py)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from lifelong.api import hookimpl


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str


class EchoGenerator:
    """Answers with the words of the last user message, one word per token."""

    context_length = 4096
    tokenizer = None  # it cannot be trained

    def count_tokens(self, messages: list[dict]) -> int:
        return sum(3 + len(m["content"].split()) for m in messages)

    def _answer(self, messages, max_new_tokens, stop):
        said = next(m["content"] for m in reversed(messages) if m["role"] == "user").split()
        words = ["You", "said:", *said][:max_new_tokens]
        text, ended = " ".join(words), len(words) < max_new_tokens or len(said) + 2 == max_new_tokens
        cuts = [text.find(s) for s in stop if s and s in text]
        if cuts:
            text, ended = text[: min(cuts)], True
        return text, len(words), "stop" if ended else "length"

    def generate(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()):
        text, used, finish = self._answer(messages, max_new_tokens, stop)
        return Generation(text.strip(), self.count_tokens(messages), used, finish)

    def stream(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()):
        text, used, finish = self._answer(messages, max_new_tokens, stop)
        for n, word in enumerate(text.split(" ")):
            yield word if n == 0 else " " + word
        return Generation(text.strip(), self.count_tokens(messages), used, finish)

    def fresh_base(self):
        raise NotImplementedError("EchoGenerator only answers")


class ScriptedGenerator(EchoGenerator):
    """Writes ``script`` whatever it is asked, streamed a word at a time."""

    script = ""
    closed_early = 0  # streams whose reader left before the end

    def _answer(self, messages, max_new_tokens, stop):
        return self.script, len(self.script.split()), "stop"

    def stream(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()):
        try:
            return (yield from super().stream(messages, max_new_tokens, temperature, top_p, adapter, stop))
        except GeneratorExit:
            self.closed_early += 1
            raise


class WhitespaceTokenizer:
    def tokenize(self, text: str) -> list[str]:
        return text.split()


class HashingEmbedder:
    """Words hashed into 64 buckets, unit length."""

    dim = 64
    tokenizer = WhitespaceTokenizer()
    transformer = None

    def encode(self, texts: list[str]) -> np.ndarray:
        rows = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in zip(rows, texts):
            row[0] = 1e-3  # an empty text still has a direction
            for word in text.lower().split():
                row[int(hashlib.sha1(word.strip(".,?!").encode()).hexdigest(), 16) % self.dim] += 1.0
            row /= np.linalg.norm(row)
        return rows


@hookimpl
def register_models(register):
    register("echo-llm", lambda agent: EchoGenerator())
    register("scripted-llm", lambda agent: ScriptedGenerator())
    register("hashing-embedder", lambda agent: HashingEmbedder())

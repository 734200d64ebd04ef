"""A generator that writes the answer a test gives it (``agent.generator.script``), streamed a
word at a time: the chat task's handling of what a model writes, without a model."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.api import hookimpl


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"


class ScriptedGenerator:
    context_length = 4096
    tokenizer = None
    script = ""

    def __init__(self):
        self.closed_early = 0  # streams whose reader left before the end

    def count_tokens(self, messages: list[dict]) -> int:
        return sum(3 + len(m["content"].split()) for m in messages)

    def generate(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()):
        return Generation(self.script, self.count_tokens(messages), len(self.script.split()))

    def stream(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()):
        words = self.script.split(" ")
        try:
            for n, word in enumerate(words):
                yield word if n == 0 else " " + word
        except GeneratorExit:
            self.closed_early += 1
            raise
        return Generation(self.script, self.count_tokens(messages), len(words))

    def fresh_base(self):
        raise NotImplementedError("ScriptedGenerator only answers")


@hookimpl
def register_models(register):
    register("scripted-llm", lambda agent: ScriptedGenerator())

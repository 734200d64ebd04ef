"""What the chat model is shown: the prompt (system, earlier turns, the question with numbered
source sentences), fitted to the model's context, and the decoding settings of one answer.
Training builds the same prompt, so the model learns what it will see."""

from __future__ import annotations

from dataclasses import dataclass

from lifelong.api import GenerationOptions, InputError

from .words import content_words

GROUNDED_INSTRUCTION = "Answer in one short sentence using only the sources, and cite the source as [n]."
_REFERRING = ("it", "its", "they", "them", "their", "that", "those", "this", "these", "one", "there")


@dataclass
class Decoding:
    """The decoding settings of one answer: the workspace's [generation], overridden per request."""

    max_new_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...] = ()
    system: str | None = None  # the request's own system prompt, instead of [generation]'s

    @classmethod
    def of(cls, config, request: GenerationOptions | None) -> "Decoding":
        request = request or GenerationOptions()
        return cls(
            config.max_new_tokens if request.max_tokens is None else request.max_tokens,
            config.temperature if request.temperature is None else request.temperature,
            config.top_p if request.top_p is None else request.top_p,
            tuple(request.stop),
            request.system,
        )


def search_query(text: str, history: list[dict]) -> str:
    """A follow-up ("And for sale items?", "How much does it weigh?") is searched together with
    the question before it; a question that stands on its own is searched alone."""
    previous = next((m["content"] for m in reversed(history) if m["role"] == "user"), None)
    if previous is None:
        return text
    lowered = f" {text.lower().strip()} "
    refers_back = any(f" {w} " in lowered.replace("?", " ").replace(",", " ") for w in _REFERRING) or lowered.lstrip().startswith(
        ("and ", "what about", "how about", "also ", "but "))
    return f"{previous} {text}" if refers_back or len(content_words(text)) <= 1 else text


class Prompting:
    """The chat task's prompts (a part of ``ChatTask``)."""

    @property
    def system_prompt(self) -> str:
        return self.agent.config.generation.system_prompt

    def search_query(self, text: str, history: list[dict]) -> str:
        return search_query(text, history)

    def messages(self, text: str, evidence: list | None = None, history: list[dict] = (), system: str | None = None) -> list[dict]:
        """The chat prompt: system (``system``, else the workspace's), earlier turns, then the
        question with its numbered source sentences."""
        user = text
        if evidence:
            lines = "\n".join(f"[{e.citation}] {e.text}" for e in evidence)
            user = f"Sources:\n{lines}\n\nQuestion: {text}\n{GROUNDED_INSTRUCTION}"
        return [{"role": "system", "content": self.system_prompt if system is None else system}, *history,
                {"role": "user", "content": user}]

    def fit(self, text: str, evidence: list, history: list[dict], max_new_tokens: int | None = None,
            system: str | None = None) -> tuple[list[dict], list]:
        """Drop the oldest turns, then the weakest sentences, until the prompt leaves room for the
        answer; refuse a question that is too long on its own."""
        generator = self.agent.generator
        budget = generator.context_length - (max_new_tokens or self.agent.config.generation.max_new_tokens)
        history, evidence = list(history), list(evidence)
        while True:
            messages = self.messages(text, evidence, history, system)
            used = generator.count_tokens(messages)
            if used <= budget:
                return messages, evidence
            if history:
                del history[:2]  # a user turn and its answer
            elif evidence:
                evidence.pop()
            else:
                raise InputError(
                    f"the question is {used} tokens; the model takes at most {budget} with room for the "
                    "answer. Shorten it"
                )

"""The ``chat`` task: generative question answering over retrieved context, citing sources."""

from __future__ import annotations

import re
from pathlib import Path

from lifelong import hookimpl
from lifelong.core.errors import InputError
from lifelong.core.task import Answer, Task, sources_of

_WORD = re.compile(r"[a-z0-9]+(?:[.,:][0-9]+)*")
_FILLER = frozenset("a an the is are was of to and or in on at for it its our we you your".split())


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FILLER}


class ChatTask(Task):
    uses_retrieval = True
    corrections_are_knowledge = True
    # Facts taught by correction are meant to be learned, all of them: the gate checks recall
    # on them and on earlier cycles' facts instead of on held-out questions.
    holds_out_examples = False

    def messages(self, text: str, hits: list) -> list[dict]:
        system = self.agent.config.generation.system_prompt
        if not hits:
            return [{"role": "system", "content": system}, {"role": "user", "content": text}]
        context = "\n\n".join(f"[{i}] ({_source_name(h.document)}) {h.text}" for i, h in enumerate(hits, 1))
        user = f"Context:\n{context}\n\nQuestion: {text}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def fit(self, text: str, hits: list) -> tuple[list[dict], list]:
        """Drop retrieved chunks, last first, until the prompt leaves room for the answer;
        refuse a question that is too long on its own."""
        generator = self.agent.generator
        budget = generator.context_length - self.agent.config.generation.max_new_tokens
        hits = list(hits)
        while True:
            messages = self.messages(text, hits)
            used = generator.count_tokens(messages)
            if used <= budget:
                return messages, hits
            if not hits:
                raise InputError(
                    f"the question is {used} tokens; the model takes at most {budget} with room for the "
                    "answer. Shorten it"
                )
            hits.pop()

    def answer(self, text: str, hits: list) -> Answer:
        messages, hits = self.fit(text, hits)
        gen = self.agent.config.generation
        adapter, version = self.agent.adapter_for(self.name)
        out = self.agent.generator.generate(
            messages, gen.max_new_tokens, gen.temperature, gen.top_p, adapter=adapter
        )
        return Answer(out.text, version, out.prompt_tokens, out.completion_tokens, sources=sources_of(hits))

    def stream(self, text: str, hits: list):
        messages, hits = self.fit(text, hits)
        gen = self.agent.config.generation
        adapter, _ = self.agent.adapter_for(self.name)
        yield from self.agent.generator.stream(messages, gen.max_new_tokens, gen.temperature, gen.top_p, adapter=adapter)

    def score(self, prediction: str, target: str, input: str = "") -> float:
        """1.0 when the answer carries the target's facts: at least 3/4 of the target's content
        words (numbers included) that the question does not already contain appear in the
        prediction. Echoing the question earns nothing."""
        wanted = content_words(target) - content_words(input) or content_words(target)
        if not wanted:
            return float(target.strip().lower() in prediction.lower())
        return float(len(wanted & content_words(prediction)) / len(wanted) >= 0.75)


    # --- learning -------------------------------------------------------------------------------

    @property
    def system_prompt(self) -> str:
        return self.agent.config.generation.system_prompt

    def train(self, examples, parent_path, penalty=None, progress=None):
        from lifelong.learning import causal_lm  # torch: loaded when learning starts, not at start-up

        gen = self.agent.generator
        return causal_lm.train(
            gen.fresh_base(), gen.tokenizer, examples, parent_path, self.agent.config.learning,
            self.system_prompt, penalty, progress,
        )

    def save_adapter(self, model, path) -> None:
        model.save_pretrained(path, safe_serialization=True)

    def assess(self, adapter_path, sets: dict) -> tuple[dict, float]:
        """Score the model with ``adapter_path`` (None: the base model) on each set of examples,
        answering without retrieval as the learned model must; plus the probe perplexity."""
        from peft import PeftModel

        from lifelong.learning import causal_lm

        gen = self.agent.generator
        model = gen.fresh_base()
        if adapter_path:
            model = PeftModel.from_pretrained(model, adapter_path)
        model.eval()
        scores = {}
        for key, examples in sets.items():
            if not examples:
                continue
            answers = causal_lm.generate_batch(
                model, gen.tokenizer, [causal_lm.chat_prompt(self.system_prompt, e["input"]) for e in examples],
                max_new_tokens=min(self.agent.config.generation.max_new_tokens, 64),
            )
            scores[key] = sum(self.score(a, e["target"], e["input"]) for a, e in zip(answers, examples)) / len(examples)
        return scores, causal_lm.perplexity(model, gen.tokenizer, causal_lm.probe_text())

    def fisher(self, model, examples) -> dict:
        from lifelong.learning import causal_lm

        return causal_lm.fisher_diagonal(model, self.agent.generator.tokenizer, examples, self.system_prompt)


def _source_name(document: str) -> str:
    return Path(document).name if "/" in document else document


@hookimpl
def register_tasks(register):
    register("chat", ChatTask)

"""How the chat task is assessed for the gate: each example set answered as served (the adapter
inside its scope, the base model outside), preference pairs by their margins, and the probes
(the perplexity of generic text, the behaviour probe's general questions)."""

from __future__ import annotations

import contextlib

from lifelong.api import PAIRS, answered_right, preference_pairs, probe_questions, to_give

from . import scope
from .served import ServedModel, saved_weights
from .words import content_words

# Most tokens generated for: a behaviour-probe answer, an answer the gate scores.
PROBE_TOKENS, FEEDBACK_TOKENS = 32, 64


class Assessing:
    """The chat task's assessment (a part of ``ChatTask``)."""

    def assess(self, adapter_path, sets: dict) -> tuple[dict, dict]:
        """Score the model with ``adapter_path`` (None: the base model) on each set of examples,
        answering without retrieval as the learned model must; plus the probes: perplexity of
        generic text, and which general questions of the behaviour probe it answers right.
        Questions are answered as served (the adapter inside its scope, the base model outside);
        the perplexity is the adapter's own, so damage its scope would hide is still caught. The
        report shows whether the adapter answers every question, and what kept it from it."""

        starting = [s for s in self._started_from.values() if s.adapter_path == adapter_path]
        served = starting[0] if starting else ServedModel(self, adapter_path)
        scores = {}
        for key, examples in sets.items():
            if examples:
                scores[key] = self._feedback_score(served, key, examples, scores)
        probe = probe_questions()
        answers = served.answers([p["question"] for p in probe], PROBE_TOKENS)
        behaviour = {p["question"]: answered_right(a, p["answers"]) for p, a in zip(probe, answers)}
        probes = {"perplexity": served.perplexity(), "behaviour": behaviour}
        check = scope.every_question_check(adapter_path) if adapter_path else None
        if check is not None:
            probes["report"] = {"answers_every_question": check["every_question"],
                                "every_question_lost": check["lost"]}
        return scores, probes

    def _feedback_score(self, served: ServedModel, key, examples, scores) -> float:
        """The share of a cycle's feedback the model honours: each answer to give that it gives
        as served (``score``), and each preference pair whose chosen answer it finds likelier per
        token than the rejected one (the pairs' margins go to ``scores[PAIRS][key]``)."""
        from lifelong.api import causal_lm, preference

        given = [e for e in examples if to_give(e)]
        answers = served.answers([e["input"] for e in given], FEEDBACK_TOKENS, keep=False) if given else []
        right = sum(self.score(a, e["target"], e["input"]) for a, e in zip(answers, given))
        pairs = [(self.messages(q), chosen, rejected) for q, chosen, rejected in preference_pairs(examples)]
        if pairs:
            tokenizer = self.agent.generator.tokenizer
            margins = preference.pair_margins(served.model, tokenizer, lambda e: causal_lm.features(tokenizer, self.system_prompt, e), pairs)
            scores.setdefault(PAIRS, {})[key] = margins
            right += sum(per_token > 0 for _, per_token in margins)
        return right / max(1, len(given) + len(pairs))

    def score(self, prediction: str, target: str, input: str = "") -> float:
        """1.0 when the answer carries the target's facts: at least 3/4 of the target's content
        words (numbers included) that the question does not already contain appear in the
        prediction. Echoing the question earns nothing."""
        wanted = content_words(target) - content_words(input) or content_words(target)
        if not wanted:
            return float(target.strip().lower() in prediction.lower())
        return float(len(wanted & content_words(prediction)) / len(wanted) >= 0.75)

    def _model(self, adapter_path: str | None):
        """A fresh copy of the base model with ``adapter_path`` on (None: the base model); the
        model just trained when that is what ``adapter_path`` holds (no second load)."""
        from peft import PeftModel

        trained = self._trained.get(saved_weights(adapter_path)) if adapter_path else None
        if trained is not None:
            return trained.eval()
        model = self.agent.generator.fresh_base()
        if adapter_path:
            model = PeftModel.from_pretrained(model, adapter_path)
        return model.eval()

    def _generate_batch(self, model, prompts: list[list[dict]], max_new_tokens: int) -> list[str]:
        from lifelong.api import causal_lm

        return causal_lm.generate_batch(model, self.agent.generator.tokenizer, prompts, max_new_tokens=max_new_tokens)

    def _answer_batch(self, model, adapter_path: str | None, questions: list[str], max_new_tokens: int,
                      prompts: list[list[dict]] | None = None) -> list[str]:
        """The answers the served model gives: the adapter's to the questions in its scope, the
        base model's (the adapter switched off) to the rest. ``prompts``: what each question is
        asked with (default: alone, as the gate asks)."""
        prompts = prompts or [self.messages(q) for q in questions]
        answers = [""] * len(questions)
        covered = self.in_scope(adapter_path, questions) if adapter_path else [True] * len(questions)
        for inside in (True, False):
            picked = [i for i, c in enumerate(covered) if bool(c) == inside]
            if not picked:
                continue
            with contextlib.nullcontext() if inside else model.disable_adapter():
                out = self._generate_batch(model, [prompts[i] for i in picked], max_new_tokens)
            for i, answer in zip(picked, out):
                answers[i] = answer
        return answers

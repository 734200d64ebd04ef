"""How the chat task learns: the items a cycle trains on (each taught question, its rewordings,
its sources, and the starting model's own answers to general prompts kept close: chat/training.py
says why), the adapter trained on them, and what is saved beside it (the questions it answers:
chat/scope.py)."""

from __future__ import annotations

import weakref

from lifelong.api import answered_right, behaviour_verdict, lost_questions, probe_questions

from . import grounding, scope, training
from .assessing import PROBE_TOKENS
from .served import ServedModel, saved_weights

DISTILLED_TOKENS = 48  # most tokens of a distilled answer


class Teaching:
    """The chat task's learning (a part of ``ChatTask``)."""

    def __init__(self):
        # What a cycle keeps in memory while the learner holds the model it trained, and no
        # longer (a model is ~0.5 GB; an agent serving between cycles holds neither): that model,
        # by its saved weights (save_adapter), for assess and load_trained; and the model its
        # training started from, which assesses the parent without a second load.
        self._trained: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
        self._started_from: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        # What save_adapter writes beside a trained model's weights: its scope vectors and the
        # every-question check, by the model train returned (kept off the torch module).
        self._scopes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def train(self, examples, parent_path, penalty=None, progress=None):
        from lifelong.api import causal_lm  # torch: loaded when learning starts, not at start-up

        step = progress.add_task("loading the models", total=1) if progress else None
        gen, _ = self.agent.generator, self.agent.embedder
        if progress:
            progress.update(step, advance=1)
        start = ServedModel(self, parent_path)
        items = self.training_items(examples, parent_path, start, progress)
        model = causal_lm.train(
            gen.fresh_base(), gen.tokenizer, items, parent_path, self.settings,
            self.agent.config.learning.seed, self.system_prompt, penalty, progress, self.agent.config.learning.micro_batch_size,
            self.agent.config.learning.preference_beta,
        )
        # Kept for assess: the parent is assessed by the same copy, loaded once if at all.
        self._started_from[model] = start
        # Saved beside the weights by save_adapter: the questions this adapter answers.
        self._scopes[model] = (scope.build(self.agent.embedder, self.taught_questions(examples), parent_path),
                               self._answers_every_question(model, examples, start))
        return model

    def _answers_every_question(self, model, examples: list[dict], start: ServedModel) -> dict | None:
        """Whether the adapter just trained on ``examples`` may answer every question asked
        without sources (chat/scope.py): None when its cycle learned from no rating or
        preference; else ``every_question`` (with the adapter on every question it loses no more
        of the behaviour probe's general questions that the parent answers right, as served,
        than ``[learning] behaviour_tolerance`` allows) and the questions it ``lost``."""

        if not any(e.get("origin") in ("rating", "preference") for e in examples):
            return None
        probe = probe_questions()
        questions = [p["question"] for p in probe]
        adapted = self._generate_batch(model, [self.messages(q) for q in questions], PROBE_TOKENS)
        served = start.answers(questions, PROBE_TOKENS)

        def right(answers):
            return {p["question"]: answered_right(a, p["answers"]) for p, a in zip(probe, answers)}

        parent, candidate = right(served), right(adapted)
        return {"every_question": behaviour_verdict(parent, candidate, self.agent.config.learning.behaviour_tolerance) is None,
                "lost": lost_questions(parent, candidate)}

    def taught_questions(self, examples: list[dict]) -> list[str]:
        """The questions an adapter taught ``examples`` answers (its scope): each example's own
        and its paraphrases, a replayed one's too (trained under them when it was new)."""
        return [q for e in examples for q in self._wordings(e, self.settings.paraphrases)]

    @staticmethod
    def _wordings(example: dict, paraphrases: int) -> list[str]:
        return [example["input"], *training.paraphrases(example["input"])[:paraphrases]]

    def training_items(self, examples: list[dict], parent_path: str | None, start: ServedModel | None = None,
                       progress=None) -> list[dict]:
        """Each example under its own question and its paraphrases, by its objective (an answer,
        a pair or a rated answer; learning/objectives.py), an answer also with its sources where
        the knowledge base has relevant ones that support it, plus the starting model's answers
        to general prompts with its next-token distributions on them (chat/training.py says
        why), as served and kept once computed (chat/served.py)."""
        settings, seed = self.settings, self.agent.config.learning.seed
        searchable = settings.learn_with_sources and not self.agent.retriever.is_empty()
        items = []
        for e in examples:
            # A replayed question under fewer wordings: the run rehearses more earlier facts.
            questions = self._wordings(e, settings.replay_paraphrases if e.get("replayed") else settings.paraphrases)
            objective = e.get("objective", "sft")
            if objective == "dpo":
                items += [{"objective": "dpo", "messages": self.messages(q), "target": e["target"], "rejected": e["rejected"]}
                          for q in questions]
                continue
            if objective == "kto":
                # A question's rewordings are one group: KTO's reference point pairs prompts with
                # other questions' answers (learning/preference.py).
                items += [{"objective": "kto", "messages": self.messages(q), "target": e["target"], "desirable": e["desirable"],
                           "group": e["input"]} for q in questions]
                continue
            items += [{"messages": self.messages(q), "target": e["target"]} for q in questions]
            if searchable:
                found = self.ground(e["input"], self.agent.search(e["input"]))
                # Only where the sources support the answer: an answer trained beside sources that
                # do not carry it would teach the model to ignore its sources.
                if found.relevant and grounding.check_answer(e["target"], e["input"], found).ok:
                    items.append({"messages": self.messages(e["input"], found.evidence), "target": e["target"]})
        prompts = training.sample(training.distillation_prompts(), training.distillation_count(settings.self_distillation, len(examples)), seed)
        if not prompts:
            return items
        start = start or ServedModel(self, parent_path)
        step = progress.add_task(f"starting model: answers to {len(prompts)} general prompts", total=2) if progress else None
        soft = [{"messages": self.messages(p), "target": a, "soft": True} for p, a in zip(prompts, start.answers(prompts, DISTILLED_TOKENS)) if a]
        if progress:
            progress.update(step, advance=1, description=f"starting model: distributions on {len(soft)} answers")
        for item, teacher in zip(soft, start.teacher(soft)):
            item["teacher"] = teacher
        if progress:
            computed = start.computed("answers") + start.computed("teacher")
            progress.update(step, advance=1, description="starting model: " + (f"{computed} computed, the rest kept" if computed else "all kept"))
        return items + soft

    def save_adapter(self, model, path) -> None:
        model.save_pretrained(path, safe_serialization=True)
        # Moving the folder into place keeps the weights file's inode: assess finds the model
        # in memory by it. One at a time.
        self._trained = weakref.WeakValueDictionary({saved_weights(path): model})
        vectors, every_question = self._scopes.get(model, (None, None))
        if vectors is not None:
            scope.save(vectors, path, every_question)

    def load_trained(self, adapter_path):
        from peft import PeftModel

        return PeftModel.from_pretrained(self.agent.generator.fresh_base(), adapter_path, is_trainable=True)

    def fisher(self, model, examples) -> dict:
        from lifelong.api import causal_lm

        return causal_lm.fisher_diagonal(model, self.agent.generator.tokenizer, examples, self.system_prompt)

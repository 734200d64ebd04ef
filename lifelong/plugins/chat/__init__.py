"""The ``chat`` task: question answering over retrieved documents, grounded in their sentences.

``answer`` (a task option) says who writes an answer when documents were retrieved:

- ``auto`` (default): the generator answers from the best few sentences; if what it wrote fails
  the grounding check (unsupported words or numbers, a citation that does not exist, repetition,
  an echo of the prompt) the best sentence itself answers, quoted and cited.
- ``generate``: always the generator's answer (with its citation), unchecked.
- ``extract``: always the best sentence, quoted and cited.

Which questions the documents answer is decided per sentence (chat/answerability.py): when the
documents are about the question but no sentence answers it, the answer says that the documents
do not say, with the closest source shown as such (``"closest": true``), never quoted. A
question the documents do not touch at all (below ``relevance_floor``), like one asked with no
knowledge base or retrieval off, the model answers on its own, without sources (``general =
"answer"``, the default) or is refused (``"refuse"``). ``Reply.answered_by`` and the log record
which path answered: ``model``, ``generate``, ``extract``, ``not_in_sources``.

A learned adapter answers only the questions in its scope (chat/scope.py): those like the ones
it was taught. Any other question is answered by the base model, logged as version ``base``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, fields
from pathlib import Path

from lifelong.api import (Answer, ConfigError, GenerationOptions, InputError, LearnableTask, answered_right, behaviour_verdict,
                          PAIRS, hookimpl, lost_questions, preference_pairs, probe_questions, to_give)

from . import grounding, scope, training
from .grounding import Grounding
from .words import content_words
from .served import ServedModel

ANSWER_MODES = ("auto", "generate", "extract")
GENERAL_MODES = ("answer", "refuse")
EVIDENCE_SENTENCES = 3
GROUNDED_INSTRUCTION = "Answer in one short sentence using only the sources, and cite the source as [n]."
# Most tokens generated for: a behaviour-probe answer, a distilled answer, an answer the gate scores.
PROBE_TOKENS, DISTILLED_TOKENS, FEEDBACK_TOKENS = 32, 48, 64


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


@dataclass
class ChatOptions:
    answer: str = field(default="auto", metadata={"help": "Who answers over documents: auto, generate or extract"})
    relevance_floor: float = field(default=0.35, metadata={
        "help": "Below this relevance (cosine + half the word overlap) of the best sentence, the documents are "
                "not about the question: see general"})
    min_answerability: float = field(default=0.45, metadata={
        "help": "The chance (0 to 1) that its best sentence answers a question from which the documents answer it; "
                "below, the answer is that the documents do not say (0: every question the documents are about)"})
    general: str = field(default="answer", metadata={
        "help": "A question the documents are not about: answer (the model answers without sources) or refuse"})
    paraphrases: int = field(default=4, metadata={
        "help": "Learning: each taught question is also trained under this many rewordings"})
    learn_with_sources: bool = field(default=True, metadata={
        "help": "Learning: also train each question with the sources retrieval finds for it, the prompt "
                "the model sees when it answers over documents"})
    adapter_scope: float = field(default=0.7, metadata={
        "help": "A learned adapter answers a question only when its cosine to a question the adapter was "
                "taught reaches this; others go to the base model (0: the adapter answers every question; an "
                "adapter taught by ratings or preferences that keeps the behaviour probe answers every question "
                "asked without sources)"})
    self_distillation: float = field(default=2.0, metadata={
        "help": "Learning: general prompts per taught example (at least 8) on which the model is kept close to the "
                "model it starts from, as served (its answers and next-token distributions, computed once and kept)"})
    gate_earlier_cycles: int = field(default=4, metadata={
        "help": "Learning: earlier cycles whose questions the gate asks again in each run, with the candidate and its "
                "parent: the latest and the older ones in turn (0: every earlier cycle, a cost that grows with each cycle)"})

    def __post_init__(self):
        if self.answer not in ANSWER_MODES:
            raise ConfigError(f"answer must be auto, generate or extract, got {self.answer!r}")
        if not isinstance(self.relevance_floor, (int, float)) or not 0 <= self.relevance_floor <= 2:
            raise ConfigError(f"relevance_floor must be a number in [0, 2], got {self.relevance_floor!r}")
        if isinstance(self.min_answerability, bool) or not isinstance(self.min_answerability, (int, float)) \
                or not 0 <= self.min_answerability <= 1:
            raise ConfigError(f"min_answerability must be a number from 0 to 1, got {self.min_answerability!r}")
        if self.general not in GENERAL_MODES:
            raise ConfigError(f"general must be answer or refuse, got {self.general!r}")
        if not isinstance(self.paraphrases, int) or not 0 <= self.paraphrases <= training.PARAPHRASES:
            raise ConfigError(f"paraphrases must be an integer from 0 to {training.PARAPHRASES}, got {self.paraphrases!r}")
        if isinstance(self.gate_earlier_cycles, bool) or not isinstance(self.gate_earlier_cycles, int) \
                or not 0 <= self.gate_earlier_cycles <= 1000:
            raise ConfigError(f"gate_earlier_cycles must be an integer from 0 (every cycle) to 1000, got {self.gate_earlier_cycles!r}")
        if not isinstance(self.learn_with_sources, bool):
            raise ConfigError(f"learn_with_sources must be true or false, got {self.learn_with_sources!r}")
        if isinstance(self.adapter_scope, bool) or not isinstance(self.adapter_scope, (int, float)) \
                or not 0 <= self.adapter_scope <= 1:
            raise ConfigError(f"adapter_scope must be a number from 0 to 1, got {self.adapter_scope!r}")
        if not isinstance(self.self_distillation, (int, float)) or not 0 <= self.self_distillation <= 10:
            raise ConfigError(f"self_distillation must be a number from 0 to 10, got {self.self_distillation!r}")


@dataclass
class ChatTrainingOptions:
    """``[plugins.chat]``: how the generator is fine-tuned, for every chat task."""

    peft: str = field(default="lora", metadata={"help": "PEFT method: lora, adalora or prefix"})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank"})
    lora_targets: str = field(default="mlp", metadata={
        "help": "Layers LoRA adapts: mlp (feed-forward blocks: facts learned, general answers kept) or all-linear"})
    epochs: int = field(default=3, metadata={"help": "Passes over a run's examples"})
    learning_rate: float = field(default=1e-3, metadata={"help": "Optimizer step size"})
    batch_size: int = field(default=4, metadata={"help": "Examples per optimizer step"})

    def __post_init__(self):
        for ok, key, rule in (
            (self.peft in ("lora", "adalora", "prefix"), "peft", "must be lora, adalora or prefix"),
            (self.lora_targets in ("mlp", "all-linear"), "lora_targets", "must be mlp or all-linear"),
            (self.lora_r > 0, "lora_r", "must be > 0"),
            (self.epochs > 0, "epochs", "must be > 0"),
            (self.learning_rate > 0, "learning_rate", "must be > 0"),
            (self.batch_size > 0, "batch_size", "must be > 0"),
        ):
            if not ok:
                raise ConfigError(f"{key} {rule}, got {getattr(self, key)!r}")


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


_REFERRING = ("it", "its", "they", "them", "their", "that", "those", "this", "these", "one", "there")


class ChatTask(LearnableTask):
    uses_retrieval = True
    uses_history = True
    corrections_are_knowledge = True
    # Facts taught by correction are meant to be learned, all of them: the gate checks recall
    # on them and on earlier cycles' facts instead of on held-out questions.
    holds_out_examples = False
    generates = True
    objectives = ("sft", "dpo", "kto")

    def __init__(self, name, options, agent):
        super().__init__(name, options, agent)
        self._trained: dict = {}  # the adapter just trained, by its saved weights (save_adapter)
        self._starting: ServedModel | None = None  # the model the last training started from
        known = {f.name for f in fields(ChatOptions)}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"tasks.{name}: unknown option(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        try:
            self.settings = ChatOptions(**options)
        except (ConfigError, TypeError) as exc:
            raise ConfigError(f"tasks.{name}.{exc}") from None

    @property
    def gate_earlier_cycles(self) -> int:
        return self.settings.gate_earlier_cycles

    def search_query(self, text: str, history: list[dict]) -> str:
        return search_query(text, history)

    # --- prompts --------------------------------------------------------------------------------

    @property
    def system_prompt(self) -> str:
        return self.agent.config.generation.system_prompt

    def messages(self, text: str, evidence: list | None = None, history: list[dict] = (), system: str | None = None) -> list[dict]:
        """The chat prompt: system (``system``, else the workspace's), earlier turns, then the
        question with its numbered source sentences. Training builds the same prompt, so the
        model learns what it will see."""
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

    def ground(self, text: str, hits: list, history: list[dict] = ()) -> Grounding:
        return grounding.select_evidence(
            search_query(text, list(history)), hits, self.agent.embedder, EVIDENCE_SENTENCES, self.settings.relevance_floor,
            self.settings.min_answerability,
        )

    # --- answering ------------------------------------------------------------------------------

    def answer(self, text: str, hits: list, history: list[dict] = (), generation: GenerationOptions | None = None) -> Answer:
        pieces = self._answer(text, hits, history, False, Decoding.of(self.agent.config.generation, generation))
        while True:
            try:
                next(pieces)
            except StopIteration as done:
                return done.value

    def stream(self, text: str, hits: list, history: list[dict] = (), generation: GenerationOptions | None = None):
        return (yield from self._answer(text, hits, history, True, Decoding.of(self.agent.config.generation, generation)))

    def _answer(self, text, hits, history, stream, decoding: Decoding):
        """Yields the answer's pieces, then returns the Answer. Only answers that need no check
        stream token by token: a checked answer is shown once it has passed. ``decoding`` bounds
        what the model generates; a quoted source sentence is not cut."""
        adapter, version = self.agent.adapter_for(self.name)
        if adapter is not None and not self.in_scope(adapter[1], [search_query(text, list(history))], bool(hits))[0]:
            adapter, version = None, "base"
        if not hits:
            messages, _ = self.fit(text, [], history, decoding.max_new_tokens, decoding.system)
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            answer.answered_by = "model"
            return answer
        found = self.ground(text, hits, history)
        if not found.touched and self.settings.general == "answer":
            messages, _ = self.fit(text, [], history, decoding.max_new_tokens, decoding.system)
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            answer.answered_by = "model"
            return answer
        if not found.relevant:
            yield grounding.NOT_IN_SOURCES
            closest = [{**_source(found.closest), "closest": True}] if found.closest else []
            return Answer(grounding.NOT_IN_SOURCES, version, sources=closest, answered_by="not_in_sources")
        mode = self.settings.answer
        if mode == "extract":
            text_out = grounding.extractive_answer(found)
            yield text_out
            return Answer(text_out, version, sources=_sources(found), answered_by="extract")
        messages, kept = self.fit(text, found.evidence, history, decoding.max_new_tokens, decoding.system)
        found = found.narrowed(kept)
        sources = _sources(found)
        if mode == "generate":
            answer = yield from self._generate(messages, adapter, version, stream, decoding)
            cited = grounding.cite(answer.text, text, found)
            if cited != answer.text:
                yield cited[len(answer.text):]
            answer.text, answer.sources, answer.answered_by = cited, sources, "generate"
            return answer
        generated = yield from self._generate(messages, adapter, version, False, decoding, emit=False)
        check = grounding.check_answer(generated.text, text, found)
        if check.ok:
            generated.text = grounding.cite(generated.text, text, found)
            generated.sources, generated.answered_by = sources, "generate"
            yield generated.text
            return generated
        text_out = grounding.extractive_answer(found)
        yield text_out
        return Answer(text_out, version, generated.prompt_tokens, generated.completion_tokens, sources=sources,
                      answered_by="extract", grounding=check.reason)

    def _generate(self, messages, adapter, version, stream, decoding: Decoding, emit=True):
        d, generator = decoding, self.agent.generator
        if stream:
            out = yield from generator.stream(messages, d.max_new_tokens, d.temperature, d.top_p, adapter=adapter, stop=d.stop)
        else:
            out = generator.generate(messages, d.max_new_tokens, d.temperature, d.top_p, adapter=adapter, stop=d.stop)
            if emit:
                yield out.text
        return Answer(out.text, version, out.prompt_tokens, out.completion_tokens, finish_reason=out.finish_reason)

    def score(self, prediction: str, target: str, input: str = "") -> float:
        """1.0 when the answer carries the target's facts: at least 3/4 of the target's content
        words (numbers included) that the question does not already contain appear in the
        prediction. Echoing the question earns nothing."""
        wanted = content_words(target) - content_words(input) or content_words(target)
        if not wanted:
            return float(target.strip().lower() in prediction.lower())
        return float(len(wanted & content_words(prediction)) / len(wanted) >= 0.75)

    def in_scope(self, adapter_path: str, questions: list[str], with_sources: bool = False):
        """For each question, asked ``with_sources`` or without: does the adapter in
        ``adapter_path`` answer it (chat/scope.py)?"""
        vectors = scope.load(adapter_path)
        if vectors is None or self.settings.adapter_scope <= 0 or \
                not with_sources and scope.answers_every_question(adapter_path):
            return [True] * len(questions)
        return scope.covers(vectors, self.agent.embedder.encode(questions), self.settings.adapter_scope)

    # --- learning -------------------------------------------------------------------------------

    def train(self, examples, parent_path, penalty=None, progress=None):
        from lifelong.api import causal_lm  # torch: loaded when learning starts, not at start-up

        step = progress.add_task("loading the models", total=1) if progress else None
        gen, _ = self.agent.generator, self.agent.embedder
        if progress:
            progress.update(step, advance=1)
        # Kept for assess: the parent is assessed by the same copy, loaded once if at all.
        self._starting = start = ServedModel(self, parent_path)
        items = self.training_items(examples, parent_path, start, progress)
        model = causal_lm.train(
            gen.fresh_base(), gen.tokenizer, items, parent_path, self.agent.plugin_options(ChatTrainingOptions),
            self.agent.config.learning.seed, self.system_prompt, penalty, progress, self.agent.config.learning.micro_batch_size,
            self.agent.config.learning.preference_beta,
        )
        # Saved beside the weights by save_adapter: the questions this adapter answers.
        model.lifelong_scope = scope.build(self.agent.embedder, self.taught_questions(examples), parent_path)
        model.lifelong_every_question = self._answers_every_question(model, examples, start)
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
        """The questions a cycle trains on: each example's own and its paraphrases."""
        count = self.settings.paraphrases
        return [q for e in examples for q in (e["input"], *training.paraphrases(e["input"])[:count])]

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
            questions = self.taught_questions([e])
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

    def _model(self, adapter_path: str | None):
        """A fresh copy of the base model with ``adapter_path`` on (None: the base model); the
        model just trained when that is what ``adapter_path`` holds (no second load)."""
        from peft import PeftModel

        trained = self._trained.get(_saved_weights(adapter_path)) if adapter_path else None
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

    def save_adapter(self, model, path) -> None:
        model.save_pretrained(path, safe_serialization=True)
        # Moving the folder into place keeps the weights file's inode: assess finds the model
        # in memory by it. One at a time: a model is ~0.5 GB.
        self._trained = {_saved_weights(path): model}
        if getattr(model, "lifelong_scope", None) is not None:
            scope.save(model.lifelong_scope, path, getattr(model, "lifelong_every_question", None))

    def load_trained(self, adapter_path):
        from peft import PeftModel

        return PeftModel.from_pretrained(self.agent.generator.fresh_base(), adapter_path, is_trainable=True)

    def assess(self, adapter_path, sets: dict) -> tuple[dict, dict]:
        """Score the model with ``adapter_path`` (None: the base model) on each set of examples,
        answering without retrieval as the learned model must; plus the probes: perplexity of
        generic text, and which general questions of the behaviour probe it answers right.
        Questions are answered as served (the adapter inside its scope, the base model outside);
        the perplexity is the adapter's own, so damage its scope would hide is still caught. The
        report shows whether the adapter answers every question, and what kept it from it."""

        starting = self._starting
        served = starting if starting is not None and starting.adapter_path == adapter_path else ServedModel(self, adapter_path)
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

    def fisher(self, model, examples) -> dict:
        from lifelong.api import causal_lm

        return causal_lm.fisher_diagonal(model, self.agent.generator.tokenizer, examples, self.system_prompt)


def _saved_weights(folder) -> tuple | None:
    """What identifies the adapter weights saved in ``folder``, even once the folder is renamed."""
    try:
        stat = (Path(folder) / "adapter_model.safetensors").stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns


def _sources(found: Grounding) -> list[dict]:
    """The cited chunks in citation order, each scored by its best sentence's cosine similarity
    to the question (0 to 1, readable), not by a rank fusion fraction."""
    best: dict[int, float] = {}
    for e in found.evidence:
        best[e.citation] = max(best.get(e.citation, 0.0), e.cosine)
    return [
        {"chunk_id": h.chunk_id, "document": h.document, "score": round(best.get(i, 0.0), 3)}
        for i, h in enumerate(found.sources, 1)
    ]


def _source(e: grounding.Evidence) -> dict:
    return {"chunk_id": e.hit.chunk_id, "document": e.hit.document, "score": round(e.cosine, 3)}


@hookimpl
def register_tasks(register):
    register("chat", ChatTask)


@hookimpl
def plugin_options():
    return ChatTrainingOptions

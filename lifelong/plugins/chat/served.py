"""A chat model as served, with what it has already computed kept (learning/artefacts.py).

A version's adapter answers the questions in its scope, the base model the rest (chat/scope.py).
So what a learning cycle needs from the model it starts from (answers to the distillation
prompts and their next-token distributions, answers to the behaviour probe, the probe
perplexity) splits the same way: what the base model answers is kept once per machine, in
``Agent.artefact_cache``, and serves every workspace and every cycle; what the adapter answers
is kept beside the adapter, and serves every later cycle that starts from it, or assesses it.
Answers to users' questions (the gate's example sets) are computed each time and never kept. A cycle of corrections on a scoped parent computes no parent
answer at all once the base model's are kept: general prompts lie outside every taught scope.

Every key names what the value depends on besides the model: the system prompt, the decoding
length, and for the probe its content."""

from __future__ import annotations

import contextlib
from pathlib import Path

from lifelong.api import ArtefactStore, digest

def model_fingerprint(generator) -> dict:
    """What identifies the base weights: where they load from (with the weights file's size and
    time when that is a local folder), their dtype and their quantisation."""
    source = str(getattr(generator, "source", type(generator).__qualname__))
    files = sorted(Path(source).glob("*.safetensors")) if Path(source).is_dir() else []
    stamps = [(f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return {"source": source, "files": stamps, "dtype": str(getattr(generator, "dtype", None)),
            "quantization": repr(getattr(generator, "quantization", None))}


class ServedModel:
    """The model served with ``adapter_path`` (None: the base model) for the chat ``task``,
    loaded on first need (the task finds the model it just trained in memory)."""

    def __init__(self, task, adapter_path: str | None):
        self.task, self.adapter_path, self._model = task, adapter_path, None
        agent = task.agent
        self.base = ArtefactStore(Path(agent.artefact_cache) / digest(model_fingerprint(agent.generator)))
        self.own = ArtefactStore.beside(adapter_path) if adapter_path else None

    @property
    def model(self):
        if self._model is None:
            self._model = self.task._model(self.adapter_path)
        return self._model

    def computed(self, name: str) -> int:
        """Items of artefact ``name`` computed rather than read, so far."""
        return self.base.computed.get(name, 0) + (self.own.computed.get(name, 0) if self.own else 0)

    def _split(self, questions: list[str]) -> list[bool]:
        """Which questions the adapter answers (True) and which the base model does."""
        if self.adapter_path is None:
            return [False] * len(questions)
        return [bool(c) for c in self.task.in_scope(self.adapter_path, questions)]

    def _by_owner(self, name: str, key: dict, items: list[str], questions: list[str], compute, tensors=False) -> list:
        """Each of ``items`` (one per question), from the store of the model that answers its
        question: the adapter's for those in its scope, the base model's for the rest;
        ``compute(model, missing)`` gives those not kept yet."""
        covered = self._split(questions)
        out = [None] * len(items)
        for inside in (True, False):
            picked = [i for i, c in enumerate(covered) if c == inside]
            if not picked:
                continue
            store = self.own if inside else self.base

            def run(missing, inside=inside):
                with contextlib.nullcontext(self.model) if inside else self._base_view() as model:
                    return compute(model, missing)

            fetch = store.tensors if tensors else store.values
            for i, value in zip(picked, fetch(name, key, [items[i] for i in picked], run)):
                out[i] = value
        return out

    @contextlib.contextmanager
    def _base_view(self):
        """The base model: this one with its adapter switched off."""
        if self.adapter_path is None:
            yield self.model
            return
        with self.model.disable_adapter():
            yield self.model

    def answers(self, questions: list[str], max_new_tokens: int, keep: bool = True) -> list[str]:
        """Greedy answers as served, each question asked alone. ``keep``: read and keep them in
        the stores; False for users' questions, which must stay inside the workspace's memory
        (erasure finds them there), not in the machine's cache or beside an adapter that never
        learned them."""
        def compute(model, missing):
            return self.task._generate_batch(model, [self.task.messages(q) for q in missing], max_new_tokens)

        if not keep:  # the same split, nothing read or kept
            return self.task._answer_batch(self.model, self.adapter_path, questions, max_new_tokens)
        key = {"kind": "answers", "system": self.task.system_prompt, "max_new_tokens": max_new_tokens}
        return self._by_owner("answers", key, questions, questions, compute)

    def teacher(self, items: list[dict]) -> list[dict]:
        """The next-token distributions (top tokens, learning/causal_lm.py) on the answer of each
        soft training item, as served."""
        from lifelong.api import causal_lm

        tokenizer = self.task.agent.generator.tokenizer
        names = [digest([i["messages"], i["target"]]) for i in items]
        by_name = dict(zip(names, items))
        key = {"kind": "teacher", "top_k": causal_lm.TEACHER_TOP_K}

        def compute(model, missing):
            found = causal_lm.teacher_distributions(model, tokenizer, self.task.system_prompt, [by_name[n] for n in missing])
            return [{"indices": index, "probs": probs} for index, probs in found]

        return self._by_owner("teacher", key, names, [_question(i) for i in items], compute, tensors=True)

    def perplexity(self) -> float:
        """The model's own perplexity on the generic probe text (the adapter's, in and out of
        its scope: damage its scope would hide is still seen)."""
        from lifelong.api import causal_lm

        text = causal_lm.probe_text()
        store = self.own or self.base
        key = {"kind": "perplexity", "text": digest(text)}
        return store.values("perplexity", key, ["probe"], lambda _: [causal_lm.perplexity(self.model, self.task.agent.generator.tokenizer, text)])[0]


def _question(item: dict) -> str:
    """The question of a training item: the text of its last user message."""
    return item["messages"][-1]["content"]


def saved_weights(folder) -> tuple | None:
    """What identifies the adapter weights saved in ``folder``, even once the folder is renamed."""
    try:
        stat = (Path(folder) / "adapter_model.safetensors").stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino, stat.st_mtime_ns

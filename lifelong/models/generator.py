"""Causal-LM generation with Hugging Face transformers: chat templates, greedy or sampled
decoding, streaming, and a GGUF file de-quantised once and cached as safetensors (which
``[models] quantization`` may then load in 8 or 4 bits like any other weights)."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Generator as PythonGenerator

import torch

from ..devices import dtype_name, quantization_config, resolve_device, resolve_dtype
from ..errors import ConfigError
from ..files import atomic_write

# Adapters kept loaded, the one in use included. An agent that learns in the background promotes
# a version per cycle; keeping every one would hold ~12 MB per LoRA adapter of SmolLM2-135M for
# as long as it runs. Two: the version serving and the one it replaced (a promotion or a
# rollback switches between them; a replica serving several tasks reloads on each switch).
LOADED_ADAPTERS = 2


@dataclass
class Generation:
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str = "stop"  # "length": cut at max_new_tokens


class StopCutter:
    """Ends text at the first of the ``stops`` strings, fed piece by piece: a piece that may
    begin a stop string is held back until the next one shows whether it does."""

    def __init__(self, stops=()):
        self.stops = [s for s in stops if s]
        self.pending = ""
        self.stopped = False

    def feed(self, piece: str) -> str:
        if self.stopped:
            return ""
        self.pending += piece
        found = [i for i in (self.pending.find(s) for s in self.stops) if i >= 0]
        if found:
            self.stopped = True
            out, self.pending = self.pending[: min(found)], ""
            return out
        held = max((k for s in self.stops for k in range(1, len(s)) if self.pending.endswith(s[:k])), default=0)
        cut = len(self.pending) - held
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out

    def flush(self) -> str:
        out, self.pending = ("" if self.stopped else self.pending), ""
        return out


class Generator:
    def __init__(self, model, tokenizer, name: str, source: str, quantization=None):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.source = source  # what from_pretrained loads: a fresh copy for training
        self.device, self.dtype = model.device, model.dtype
        self.quantization = quantization  # a BitsAndBytesConfig, or None for full-precision weights
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.peft_model = None  # wraps self.model once the first adapter is loaded
        # Adapter folder -> its name in peft_model, least recently used first. Keyed by folder,
        # not by the caller's name: two tasks each have a v1.
        self._loaded: OrderedDict[str, str] = OrderedDict()
        self._names = itertools.count(1)
        # Adapter switching mutates the model: one generation at a time.
        self.lock = threading.RLock()

    @classmethod
    def load(cls, name_or_path: str | Path, config, cache_dir: Path) -> "Generator":
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(name_or_path)
        device = resolve_device(config.models.device)
        dtype = resolve_dtype(config.models.dtype, device)
        quantization = quantization_config(config.models.quantization, device, dtype)
        try:
            if path.suffix == ".gguf":
                source = _dequantised_copy(path, cache_dir, dtype)
            else:
                source = str(name_or_path)
            tokenizer = AutoTokenizer.from_pretrained(source)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, device_map=device,
                                                         quantization_config=quantization)
        except OSError as exc:
            raise ConfigError(
                f"cannot load generator {str(name_or_path)!r}: {exc}. Give a local path or an HF "
                "id that is in the local cache (there is no network at run time)"
            ) from exc
        return cls(model, tokenizer, path.stem if path.suffix == ".gguf" else str(name_or_path), source, quantization)

    def fresh_base(self):
        """An untouched copy of the base weights: training and evaluation never disturb the
        model that is serving."""
        from transformers import AutoModelForCausalLM

        return AutoModelForCausalLM.from_pretrained(self.source, dtype=self.dtype, device_map=self.device,
                                                    quantization_config=self.quantization)

    @property
    def context_length(self) -> int:
        return int(getattr(self.model.config, "max_position_embeddings", 2048))

    def encode_chat(self, messages: list[dict]) -> dict:
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_dict=True, return_tensors="pt"
        ).to(self.device)

    def count_tokens(self, messages: list[dict]) -> int:
        return int(self.encode_chat(messages)["input_ids"].shape[1])

    def _generate_kwargs(self, inputs, max_new_tokens, temperature, top_p, stop=()) -> dict:
        kwargs = dict(**inputs, max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id)
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop:
            # Decoding ends once a stop string is out; StopCutter then removes it from the text.
            kwargs.update(stop_strings=list(stop), tokenizer=self.tokenizer)
        return kwargs

    def _finish_reason(self, new_tokens, max_new_tokens: int, stopped: bool) -> str:
        ends = self.model.generation_config.eos_token_id
        ends = set(ends if isinstance(ends, list) else [ends]) | {self.tokenizer.eos_token_id}
        if stopped or len(new_tokens) < max_new_tokens or int(new_tokens[-1]) in ends:
            return "stop"
        return "length"

    @contextlib.contextmanager
    def using(self, adapter: tuple[str, str] | None):
        """Hold the model with ``adapter`` ((name, path), loaded on first use) switched on, or
        with every adapter off for None. The least recently used adapter beyond LOADED_ADAPTERS
        is unloaded."""
        with self.lock:
            if adapter is None:
                if self.peft_model is None:
                    yield self.model
                else:
                    with self.peft_model.disable_adapter():
                        yield self.peft_model
                return
            _, path = adapter
            name = self._loaded.get(str(path))
            if name is None:
                name = f"adapter_{next(self._names)}"  # a caller's name may hold a "." (no module key can)
                if self.peft_model is None:
                    from peft import PeftModel

                    self.peft_model = PeftModel.from_pretrained(self.model, path, adapter_name=name).eval()
                else:
                    self.peft_model.load_adapter(path, adapter_name=name)
                self._loaded[str(path)] = name
            self._loaded.move_to_end(str(path))
            self.peft_model.set_adapter(name)
            while len(self._loaded) > LOADED_ADAPTERS:
                self.peft_model.delete_adapter(self._loaded.popitem(last=False)[1])
            yield self.peft_model

    def generate(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None, stop=()) -> Generation:
        inputs = self.encode_chat(messages)
        prompt_len = inputs["input_ids"].shape[1]
        with self.using(adapter) as model, torch.inference_mode():
            output = model.generate(**self._generate_kwargs(inputs, max_new_tokens, temperature, top_p, stop))
        new_tokens = output[0][prompt_len:]
        cutter = StopCutter(stop)
        text = cutter.feed(self.tokenizer.decode(new_tokens, skip_special_tokens=True))
        text = (text + cutter.flush()).strip()
        finish = self._finish_reason(new_tokens, max_new_tokens, cutter.stopped)
        return Generation(text, prompt_len, int(new_tokens.shape[0]), finish)

    def stream(self, messages, max_new_tokens=128, temperature=0.0, top_p=1.0, adapter=None,
               stop=()) -> PythonGenerator[str, None, Generation]:
        """Yields the answer in pieces and returns its Generation. Closed early (a client that
        went away), it stops generating at the next token and releases the model before it
        returns, so the next request does not wait for an answer nobody reads."""
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        inputs = self.encode_chat(messages)
        prompt_len = inputs["input_ids"].shape[1]
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        kwargs = self._generate_kwargs(inputs, max_new_tokens, temperature, top_p, stop)
        abandoned = threading.Event()

        class Abandoned(StoppingCriteria):
            def __call__(self, input_ids, scores, **_):
                return torch.full((input_ids.shape[0],), abandoned.is_set(), dtype=torch.bool, device=input_ids.device)

        kwargs["stopping_criteria"] = StoppingCriteriaList([Abandoned()])
        errors, outputs = [], []

        def run():
            try:
                with self.using(adapter) as model, torch.inference_mode():
                    outputs.append(model.generate(**kwargs, streamer=streamer))
            except Exception as exc:  # surfaced in the caller's thread below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        cutter, pieces = StopCutter(stop), []
        try:
            for piece in streamer:
                text = cutter.feed(piece)
                if text:
                    pieces.append(text)
                    yield text
        finally:
            abandoned.set()  # closed before the end, nothing more is read; after it, a no-op
            thread.join()
        if errors:
            raise errors[0]
        rest = cutter.flush()
        if rest:
            pieces.append(rest)
            yield rest
        new_tokens = outputs[0][0][prompt_len:]
        finish = self._finish_reason(new_tokens, max_new_tokens, cutter.stopped)
        return Generation("".join(pieces).strip(), prompt_len, int(new_tokens.shape[0]), finish)


def _dequantised_copy(gguf: Path, cache_dir: Path, dtype=torch.float32) -> str:
    """De-quantising a GGUF takes ~20 s; do it once and keep safetensors next to the workspace,
    one copy per dtype (a bfloat16 copy is half the size and loads as it is used on a GPU).
    Written to a temporary folder and renamed, so a crash never leaves half a cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir / f"{gguf.stem}-{key}-{dtype_name(dtype)}"
    if (target / "config.json").exists():
        return str(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=dtype)
    # The weights are plain tensors now; drop the GGUF marker so transformers will save them.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        with atomic_write(target) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
    except OSError:
        if not (target / "config.json").exists():  # another process may have won the race
            raise
    return str(target)

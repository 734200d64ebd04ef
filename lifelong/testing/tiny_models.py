"""Tiny models built in-process from a config, registered by this plugin module, so tests (the
conformance kit's, and a plugin package's own) exercise the real transformers /
sentence-transformers / peft code paths in seconds. Their weights are random: they answer
nonsense, quickly.

Workspaces opt in with ``[plugins] modules = ["lifelong.testing.tiny_models"]``,
``models.generator = "tiny-llm"`` and ``models.embedder = "tiny-embedder"``.
"""

from __future__ import annotations

import atexit
import shutil
import string
import tempfile
from functools import lru_cache
from pathlib import Path

from lifelong.api import hookimpl

CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_ROOT = Path(tempfile.mkdtemp(prefix="lifelong-tiny-models-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)  # every test process builds its own


@lru_cache
def tiny_llm_path() -> str:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    alphabet = pre_tokenizers.ByteLevel.alphabet()
    vocab = {ch: i for i, ch in enumerate(sorted(alphabet))}
    for special in ("<|im_start|>", "<|im_end|>", "<|pad|>"):
        vocab[special] = len(vocab)
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|pad|>", bos_token=None,
        additional_special_tokens=["<|im_start|>"],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
        eos_token_id=vocab["<|im_end|>"], pad_token_id=vocab["<|pad|>"], bos_token_id=None,
        tie_word_embeddings=True,
    )
    path = _ROOT / "tiny-llm"
    _save(LlamaForCausalLM(config), path)
    tokenizer.save_pretrained(path)
    return str(path)


@lru_cache
def tiny_embedder_path() -> str:
    import torch
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    pieces = list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens = specials + pieces + ["##" + p for p in pieces]
    vocab = {token: i for i, token in enumerate(tokens)}
    backend = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    backend.normalizer = normalizers.BertNormalizer(lowercase=True)
    backend.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])],
    )
    backend.decoder = decoders.WordPiece()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]",
    )
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokens), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    path = _ROOT / "tiny-embedder"
    _save(BertModel(config), path)
    tokenizer.save_pretrained(path)
    return str(path)


def _save(model, path: Path) -> None:
    """What save_pretrained writes, written by hand: under torch.distributed save_pretrained writes
    on rank 0 only, and each process of a multi-process learning run builds its own copy."""
    from safetensors.torch import save_model

    model.config.save_pretrained(path)
    save_model(model, str(path / "model.safetensors"), metadata={"format": "pt"})


@hookimpl
def register_models(register):
    from lifelong.models import load_embedder, load_generator

    register("tiny-llm", lambda agent: load_generator(tiny_llm_path(), agent.config, agent.model_cache))
    register("tiny-embedder", lambda agent: load_embedder(tiny_embedder_path(), agent.config))

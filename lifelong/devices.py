"""Where models run and in which precision: ``[models] device``, ``dtype`` and ``quantization``.

"auto" picks CUDA, then Apple MPS, then the CPU; a dtype of "auto" is bfloat16 on a GPU that
computes in it and float32 elsewhere (CPUs and MPS train slower or less exactly in half
precision). A quantization of "8bit" or "4bit" loads the generator's linear layers in that many
bits with bitsandbytes, computing in the dtype, so a model too big for the memory in 16 bits
fits and trains a LoRA adapter on top (QLoRA). The strings are checked when lifelong.toml loads
(``check_device``, ``check_dtype``, ``check_quantization``); whether the hardware and
bitsandbytes are there is checked when a model loads."""

from __future__ import annotations

import re

from .errors import ConfigError
from .options import one_of

DEVICES = ("auto", "cpu", "cuda", "cuda:N", "mps")
DTYPES = ("auto", "float32", "bfloat16", "float16")
QUANTIZATIONS = ("none", "8bit", "4bit")
_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def check_device(spec) -> None:
    if not isinstance(spec, str) or not _DEVICE.match(spec):
        raise ConfigError(f"models.device must be {one_of(DEVICES)}, got {spec!r}")


def check_dtype(spec) -> None:
    if spec not in DTYPES:
        raise ConfigError(f"models.dtype must be {one_of(DTYPES)}, got {spec!r}")


def check_quantization(spec) -> None:
    if spec not in QUANTIZATIONS:
        raise ConfigError(f"models.quantization must be {one_of(QUANTIZATIONS)}, got {spec!r}")


def resolve_device(spec: str):
    """The torch device ``spec`` names; an error naming the key when that hardware is missing."""
    import torch

    check_device(spec)
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", torch.cuda.current_device())
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"models.device {spec!r}: this torch build or machine has no CUDA GPU; use 'auto' or 'cpu'")
        index = 0 if device.index is None else device.index
        if index >= torch.cuda.device_count():
            raise ConfigError(f"models.device {spec!r}: there are {torch.cuda.device_count()} CUDA GPU(s), numbered from 0")
        return torch.device("cuda", index)
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"models.device {spec!r}: Apple MPS is not available here; use 'auto' or 'cpu'")
    return device


def resolve_dtype(spec: str, device):
    import torch

    check_dtype(spec)
    if spec == "auto":
        return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    return getattr(torch, spec)


def dtype_name(dtype) -> str:
    return str(dtype).removeprefix("torch.")


def quantization_config(spec: str, device, dtype):
    """The BitsAndBytesConfig ``spec`` names for a model on ``device`` computing in ``dtype``
    (None for "none"); an error naming the key when bitsandbytes is missing or has no backend
    for that device."""
    check_quantization(spec)
    if spec == "none":
        return None
    try:
        import bitsandbytes
    except ImportError:
        raise ConfigError(f"models.quantization {spec!r} needs bitsandbytes: pip install 'lifelong[quantization]', "
                          "or set it to 'none'") from None
    supported = getattr(bitsandbytes, "supported_torch_devices", set())
    if device.type not in supported:
        raise ConfigError(f"models.quantization {spec!r}: bitsandbytes {bitsandbytes.__version__} has no backend for "
                          f"the {device.type} device (it has: {', '.join(sorted(supported)) or 'none'}); "
                          "set it to 'none' or choose another models.device")
    from transformers import BitsAndBytesConfig

    if spec == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    # The QLoRA recipe: 4-bit NormalFloat weights, their scales quantised too.
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                              bnb_4bit_compute_dtype=dtype)

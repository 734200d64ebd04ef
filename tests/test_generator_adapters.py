"""The built-in generator's adapters: told apart by folder (each task numbers its own versions,
so two tasks' v1 share a name), and only the last two used stay loaded."""

import pytest
import torch

from lifelong.models.generator import LOADED_ADAPTERS, Generator
from lifelong.testing.tiny_models import tiny_llm_path


def _model():
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_llm_path())


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    from peft import LoraConfig, get_peft_model

    folders = []
    for seed in range(LOADED_ADAPTERS + 1):
        torch.manual_seed(seed)
        lora = LoraConfig(r=4, target_modules=["gate_proj", "up_proj", "down_proj"], init_lora_weights=False)
        folder = tmp_path_factory.mktemp(f"adapter{seed}")
        get_peft_model(_model(), lora).save_pretrained(folder)
        folders.append(str(folder))
    return folders


def _logits(model) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=torch.tensor([[5, 17, 42, 9]])).logits


def _reference(folder) -> torch.Tensor:
    from peft import PeftModel

    return _logits(PeftModel.from_pretrained(_model(), folder).eval())


def test_two_adapters_with_one_name_are_two_adapters(adapters):
    from transformers import AutoTokenizer

    generator = Generator(_model(), AutoTokenizer.from_pretrained(tiny_llm_path()), "tiny", tiny_llm_path())
    for folder in adapters[:2]:
        with generator.using(("v1", folder)) as model:
            assert torch.allclose(_logits(model), _reference(folder), atol=1e-5)


def test_only_the_adapters_used_last_stay_loaded_and_an_unloaded_one_comes_back(adapters):
    from transformers import AutoTokenizer

    generator = Generator(_model(), AutoTokenizer.from_pretrained(tiny_llm_path()), "tiny", tiny_llm_path())
    with generator.using(None) as base:
        plain = _logits(base)
    for number, folder in enumerate(adapters, 1):
        with generator.using((f"v{number}", folder)):
            pass
    assert len(generator.peft_model.peft_config) == LOADED_ADAPTERS
    with generator.using(("v1", adapters[0])) as model:
        assert torch.allclose(_logits(model), _reference(adapters[0]), atol=1e-5)
    assert len(generator.peft_model.peft_config) == LOADED_ADAPTERS
    with generator.using(None) as base:
        assert torch.allclose(_logits(base), plain, atol=1e-5)

"""Built-in model plugin: the bundled SmolLM2-135M-Instruct generator and all-MiniLM-L6-v2
embedder. Any other name in ``[models]`` is an HF model id or a local path."""

from lifelong import hookimpl
from lifelong.models.bundled import BUNDLED_EMBEDDER, BUNDLED_GENERATOR


def _generator(agent):
    from lifelong.models import load_generator  # torch and transformers load on first use only

    return load_generator(BUNDLED_GENERATOR, agent.config, agent.model_cache)


def _embedder(agent):
    from lifelong.models import load_embedder

    return load_embedder(BUNDLED_EMBEDDER)


@hookimpl
def register_models(register):
    register("smollm2", _generator)
    register("all-minilm-l6-v2", _embedder)

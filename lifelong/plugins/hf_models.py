"""Built-in model plugin: the bundled SmolLM2-135M-Instruct generator and all-MiniLM-L6-v2
embedder by name, and any other ``[models]`` value as an HF model id or a local path."""

from lifelong import hookimpl
from lifelong.models.bundled import BUNDLED_EMBEDDER, BUNDLED_GENERATOR


def _generator(agent, spec):
    from lifelong.models import load_generator  # torch and transformers load on first use only

    if agent.config.models.threads:
        import torch

        torch.set_num_threads(agent.config.models.threads)
    return load_generator(spec, agent.config, agent.model_cache)


def _embedder(spec):
    from lifelong.models import load_embedder

    return load_embedder(spec)


@hookimpl
def register_models(register):
    register("smollm2", lambda agent: _generator(agent, BUNDLED_GENERATOR))
    register("all-minilm-l6-v2", lambda agent: _embedder(BUNDLED_EMBEDDER))


@hookimpl
def load_model(agent, kind, spec):
    return _generator(agent, spec) if kind == "generator" else _embedder(spec)

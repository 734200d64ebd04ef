"""Built-in model plugin: the bundled SmolLM2-135M-Instruct generator and all-MiniLM-L6-v2
embedder by name, and any other ``[models]`` value as an HF model id or a local path.
``[plugins.hf_models] threads`` sets torch's CPU threads."""

from dataclasses import dataclass

from lifelong.api import BUNDLED_EMBEDDER, BUNDLED_GENERATOR, Options, hookimpl, option


@dataclass
class HFModelsOptions(Options):
    threads: int = option(0, "CPU threads for torch (0: torch's default)", at_least=0)


def _generator(agent, spec):
    from lifelong.api import load_generator  # torch and transformers load on first use only

    threads = agent.plugin_options(HFModelsOptions).threads
    if threads:
        import torch

        torch.set_num_threads(threads)
    return load_generator(spec, agent.config, agent.model_cache)


def _embedder(agent, spec):
    from lifelong.api import load_embedder

    return load_embedder(spec, agent.config)


@hookimpl
def plugin_options():
    return HFModelsOptions


@hookimpl
def register_models(register):
    register("smollm2", lambda agent: _generator(agent, BUNDLED_GENERATOR))
    register("all-minilm-l6-v2", lambda agent: _embedder(agent, BUNDLED_EMBEDDER))


@hookimpl
def load_model(agent, kind, spec):
    return _generator(agent, spec) if kind == "generator" else _embedder(agent, spec)

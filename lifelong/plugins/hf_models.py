"""Built-in model plugin: the bundled SmolLM2-135M-Instruct generator and all-MiniLM-L6-v2
embedder. Any other name in ``[models]`` is an HF model id or a local path."""

from lifelong import hookimpl
from lifelong.models import load_embedder, load_generator
from lifelong.models.bundled import BUNDLED_EMBEDDER, BUNDLED_GENERATOR


@hookimpl
def register_models(register):
    register("smollm2", lambda agent: load_generator(BUNDLED_GENERATOR, agent.config, agent.model_cache))
    register("all-minilm-l6-v2", lambda agent: load_embedder(BUNDLED_EMBEDDER))

"""The conformance kit for plugin authors (needs pytest): subclass a suite, set the name your
plugin registers, and every standard behaviour is tested the way lifelong relies on it::

    from lifelong.testing import RetrieverTests

    class TestMyRetriever(RetrieverTests):
        plugins = ["my_retriever"]      # the plugin module(s) under test, besides the built-ins
        retriever = "mine"              # the name it registers

Each test runs an agent in a fresh workspace on the tiny in-process models of
``lifelong.testing.tiny_models``. ``examples/plugin_template`` uses the kit."""

from .learning import BufferTests, StrategyTests
from .models import EmbedderTests, GeneratorTests
from .retriever import RetrieverTests
from .task import LearnableTaskTests, TaskTests
from .workspace import AgentSuite

__all__ = ["AgentSuite", "RetrieverTests", "TaskTests", "LearnableTaskTests", "BufferTests", "StrategyTests",
           "GeneratorTests", "EmbedderTests"]

"""Every built-in plugin passes the conformance kit that plugin authors use (lifelong.testing)."""

from pathlib import Path

import pytest

from lifelong.testing import BufferTests, EmbedderTests, GeneratorTests, LearnableTaskTests, RetrieverTests, StrategyTests

MINIMAL_MODELS = str(Path(__file__).parent / "minimal_models.py")

# The tiny models learn nothing in one epoch, and need not: the suites check the contract.
QUICK_LEARNING = "\n[learning]\nholdout_fraction = 0.0\n"
FACTS = [("Who is the CEO of Acme?", "The CEO of Acme is Mira Okafor."),
         ("How long is the kettle warranty?", "The kettle warranty lasts three years.")]
INTENTS = [("i want my money back", "refund"), ("where is my parcel", "tracking"),
           ("refund my order please", "refund"), ("track my package", "tracking")]


class TestFaissRetriever(RetrieverTests):
    retriever = "faiss"


class TestTinyGenerator(GeneratorTests):
    generator = "tiny-llm"  # the built-in Generator class, on tiny random weights


class TestAGeneratorWrittenFromTheDocs(GeneratorTests):
    plugins = [MINIMAL_MODELS]
    generator = "echo-llm"
    learnable = False


class TestTinyEmbedder(EmbedderTests):
    embedder = "tiny-embedder"  # the built-in Embedder class, on tiny random weights


class TestAnEmbedderWrittenFromTheDocs(EmbedderTests):
    plugins = [MINIMAL_MODELS]
    embedder = "hashing-embedder"
    has_transformer = False


class TestChatTask(LearnableTaskTests):
    task_plugin = "chat"
    task_options = {"paraphrases": 0, "self_distillation": 0.0, "epochs": 1}
    examples = FACTS
    config = QUICK_LEARNING


class ClassifyTests(LearnableTaskTests):
    task_plugin = "classify"
    examples = INTENTS
    config = QUICK_LEARNING

    def prepare(self, agent, task):
        """A classifier answers once it has learned its labels."""
        agent.import_examples(task.name, [{"text": i, "label": t} for i, t in self.examples])
        agent.learn(task.name)


class TestClassifyLDA(ClassifyTests):
    task_options = {"head": "lda"}


class TestClassifyLinear(ClassifyTests):
    task_options = {"head": "linear"}


@pytest.mark.parametrize("name", ["reservoir", "balanced", "recency"])
def test_every_builtin_buffer_has_a_suite(name):
    assert any(cls.buffer == name for cls in BufferTests.__subclasses__())


class TestReservoirBuffer(BufferTests):
    buffer = "reservoir"


class TestBalancedBuffer(BufferTests):
    buffer = "balanced"


class TestRecencyBuffer(BufferTests):
    buffer = "recency"


class TestNaiveStrategy(StrategyTests):
    strategy = "naive"


class TestReplayStrategy(StrategyTests):
    strategy = "replay"


class TestJointStrategy(StrategyTests):
    strategy = "joint"


class TestEWCStrategy(StrategyTests):
    strategy = "ewc"

"""``GeneratorTests`` and ``EmbedderTests``: what the chat task, the retriever and the
``classify`` task rely on from a model a plugin registers (``register_models``), checked on the
model itself and through the agent that answers with it."""

from __future__ import annotations

import numpy as np
import pytest

from lifelong.api import TextEmbedder, TextGenerator

from .workspace import AgentSuite

QUESTION = [{"role": "user", "content": "Write one short sentence about the sea."}]


def _drain(stream):
    pieces = []
    while True:
        try:
            pieces.append(next(stream))
        except StopIteration as done:
            return pieces, done.value


class GeneratorTests(AgentSuite):
    #: The name the plugin registers, as ``[models] generator`` names it.
    generator: str = ""
    #: Whether it can be trained (``fresh_base``); a generator that only answers sets False.
    learnable: bool = True

    def workspace_config(self) -> str:
        assert self.generator, "set generator: the name your plugin registers"
        return super().workspace_config().replace('generator = "tiny-llm"', f'generator = "{self.generator}"')

    @pytest.fixture
    def model(self, agent):
        return agent.generator

    def test_is_a_text_generator(self, model):
        assert isinstance(model, TextGenerator), "it lacks a member of lifelong.api.TextGenerator"
        assert isinstance(model.context_length, int) and model.context_length > 0

    def test_generate_gives_text_token_counts_and_why_it_ended(self, model):
        out = model.generate(QUESTION, max_new_tokens=12)
        assert isinstance(out.text, str) and out.text == out.text.strip()
        assert isinstance(out.prompt_tokens, int) and out.prompt_tokens > 0
        assert isinstance(out.completion_tokens, int) and 0 <= out.completion_tokens <= 12
        assert out.finish_reason in ("stop", "length")

    def test_greedy_answers_are_the_same_each_time(self, model):
        assert model.generate(QUESTION, max_new_tokens=12).text == model.generate(QUESTION, max_new_tokens=12).text

    def test_max_new_tokens_cuts_the_answer_and_says_so(self, model):
        out = model.generate(QUESTION, max_new_tokens=2)
        assert out.completion_tokens <= 2
        if out.completion_tokens == 2 and model.generate(QUESTION, max_new_tokens=12).completion_tokens > 2:
            assert out.finish_reason == "length"

    def test_a_stop_string_ends_the_answer_and_is_left_out(self, model):
        full = model.generate(QUESTION, max_new_tokens=16).text
        words = full.split()
        if len(words) < 3:
            pytest.skip(f"the answer is too short to stop inside: {full!r}")
        stop = words[2]
        out = model.generate(QUESTION, max_new_tokens=16, stop=(stop,))
        assert stop not in out.text and full.startswith(out.text)
        assert out.finish_reason == "stop"

    def test_stream_yields_the_answer_and_returns_its_generation(self, model):
        pieces, out = _drain(model.stream(QUESTION, max_new_tokens=12))
        assert all(isinstance(p, str) for p in pieces)
        assert out.text == "".join(pieces).strip() == model.generate(QUESTION, max_new_tokens=12).text
        assert out.finish_reason in ("stop", "length") and out.completion_tokens <= 12

    def test_a_stream_honours_stop_strings_too(self, model):
        full = model.generate(QUESTION, max_new_tokens=16).text.split()
        if len(full) < 3:
            pytest.skip("the answer is too short to stop inside")
        pieces, out = _drain(model.stream(QUESTION, max_new_tokens=16, stop=(full[2],)))
        assert full[2] not in "".join(pieces) and out.finish_reason == "stop"

    def test_count_tokens_counts_the_prompt(self, model):
        short = model.count_tokens(QUESTION)
        longer = model.count_tokens([*QUESTION, {"role": "assistant", "content": "The sea is wide."}, *QUESTION])
        assert isinstance(short, int) and 0 < short < longer

    def test_fresh_base_is_a_trainable_copy(self, model):
        if not self.learnable:
            pytest.skip("learnable = False: this generator only answers")
        copy, other = model.fresh_base(), model.fresh_base()
        assert copy is not other and any(p.requires_grad for p in copy.parameters())
        assert model.tokenizer.apply_chat_template(QUESTION, tokenize=False)

    def test_the_chat_task_answers_with_it(self, agent, tmp_path):
        general = agent.ask("Write one short sentence about the sea.")
        assert isinstance(general.answer, str) and general.answered_by == "model"
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "shipping.txt").write_text("We ship to Norway within five business days.\n")
        agent.ingest([tmp_path / "docs"])
        grounded = agent.ask("Do you ship to Norway?")
        assert isinstance(grounded.answer, str) and grounded.answer
        stream = agent.stream("Do you ship to Norway?")
        assert "".join(stream).strip() == stream.reply.answer.strip()


class EmbedderTests(AgentSuite):
    #: The name the plugin registers, as ``[models] embedder`` names it.
    embedder: str = ""
    #: Whether it has a transformers encoder under it (``transformer``), which ``classify`` needs.
    has_transformer: bool = True

    def workspace_config(self) -> str:
        assert self.embedder, "set embedder: the name your plugin registers"
        return super().workspace_config().replace('embedder = "tiny-embedder"', f'embedder = "{self.embedder}"')

    @pytest.fixture
    def model(self, agent):
        return agent.embedder

    def test_is_a_text_embedder(self, model):
        assert isinstance(model, TextEmbedder), "it lacks a member of lifelong.api.TextEmbedder"
        assert isinstance(model.dim, int) and model.dim > 0

    def test_encode_gives_unit_float32_rows_of_width_dim(self, model):
        texts = ["Refunds take five days.", "We ship to Norway.", ""]
        vectors = np.asarray(model.encode(texts))
        assert vectors.shape == (3, model.dim) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors[:2], axis=1), 1.0, atol=1e-3)
        assert np.asarray(model.encode([])).shape == (0, model.dim)

    def test_a_text_has_one_vector_whatever_it_is_encoded_with(self, model):
        alone = np.asarray(model.encode(["We ship to Norway."]))[0]
        among = np.asarray(model.encode(["Refunds take five days.", "We ship to Norway."]))[1]
        assert np.allclose(alone, among, atol=1e-4)

    def test_the_tokenizer_counts_tokens(self, model):
        tokens = model.tokenizer.tokenize("We ship to Norway within five business days.")
        assert 0 < len(tokens) < 100

    def test_the_transformer_is_there_when_it_says_so(self, model):
        if self.has_transformer:
            assert model.transformer is not None and hasattr(model.transformer, "forward")
        else:
            assert getattr(model, "transformer", None) is None

    def test_retrieval_finds_a_document_with_it(self, agent, tmp_path):
        (tmp_path / "docs").mkdir()
        (tmp_path / "docs" / "shipping.txt").write_text("We ship to Norway within five business days.\n")
        (tmp_path / "docs" / "refunds.txt").write_text("Refunds go back to the card within a week.\n")
        agent.ingest([tmp_path / "docs"])
        hits = agent.search("We ship to Norway within five business days.", k=1, mode="dense")
        assert hits and hits[0].document.endswith("shipping.txt")

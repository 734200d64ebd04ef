"""What a chat learning cycle trains on, and the behaviour probe in the gate."""

import pytest

from lifelong import Agent, ConfigError
from lifelong.learning.behaviour import answered_right, behaviour_verdict, lost_questions, probe_questions
from lifelong.plugins.chat.training import MIN_DISTILLATION, PARAPHRASES, distillation_prompts, paraphrases

from conftest import TINY_CONFIG


def test_paraphrases_reword_keep_keywords_and_never_repeat_the_question():
    found = paraphrases("What is the price of the Larkspur Puffin hat?")
    assert found[0] == "How much does the Larkspur Puffin hat cost?"
    assert "price Larkspur Puffin hat?" in found and len(found) == PARAPHRASES
    assert "What is the price of the Larkspur Puffin hat?" not in found
    assert all(paraphrases(q) for q in ("Who is the CEO?", "hello", "Where is HQ?"))


def test_probe_and_distillation_prompts_are_shipped_and_disjoint():
    probe = {p["question"] for p in probe_questions()}
    assert len(probe) >= 40 and all(p["answers"] for p in probe_questions())
    assert len(distillation_prompts()) >= 30 and not probe & set(distillation_prompts())


@pytest.mark.parametrize("answer, right", [
    ("The capital of France is Paris.", True), ("paris", True), ("Parisian food is good.", False), ("Lyon.", False),
])
def test_answered_right_matches_whole_words(answer, right):
    assert answered_right(answer, ["Paris"]) is right


def test_behaviour_verdict_names_the_lost_questions_beyond_the_tolerance():
    parent = {f"q{i}": True for i in range(20)} | {"hard": False}
    one_lost = {**parent, "q3": False, "hard": True}
    assert lost_questions(parent, one_lost) == ["q3"]
    assert behaviour_verdict(parent, one_lost, 0.05) is None  # 1 of 20 is 5 %
    two_lost = {**one_lost, "q7": False}
    reason = behaviour_verdict(parent, two_lost, 0.05)
    assert "lost 2 of the 20" in reason and "q3" in reason and "q7" in reason
    assert behaviour_verdict({"q": False}, {"q": False}, 0.0) is None  # nothing to lose


def test_chat_options_are_validated_when_the_workspace_opens(tiny_workspace):
    for bad, message in (('answer = "guess"', "tasks.chat.answer must be auto, generate or extract, got 'guess'"),
                         ("paraphrases = 9", "tasks.chat.paraphrases must be an integer from 0 to 4"),
                         ("relevance_floor = -1", "tasks.chat.relevance_floor must be a number"),
                         ("adapter_scope = 1.5", "tasks.chat.adapter_scope must be a number from 0 to 1"),
                         ('adapter_scope = "near"', "tasks.chat.adapter_scope must be of type float"),
                         ("epochs = 0", "tasks.chat.epochs must be > 0"),
                         ("colour = 1", "unknown key tasks.chat.colour")):
        (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + f'\n[tasks.chat]\nplugin = "chat"\n{bad}\n')
        with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
            Agent.open(tiny_workspace)


def test_training_items_add_paraphrases_sources_and_the_parents_answers(tiny_workspace, tmp_path, monkeypatch):
    (tiny_workspace / "lifelong.toml").write_text(
        TINY_CONFIG + '\n[tasks.chat]\nplugin = "chat"\nparaphrases = 2\nself_distillation = 1.0\nrelevance_floor = 0.0\n')
    (tmp_path / "kb.txt").write_text("The parking garage is free for customers on weekdays.")
    agent = Agent.open(tiny_workspace)
    # The tiny model's own answers may be empty (and are then left out): the parent answers here.
    monkeypatch.setattr(type(agent.task("chat")), "_generate_batch", lambda self, model, prompts, n: ["parent says"] * len(prompts))
    examples = [{"input": "Is parking free?", "target": "Parking is free for customers on weekdays."},
                {"input": "Who is the CEO?", "target": "Mira Okafor."}]
    plain = agent.task("chat").training_items(examples, None)
    agent.ingest([tmp_path / "kb.txt"])
    items = agent.task("chat").training_items(examples, None)
    questions = [i["messages"][-1]["content"] for i in items]
    with_sources = [q for q in questions if q.startswith("Sources:")]
    # Only where the sources carry the answer: the parking garage sentence says nothing of the CEO.
    assert len(with_sources) == 1 and "[1] The parking garage is free" in with_sources[0]
    assert sum(i["target"] == "Mira Okafor." for i in items) == 1 + 2  # question, 2 paraphrases
    distilled = [i for i in items if i["messages"][-1]["content"] in distillation_prompts()]
    assert len(distilled) == MIN_DISTILLATION == len(plain) - 2 * (1 + 2)  # at least so many, else one per example
    assert {i["target"] for i in distilled} == {"parent says"} and all(i["soft"] for i in distilled)
    assert not any(i.get("soft") for i in items if i not in distilled)
    assert all(i["messages"][0]["role"] == "system" for i in items)


def test_a_replayed_question_is_trained_under_replay_paraphrases_rewordings(tiny_workspace, monkeypatch):
    (tiny_workspace / "lifelong.toml").write_text(
        TINY_CONFIG + '\n[tasks.chat]\nplugin = "chat"\nparaphrases = 2\nreplay_paraphrases = 0\nself_distillation = 0\n')
    agent = Agent.open(tiny_workspace)
    monkeypatch.setattr(type(agent.task("chat")), "_generate_batch", lambda self, model, prompts, n: ["parent says"] * len(prompts))
    new = {"input": "Who is the CEO?", "target": "Mira Okafor.", "replayed": False}
    old = {"input": "Where is HQ?", "target": "Oslo.", "replayed": True}
    items = agent.task("chat").training_items([new, old], None)
    assert sum(i["target"] == "Mira Okafor." for i in items) == 1 + 2
    assert [i["messages"][-1]["content"] for i in items if i["target"] == "Oslo."] == ["Where is HQ?"]
    # Its rewordings stay in the adapter's scope: it learned them when it was new.
    assert len(agent.task("chat").taught_questions([old])) == 1 + 2
    agent.close()


def test_a_soft_example_is_learned_as_the_starting_models_distribution(agent):
    """Before training, a soft example costs almost nothing (the model is its own teacher) while
    the same example as a hard one costs its cross-entropy; a step on a taught fact moves the
    model away from the teacher, and the soft loss measures exactly that."""
    import torch

    from lifelong.learning import causal_lm

    gen = agent.generator
    model = causal_lm.trainable_model(gen.fresh_base(), None, agent.task("chat").settings, 10)
    pad = gen.tokenizer.pad_token_id if gen.tokenizer.pad_token_id is not None else gen.tokenizer.eos_token_id
    example = {"input": "What is the capital of France?", "target": "Paris is the capital."}
    hard = causal_lm.features(gen.tokenizer, "Be brief.", example)
    soft = causal_lm.features(gen.tokenizer, "Be brief.", {**example, "soft": True})
    causal_lm.attach_teacher(model, [hard, soft], pad, 4)
    assert "teacher" in soft and "teacher" not in hard
    with torch.no_grad():
        at_start = float(causal_lm.batch_loss(model, [soft], pad))
        cross_entropy = float(causal_lm.batch_loss(model, [hard], pad))
    assert 0 <= at_start < 0.5 * cross_entropy  # not 0: the teacher keeps its top tokens only
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=0.05)
    for _ in range(5):
        causal_lm.batch_loss(model, [hard], pad).backward()
        optimizer.step()
        optimizer.zero_grad()
    with torch.no_grad():
        assert float(causal_lm.batch_loss(model, [soft], pad)) > at_start + 0.1


def test_the_loss_on_answer_positions_only_equals_the_models_own_loss_and_gradient(agent):
    """The LM head runs only where an answer token is predicted and the rows' common opening
    runs once (batches.answer_logits): on a batch of items of different lengths, the loss and
    the adapter's gradient are those of the model's own loss over all positions."""
    import torch

    from lifelong.learning import batches, causal_lm

    gen = agent.generator
    model = causal_lm.trainable_model(gen.fresh_base(), None, agent.task("chat").settings, 10)
    pad = gen.tokenizer.pad_token_id if gen.tokenizer.pad_token_id is not None else gen.tokenizer.eos_token_id
    system = "You are a helpful assistant of a shop. Answer briefly, in one sentence, and cite sources."
    batch = [causal_lm.features(gen.tokenizer, system, {"input": q, "target": a}) for q, a in (
        ("What is the capital of France?", "Paris."),
        ("Who wrote the long novel about the whale, and when?", "Herman Melville wrote Moby-Dick in 1851."),
    )]
    params = [p for p in model.parameters() if p.requires_grad]
    enc = causal_lm.collate(batch, pad)
    assert batches.shared_prefix(model, enc, len(enc["input_ids"][0])) >= batches.SHARED_PREFIX_MIN

    def loss_and_gradient(loss):
        model.zero_grad()
        loss.backward()
        return float(loss), torch.cat([p.grad.flatten() for p in params])

    own = loss_and_gradient(causal_lm.batch_loss(model, batch, pad, model_loss=True))
    kept = loss_and_gradient(causal_lm.batch_loss(model, batch, pad))
    assert kept[0] == pytest.approx(own[0], rel=1e-5)
    assert torch.allclose(kept[1], own[1], rtol=1e-4, atol=1e-7)
    assert float(own[1].abs().sum()) > 0

def test_lora_adapts_the_feed_forward_blocks_by_default(agent):
    """Found by architecture, not by hard-coded names: every linear layer inside an MLP block,
    and nothing of the attention layers."""
    from lifelong.learning import causal_lm
    from lifelong.learning.peft_methods import feed_forward_modules

    base = agent.generator.fresh_base()
    names = feed_forward_modules(base)
    assert names and all(".mlp." in n for n in names)
    assert {n.rsplit(".", 1)[1] for n in names} == {"gate_proj", "up_proj", "down_proj"}
    training = agent.task("chat").settings
    training.lora_targets = "mlp"
    model = causal_lm.trainable_model(base, None, training, 10)
    adapted = {n.rsplit(".lora_A", 1)[0] for n, _ in model.named_parameters() if ".lora_A" in n}
    assert adapted and all(".mlp." in n for n in adapted) and not any("attn" in n for n in adapted)

"""Every kind of feedback becomes its training signal: routing (learning/objectives.py), the
DPO and KTO objectives on the tiny model (learning/preference.py), and preferences through the
API, the CLI, the chat and HTTP."""

import json

import pytest
from typer.testing import CliRunner

from lifelong import Agent, ConfigError, InputError
from lifelong.cli import build_app
from lifelong.learning.objectives import counts, preference_pairs, route

from conftest import TINY_CONFIG

CORRECTION = {"id": 1, "input": "Who is the CEO?", "target": "Mira.", "origin": "correction", "rejected": "Bob.", "rating": None}
PREFERENCE = {"id": 2, "input": "Colour?", "target": "Teal.", "origin": "preference", "rejected": "Red.", "rating": None}
GOOD = {"id": 3, "input": "Where?", "target": "Oslo.", "origin": "rating", "rejected": None, "rating": 1}
BAD = {"id": 4, "input": "Where?", "target": "Mars.", "origin": "rating", "rejected": None, "rating": -1}
IMPORTED = {"id": 5, "input": "Motto?", "target": "Onward.", "origin": "import", "rejected": None, "rating": None}
ALL = [CORRECTION, PREFERENCE, GOOD, BAD, IMPORTED]
EVERY = ("sft", "dpo", "kto")


@pytest.mark.parametrize("objective, expected", [
    ("sft", {"sft": 4}),  # the thumbs-down teaches nothing, as before
    # Every answer to give is also learned by SFT; the preference objectives add to it.
    ("dpo", {"sft": 4, "dpo": 2}),
    ("kto", {"sft": 4, "kto": 4}),  # the preference as two rated answers
    ("auto", {"sft": 4, "dpo": 2, "kto": 2}),
])
def test_each_kind_of_feedback_is_routed_to_its_objective(objective, expected):
    items = route(ALL, objective, EVERY)
    assert counts(items) == expected
    by_id = {(i["id"], i["objective"]): i for i in items}
    if objective == "auto":
        assert {k for k in by_id if k[0] == 1} == {(1, "sft"), (1, "dpo")}  # a correction is also a pair
        assert by_id[(4, "kto")]["desirable"] is False and by_id[(3, "kto")]["desirable"] is True
    if objective == "kto":
        rated = [i for i in items if i["id"] == 2 and i["objective"] == "kto"]
        assert [(i["target"], i["desirable"]) for i in rated] == [("Teal.", True), ("Red.", False)]


def test_a_task_without_preference_objectives_learns_what_it_can_by_sft():
    items = route(ALL, "auto", ("sft",))
    assert counts(items) == {"sft": 4}
    assert {i["target"] for i in items} == {"Mira.", "Teal.", "Oslo.", "Onward."}


def test_an_answer_stated_by_several_feedback_rows_is_trained_once_per_objective():
    """A chosen answer picked over two bad ones is two pairs, but one answer to give."""
    second = {**PREFERENCE, "id": 6, "rejected": "Grey."}
    again = {**GOOD, "id": 7}  # another user's thumbs-up on the same answer
    items = route([PREFERENCE, second, GOOD, again], "auto", EVERY)
    assert counts(items) == {"sft": 2, "dpo": 2, "kto": 1}
    assert sorted(i["rejected"] for i in items if i["objective"] == "dpo") == ["Grey.", "Red."]
    kto = route([PREFERENCE, second], "kto", EVERY)
    assert sorted((i["objective"], i["target"], i.get("desirable")) for i in kto) == [
        ("kto", "Grey.", False), ("kto", "Red.", False), ("kto", "Teal.", True), ("sft", "Teal.", None)]


def test_preference_pairs_come_from_pairs_and_from_opposite_ratings_of_one_question():
    assert preference_pairs(ALL) == [("Who is the CEO?", "Mira.", "Bob."), ("Colour?", "Teal.", "Red."),
                                     ("Where?", "Oslo.", "Mars.")]


def test_the_objective_is_validated(tiny_workspace):
    for bad, message in (('objective = "rlhf"', "learning.objective must be sft, dpo, kto or auto"),
                         ("preference_beta = 0", "learning.preference_beta must be > 0")):
        (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + f"\n[learning]\n{bad}\n")
        with pytest.raises(ConfigError, match=message):
            Agent.open(tiny_workspace)


# --- feedback is stored as what it can teach ------------------------------------------------------


def test_feedback_keeps_thumbs_down_corrected_answers_and_preferences(agent):
    ids = [agent._log.log_interaction(task="chat", input=q, output=a) for q, a in
           (("Where?", "Mars."), ("Who is the CEO?", "Bob."), ("Colour?", "Red."))]
    assert agent.feedback(ids[0], rating=-1)["example_id"] is not None
    agent.feedback(ids[1], rating=-1, correction="Mira.")
    record = agent.prefer(ids[2], chosen="Teal.")  # over the logged answer
    assert (record["chosen"], record["rejected"]) == ("Teal.", "Red.")
    rows = [(e["input"], e["target"], e["origin"], e["rejected"], e["rating"]) for e in agent.pending_examples("chat")]
    assert rows == [("Where?", "Mars.", "rating", None, -1), ("Who is the CEO?", "Mira.", "correction", "Bob.", None),
                    ("Colour?", "Teal.", "preference", "Red.", None)]
    assert [f["chosen"] for f in agent.feedback_of(ids[2])] == ["Teal."]


def test_a_bad_preference_is_one_line_and_stores_nothing(agent):
    interaction = agent._log.log_interaction(task="chat", input="Colour?", output="Red.")
    for chosen, rejected, message in (("", "Red.", "needs two answers"), ("Red.", None, "are the same"),
                                      ("  ", "x", "needs two answers"), ("Teal.", "\ud800", "not valid UTF-8")):
        with pytest.raises(InputError, match=message):
            agent.prefer(interaction, chosen=chosen, rejected=rejected)
    assert agent.feedback_of(interaction) == [] and agent.pending_examples("chat") == []


def test_a_classifier_keeps_ratings_as_before_and_refuses_preferences(tiny_workspace):
    (tiny_workspace / "lifelong.toml").write_text(TINY_CONFIG + '\n[tasks.intent]\nplugin = "classify"\n')
    with Agent.open(tiny_workspace) as agent:
        interaction = agent._log.log_interaction(task="intent", input="hi", output="greeting")
        assert agent.feedback(interaction, rating=-1)["example_id"] is None
        with pytest.raises(InputError, match="does not learn from preferences"):
            agent.prefer(interaction, chosen="farewell")


# --- the objectives train what they should ---------------------------------------------------------


def _margins(agent, model, pairs):
    from lifelong.learning import causal_lm, preference

    tokenizer = agent.generator.tokenizer
    task = agent.task("chat")
    encode = lambda e: causal_lm.features(tokenizer, task.system_prompt, e)  # noqa: E731
    return preference.pair_margins(model, tokenizer, encode, [(task.messages(q), c, r) for q, c, r in pairs])


def _train(agent, examples, epochs=30):
    from lifelong.learning import causal_lm

    training = agent.task("chat").settings
    training.epochs, training.learning_rate, training.lora_targets = epochs, 0.003, "all-linear"
    task = agent.task("chat")
    items = [{**e, "messages": task.messages(e["input"])} for e in examples]
    return causal_lm.train(agent.generator.fresh_base(), agent.generator.tokenizer, items, None, training, 0,
                           task.system_prompt, beta=0.5)


PAIRS = [("Who is the CEO?", "Mira Okafor.", "I do not know."), ("What colour is the logo?", "Teal.", "Purple.")]


def test_dpo_makes_the_chosen_answer_likelier_than_the_rejected_one(agent):
    from lifelong.learning import causal_lm

    base = causal_lm.trainable_model(agent.generator.fresh_base(), None, agent.task("chat").settings, 1)
    before = _margins(agent, base.eval(), PAIRS)
    model = _train(agent, [{"input": q, "target": c, "rejected": r, "objective": "dpo"} for q, c, r in PAIRS])
    after = _margins(agent, model, PAIRS)
    assert all(a[0] > b[0] + 1.0 for a, b in zip(after, before))


def test_kto_raises_a_desirable_answer_and_lowers_an_undesirable_one(agent):
    from lifelong.learning import causal_lm, preference

    rated = [("Who is the CEO?", "Mira Okafor.", True), ("Who is the CEO?", "I do not know.", False),
             ("What colour is the logo?", "Teal.", True), ("What colour is the logo?", "Purple.", False)]
    tokenizer, task = agent.generator.tokenizer, agent.task("chat")
    rows = [causal_lm.features(tokenizer, task.system_prompt, {"messages": task.messages(q), "target": a}) for q, a, _ in rated]
    pad = tokenizer.pad_token_id
    base = causal_lm.trainable_model(agent.generator.fresh_base(), None, agent.task("chat").settings, 1)
    before, _ = preference.sequence_logps(base.eval(), rows, pad)
    model = _train(agent, [{"input": q, "target": a, "desirable": d, "objective": "kto"} for q, a, d in rated])
    with __import__("torch").no_grad():
        after, _ = preference.sequence_logps(model, rows, pad)
    moved = (after - before).tolist()
    assert moved[0] > 0 and moved[2] > 0 and moved[1] < 0 and moved[3] < 0


def test_auto_learns_every_kind_in_one_cycle_and_reports_each_objective(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        agent.config.learning.objective = "auto"
        agent.task("chat").settings.epochs = 60
        asked = {q: agent._log.log_interaction(task="chat", input=q, output=a) for q, a in
                 (("Who is the CEO?", "Bob."), ("What colour is the logo?", "Purple."), ("Where is HQ?", "Oslo."),
                  ("What is the motto?", "Nothing."))}
        agent.feedback(asked["Who is the CEO?"], rating=-1, correction="Mira.")
        agent.prefer(asked["What colour is the logo?"], chosen="Teal.")
        agent.feedback(asked["Where is HQ?"], rating=1)
        agent.feedback(asked["What is the motto?"], rating=-1)
        report = agent.learn()
        m = report.metrics
        assert m["objectives"] == {"sft": 3, "dpo": 2, "kto": 2}
        # Pairs: the correction over the answer it replaced, and the preference.
        assert m["preference_pairs"] == 2 and m["preference_accuracy"] == 1.0 and m["reward_accuracy"] == 1.0
        assert report.promoted, report.reason
        assert agent.pending_examples("chat") == []


def test_only_thumbs_down_with_the_sft_objective_is_a_clear_error(learning_workspace):
    with Agent.open(learning_workspace) as agent:
        agent.feedback(agent._log.log_interaction(task="chat", input="Where?", output="Mars."), rating=-1)
        with pytest.raises(InputError, match="thumbs-down ratings, which objective 'sft' does not learn"):
            agent.learn()
        assert len(agent.pending_examples("chat")) == 1 and agent.learning_runs() == []


# --- preferences from the CLI, the chat and HTTP ---------------------------------------------------


def test_cli_feedback_prefer(tiny_workspace):
    runner = CliRunner()
    with Agent.open(tiny_workspace) as agent:
        interaction = agent._log.log_interaction(task="chat", input="Colour?", output="Red.")
    result = runner.invoke(build_app(), ["feedback", str(interaction), "--prefer", "Teal.", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["rejected"] == "Red."
    result = runner.invoke(build_app(), ["feedback", str(interaction), "--prefer", "Teal.", "--over", "Blue."])
    assert result.exit_code == 0 and "a training example now" in result.output
    for args, message in ((["--prefer", "Teal.", "--good"], "cannot be combined"), (["--over", "Blue."], "--over needs --prefer"),
                          (["--prefer", "Red."], "are the same")):
        result = runner.invoke(build_app(), ["feedback", str(interaction), *args])
        assert result.exit_code == 1 and message in result.output
    with Agent.open(tiny_workspace) as agent:
        assert [(e["target"], e["rejected"]) for e in agent.pending_examples("chat")] == [("Teal.", "Red."), ("Teal.", "Blue.")]


def test_chat_answers_again_and_keeps_the_pick_as_a_preference(tiny_workspace, monkeypatch):
    answers = iter(["first answer", "second answer"])
    monkeypatch.setattr("lifelong.plugins.chat.ChatTask._generate", _fixed(answers))
    lines = iter(["Colour?", "/pick 2", "/again", "/pick 2", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    result = CliRunner().invoke(build_app(), ["chat", "--no-retrieval"])
    assert result.exit_code == 0, result.output
    assert "say /again first" in result.output and "2: second answer" in result.output
    with Agent.open(tiny_workspace) as agent:
        [example] = agent.pending_examples("chat")
        assert (example["input"], example["target"], example["rejected"]) == ("Colour?", "second answer", "first answer")
        assert len(agent._log.recent()) == 2  # the second answer is logged too


def _fixed(answers):
    from lifelong.api import Answer

    def generate(self, messages, adapter, version, stream, decoding, emit=True):
        text = next(answers)
        if emit:
            yield text
        return Answer(text, version)

    return generate


def test_http_feedback_takes_a_preference(tiny_workspace):
    from fastapi.testclient import TestClient

    from lifelong.server import create_app

    with TestClient(create_app(tiny_workspace), base_url="http://localhost") as client:
        agent = client.app.state.agent
        interaction = agent._log.log_interaction(task="chat", input="Colour?", output="Red.")
        response = client.post("/v1/feedback", json={"interaction_id": interaction, "chosen": "Teal."})
        assert response.status_code == 200 and response.json()["rejected"] == "Red."
        for body in ({"chosen": "Teal.", "rating": 1}, {"rejected": "Red."}, {"chosen": "Red."}):
            response = client.post("/v1/feedback", json={"interaction_id": interaction, **body})
            assert response.status_code == 400, response.text
        assert len(agent.pending_examples("chat")) == 1


# --- the losses are TRL's ------------------------------------------------------------------------


def _trl_case(tmp_path):
    """The tiny model as policy, a perturbed copy as reference, and the prompt as text the way
    TRL takes it (a standard, not conversational, dataset: it adds the EOS to each answer)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from lifelong.testing.tiny_models import tiny_llm_path

    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_path())
    policy = AutoModelForCausalLM.from_pretrained(tiny_llm_path())
    reference = AutoModelForCausalLM.from_pretrained(tiny_llm_path())
    torch.manual_seed(1)
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    prompts = [tokenizer.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True, tokenize=False)
               for q in ("Who is the CEO?", "What colour is the logo?")]
    return tokenizer, policy, reference, prompts


def _ours(tokenizer, prompt, answer):
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(answer + tokenizer.eos_token, add_special_tokens=False)["input_ids"]
    return {"input_ids": ids + answer_ids, "labels": [-100] * len(ids) + answer_ids, "soft": False}


def _trl_loss(trainer):
    import torch

    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    with torch.no_grad():
        return float(trainer.compute_loss(trainer.model, batch))


def test_dpo_loss_is_trls(tmp_path):
    pytest.importorskip("trl")
    import torch
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from lifelong.learning import preference

    tokenizer, policy, reference, prompts = _trl_case(tmp_path)
    rows = [{"prompt": p, "chosen": c, "rejected": r} for p, (c, r) in zip(prompts, (("Mira.", "Bob."), ("Teal.", "Purple.")))]
    config = DPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, beta=0.3, report_to="none", use_cpu=True,
                       bf16=False)
    theirs = _trl_loss(DPOTrainer(policy, reference, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer))
    items = [{"chosen": _ours(tokenizer, r["prompt"], r["chosen"]), "rejected": _ours(tokenizer, r["prompt"], r["rejected"])} for r in rows]
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for item in items:
            for part in ("chosen", "rejected"):
                item[f"ref_{part}"] = float(preference.sequence_logps(reference, [item[part]], pad)[0])
        ours = float(preference.dpo_loss(policy, items, pad, 0.3))
    assert abs(ours - theirs) < 1e-4 and abs(ours - 0.6931) > 0.01  # policy and reference differ


# One answer of each kind, then more thumbs-down than thumbs-up: KTOTrainer given the desirable
# weight that balances the two kinds (the one our items carry) computes the same loss. Neighbours
# answer different questions, as in the shuffled data KTOTrainer's rotation expects.
@pytest.mark.parametrize("answers, desirable_weight", [
    ([(0, "Mira.", True), (1, "Purple.", False)], 1.0),
    ([(0, "Mira.", True), (1, "Purple.", False), (0, "Bob.", False), (1, "Grey.", False)], 3.0),
])
def test_kto_loss_is_trls(tmp_path, answers, desirable_weight):
    pytest.importorskip("trl")
    import torch
    from datasets import Dataset
    from trl import KTOConfig, KTOTrainer

    from lifelong.learning import preference

    tokenizer, policy, reference, prompts = _trl_case(tmp_path)
    rows = [{"prompt": prompts[p], "completion": completion, "label": label} for p, completion, label in answers]
    config = KTOConfig(output_dir=str(tmp_path), per_device_train_batch_size=len(rows), beta=0.3, report_to="none",
                       use_cpu=True, bf16=False, desirable_weight=desirable_weight)
    theirs = _trl_loss(KTOTrainer(policy, reference, args=config, train_dataset=Dataset.from_list(rows), processing_class=tokenizer))
    encode = lambda e: _ours(tokenizer, e["prompt"], e["target"])  # noqa: E731
    items = preference.rated_features(encode, [{"prompt": r["prompt"], "target": r["completion"], "desirable": r["label"]} for r in rows])
    pad = tokenizer.pad_token_id
    with torch.no_grad():
        for item in items:
            item["ref_answer"] = float(preference.sequence_logps(reference, [item], pad)[0])
            item["ref_kl"] = float(preference.sequence_logps(reference, [item["kl"]], pad)[0])
        # KTOTrainer's reference point is its batch's, here every item's.
        z = preference.reference_point(policy, items, pad, 0)
        ours = float(preference.kto_loss(policy, [{**item, "reference_point": z} for item in items], pad, 0.3))
        moved = [abs(float(preference.sequence_logps(policy, [item], pad)[0]) - item["ref_answer"]) for item in items]
    assert abs(ours - theirs) < 1e-4
    # Policy and reference differ, so the loss is not trivially 0.5 whatever tiny model the session built.
    assert max(moved) > 0.1


def test_kto_reference_point_pairs_each_prompt_with_another_questions_answer():
    """Rated answers arrive grouped by question; KTOTrainer's rotation by one would pair most
    with their own question's answers."""
    from lifelong.learning import preference

    rated = [{"input": "Greece?", "target": "In short: Athens.", "desirable": True},
             {"input": "Greece?", "target": "ATHENS!!!", "desirable": False},
             {"input": "Ireland?", "target": "In short: Dublin.", "desirable": True},
             {"input": "Ireland?", "target": "DUBLIN!!!", "desirable": False}]
    answers = [e["target"] for e in rated]

    def encode(e):  # a token per question and per answer
        return {"input_ids": [len(e["input"]), 100 + answers.index(e["target"])], "labels": [-100, 100 + answers.index(e["target"])]}

    def mismatched(items):
        return [answers[item["kl"]["input_ids"][-1] - 100] for item in items]

    kl = mismatched(preference.rated_features(encode, rated))
    # Each prompt under the nearest earlier answer to the other question, cyclically.
    assert kl == ["DUBLIN!!!", "DUBLIN!!!", "ATHENS!!!", "ATHENS!!!"]
    grouped = [{**e, "group": "one"} for e in rated]  # one group: KTOTrainer's rotation by one
    assert mismatched(preference.rated_features(encode, grouped)) == answers[-1:] + answers[:-1]

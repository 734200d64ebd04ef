"""What a learning cycle spends: what the starting model gives is computed once and kept
(plugins/chat/served.py), the threads it uses, the progress it reports, and runs whose process
died. Tiny in-process models."""

import gc

import pytest
import torch

from lifelong import Agent
from lifelong.errors import ConfigError
from lifelong.learning import artefacts, behaviour, causal_lm, threads
from lifelong.plugins.chat import ChatTask, assessing, teaching
from lifelong.plugins.chat.training import distillation_prompts

from conftest import TINY_CONFIG

# Distillation on (8 general prompts at least), a scope that keeps every question but the taught
# ones with the base model (the tiny random embedder finds all sentences alike), a short training.
CONFIG = TINY_CONFIG + """
[tasks.chat]
plugin = "chat"
epochs = 2
lora_targets = "all-linear"
paraphrases = 1
adapter_scope = 0.9999
"""


def workspace(root, name):
    path = root / name
    path.mkdir()
    (path / "lifelong.toml").write_text(CONFIG)
    return path


def teach(agent, facts):
    agent.import_examples("chat", [{"text": q, "label": a} for q, a in facts])


@pytest.fixture
def computed(monkeypatch):
    """(store folder, artefact name, items computed) for every computation an ArtefactStore
    asked for, and every prompt the chat task generated an answer to (never an empty one)."""
    seen = {"stores": [], "prompts": []}
    values, tensors, generate = artefacts.ArtefactStore.values, artefacts.ArtefactStore.tensors, ChatTask._generate_batch

    def spy(original):
        def fetch(self, name, key, items, compute):
            def counted(missing):
                seen["stores"].append((self.folder, name, len(missing)))
                return compute(missing)
            return original(self, name, key, items, counted)
        return fetch

    def generated(self, model, prompts, max_new_tokens):
        seen["prompts"] += [p[-1]["content"] for p in prompts]
        # The tiny random model often answers nothing, and an empty distilled answer is left out.
        return [a or "I do not know." for a in generate(self, model, prompts, max_new_tokens)]

    monkeypatch.setattr(artefacts.ArtefactStore, "values", spy(values))
    monkeypatch.setattr(artefacts.ArtefactStore, "tensors", spy(tensors))
    monkeypatch.setattr(ChatTask, "_generate_batch", generated)
    return seen


def test_a_second_cycle_on_the_same_base_model_computes_nothing_of_it_again(tmp_path, computed):
    with Agent.open(workspace(tmp_path, "first")) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor."), ("Where is HQ?", "Oslo.")])
        agent.learn()
    base = {folder for folder, _, _ in computed["stores"] if "artefacts" in str(folder) and "adapters" not in str(folder)}
    assert len(base) == 1  # the base model's store, outside the workspace
    names = {name for _, name, _ in computed["stores"]}
    assert {"answers", "teacher", "perplexity"} <= names
    assert set(distillation_prompts()) & set(computed["prompts"])
    computed["stores"].clear(), computed["prompts"].clear()

    # Another workspace of the user, on the same base model: its first cycle starts from the base.
    with Agent.open(workspace(tmp_path, "second")) as agent:
        teach(agent, [("What colour is the logo?", "Teal.")])
        report = agent.learn()
    assert report.metrics["probe_perplexity_before"] > 0
    assert [c for c in computed["stores"] if c[0] in base] == []
    # No distilled prompt and no probe question was answered again by the base model; the
    # candidate answered only its own questions (the rest are outside its scope).
    probe = {p["question"] for p in behaviour.probe_questions()}
    assert not (set(distillation_prompts()) | probe) & set(computed["prompts"])


def test_a_changed_probe_or_system_prompt_is_computed_again(tmp_path, computed, monkeypatch):
    with Agent.open(workspace(tmp_path, "first")) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        agent.learn()
    probe = behaviour.probe_questions()
    changed = [{"question": "What is the capital of Norway?", "answers": ["Oslo"]}, *probe[1:]]
    for part in (assessing, teaching):  # the chat task's probe: in its assessment and its every-question check
        monkeypatch.setattr(part, "probe_questions", lambda: changed)
    monkeypatch.setattr(causal_lm, "probe_text", lambda: "A different text to measure perplexity on.")
    computed["stores"].clear(), computed["prompts"].clear()
    with Agent.open(workspace(tmp_path, "second")) as agent:
        teach(agent, [("Where is HQ?", "Oslo.")])
        agent.learn()
    # The new question alone among the probe's, and the perplexity of the new text, for the
    # parent (the base) and for the candidate.
    assert "What is the capital of Norway?" in computed["prompts"]
    assert not {p["question"] for p in probe[1:]} & set(computed["prompts"])
    assert sum(n for _, name, n in computed["stores"] if name == "perplexity") == 2

    computed["prompts"].clear()
    (path := workspace(tmp_path, "third")).joinpath("lifelong.toml").write_text(
        CONFIG + '\n[generation]\nsystem_prompt = "You are terse."\n')
    with Agent.open(path) as agent:
        teach(agent, [("Where is HQ?", "Oslo.")])
        agent.learn()
    assert {p["question"] for p in changed} <= set(computed["prompts"])  # another prompt: all again


def test_the_candidate_is_assessed_in_memory_without_loading_it_again(tmp_path, monkeypatch):
    with Agent.open(workspace(tmp_path, "w")) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        loads = []
        fresh = type(agent.generator).fresh_base
        monkeypatch.setattr(type(agent.generator), "fresh_base", lambda self: loads.append(1) or fresh(self))
        report = agent.learn()
    # One copy trained, one for the starting model (its distilled answers, then its answers to the
    # cycle's own questions in the gate): the candidate is never loaded from disk.
    assert report.version == 1 and len(loads) == 2


def _models() -> int:
    from transformers import PreTrainedModel

    gc.collect()
    return sum(isinstance(o, PreTrainedModel) for o in gc.get_objects())


def test_an_agent_between_cycles_holds_no_copy_a_cycle_loaded(tmp_path):
    with Agent.open(workspace(tmp_path, "w")) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        agent.ask("Who is the CEO?", retrieval=False)
        agent.embedder.encode(["the serving models are loaded"])
        serving = _models()
        for fact in [("Who is the CFO?", "Ana Lee."), ("Who is the CTO?", "Bo Chan.")]:
            agent.learn()
            teach(agent, [fact])
            assert _models() == serving  # the trained copy and the starting model's are freed


class Recorded:
    """The progress interface (rich's add_task/update), recording each step's description."""

    def __init__(self):
        self.steps = []

    def add_task(self, description, total=None, **_):
        self.steps.append(description)
        return len(self.steps) - 1

    def update(self, task_id, advance=0, description=None, **_):
        if description:
            self.steps.append(description)


def test_progress_arrives_from_every_phase(tmp_path):
    with Agent.open(workspace(tmp_path, "w")) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        progress = Recorded()
        agent.learn(progress=progress)
    text = "\n".join(progress.steps)
    for phase in ("cycle 1: 1 new + 0 replayed examples, ", "loading the models", "starting model: answers to 8 general prompts",
                  "starting model: 8", "training", "assessing the candidate"):
        assert phase in text, (phase, progress.steps)
    assert progress.steps.index("loading the models") < min(i for i, s in enumerate(progress.steps) if s.startswith("training"))


def test_a_run_whose_process_died_is_interrupted_when_the_workspace_opens(tmp_path):
    from lifelong.core.learner import learning_lock

    path = workspace(tmp_path, "w")
    with Agent.open(path) as agent:
        agent._runs.start("chat", 1, "replay", 3, 0)  # its process was killed: the lock went with it
        with learning_lock(agent, "chat"):  # ...or it is alive, holding the lock
            with Agent.open(path) as other:
                assert [r["status"] for r in other._runs.list("chat")] == ["running"]
    with Agent.open(path) as agent:
        [run] = agent._runs.list("chat")
        assert run["status"] == "interrupted" and "ended before it finished" in run["reason"]
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        assert agent.learn().cycle == 1  # the lock is free


@pytest.mark.parametrize("setting", [1, 0])
def test_the_thread_setting_is_honoured(tmp_path, monkeypatch, setting):
    path = workspace(tmp_path, "w")
    path.joinpath("lifelong.toml").write_text(CONFIG + f"\n[learning]\nthreads = {setting}\n")
    monkeypatch.setattr(threads, "free_cores", lambda: 1)  # what threads = 0 finds on a busy machine
    seen, train = [], causal_lm.train
    monkeypatch.setattr(causal_lm, "train", lambda *a, **k: seen.append(torch.get_num_threads()) or train(*a, **k))
    torch.set_num_threads(2)
    with Agent.open(path) as agent:
        teach(agent, [("Who is the CEO?", "Mira Okafor.")])
        agent.learn()
    assert seen == [1] and torch.get_num_threads() == 2  # restored after the cycle


def test_a_bad_thread_setting_is_refused_with_one_line(tmp_path):
    path = workspace(tmp_path, "w")
    path.joinpath("lifelong.toml").write_text(CONFIG + "\n[learning]\nthreads = -1\n")
    with pytest.raises(ConfigError, match=r"learning.threads must be an integer from 0 to 1024, got -1"):
        Agent.open(path)


def test_free_cores_counts_the_cores_other_processes_leave(monkeypatch):
    import os

    assert 1 <= threads.free_cores(0.05) <= os.cpu_count()
    busy = [__import__("subprocess").Popen([__import__("sys").executable, "-c", "while True: pass"]) for _ in range(os.cpu_count())]
    try:
        __import__("time").sleep(0.3)
        assert threads.free_cores(0.5) == 1  # every core taken by another process: still one
    finally:
        for p in busy:
            p.kill()


def test_a_cycle_on_the_free_cores_follows_the_other_work_between_steps(monkeypatch):
    monkeypatch.setattr(threads, "free_cores", lambda: 2)
    monkeypatch.setattr(threads, "RETUNE_SECONDS", 0.0)
    torch.set_num_threads(2)
    with threads.cycle_threads(0):
        assert torch.get_num_threads() == 2
        monkeypatch.setattr(threads, "_free_since", lambda before: 1)  # another process took a core
        threads.retune()
        assert torch.get_num_threads() == 1
    threads.retune()  # outside a cycle: nothing
    assert torch.get_num_threads() == 2
    with threads.cycle_threads(2):  # a number set: kept
        threads.retune()
        assert torch.get_num_threads() == 2


def test_what_is_kept_beside_an_adapter_is_not_part_of_it(tmp_path):
    """A later cycle adds to what is kept beside its parent: the parent must still verify."""
    from lifelong.api import ArtefactStore
    from lifelong.memory.versions import adapter_files, adapter_problem

    adapter = tmp_path / "v1"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    ArtefactStore.beside(adapter).values("answers", {"k": 1}, ["q"], lambda missing: ["a"])
    files = adapter_files(adapter)
    assert list(files) == ["adapter_model.safetensors"]
    ArtefactStore.beside(adapter).values("answers", {"k": 1}, ["q", "other"], lambda missing: ["b"])
    assert adapter_problem(adapter, files) is None

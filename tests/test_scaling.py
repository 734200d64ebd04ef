"""Scaling out learning (docs/deployment.md "Scaling out"): devices and dtypes, the one training loop on
accelerate, and learning cycles trained in several processes."""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import torch
from safetensors.torch import load_file
from typer.testing import CliRunner

from lifelong import Agent, ConfigError, InputError, LifelongError
from lifelong.cli import build_app
from lifelong.devices import resolve_device, resolve_dtype
from lifelong.learning.loop import shares

FACTS = [("Who is the CEO?", "Mira."), ("What colour is the logo?", "Teal."), ("Where is HQ?", "Oslo.")]
MORE = [("What is the motto?", "Onward."), ("Who is the CTO?", "Juno.")]


def teach(agent, facts):
    agent.import_examples("chat", [{"text": q, "label": a} for q, a in facts])


def give(agent, objective):
    """The facts as corrections (sft) or, for kto, as ratings: each right answer +1, and for two of
    them a wrong one -1 (KTO's reference point is a statistic of the whole batch: micro-batches and processes must
    share it). The right answers share a form and outnumber the wrong ones, so the model finds
    the other questions' answers likelier as it learns: the reference point, its KL estimate on
    them, rises above 0."""
    if objective == "sft":
        return teach(agent, FACTS + MORE)
    for i, (question, answer) in enumerate(FACTS + MORE):
        for given, rating in ((f"In short: {answer}", 1), ("I do not know.", -1))[: 2 if i < 2 else 1]:
            agent.feedback(agent._log.log_interaction(task="chat", input=question, output=given), rating=rating)


def with_objective(config: str, objective: str) -> str:
    return config.replace("[learning]\n", f"[learning]\nobjective = \"{objective}\"\n")


def adapter_of(agent, report) -> dict:
    return load_file(str(Path(agent.version(report.version, report.task)["adapter_path"]) / "adapter_model.safetensors"))


# --- devices and dtypes ---------------------------------------------------------------------


@pytest.mark.parametrize("key, value, expected", [
    ("device", "gpu", "models.device must be auto, cpu, cuda, cuda:N or mps, got 'gpu'"),
    ("device", "cuda:x", "models.device must be auto, cpu, cuda, cuda:N or mps, got 'cuda:x'"),
    ("dtype", "fp16", "models.dtype must be auto, float32, bfloat16 or float16, got 'fp16'"),
    ("quantization", "int4", "models.quantization must be none, 8bit or 4bit, got 'int4'"),
])
def test_bad_device_dtype_or_quantization_is_a_one_line_error_naming_the_key(tiny_workspace, key, value, expected):
    (tiny_workspace / "lifelong.toml").write_text(f'[models]\n{key} = "{value}"\n')
    with pytest.raises(ConfigError, match=expected.replace("(", r"\(")):
        Agent.open(tiny_workspace)
    result = CliRunner().invoke(build_app(), ["-w", str(tiny_workspace), "config"])
    assert result.exit_code != 0 and expected in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error on a machine without CUDA")
def test_a_missing_gpu_is_named_when_the_model_loads(tiny_workspace):
    (tiny_workspace / "lifelong.toml").write_text(
        (tiny_workspace / "lifelong.toml").read_text() + 'device = "cuda:1"\n')
    with Agent.open(tiny_workspace) as agent, pytest.raises(ConfigError, match="models.device 'cuda:1': .*no CUDA GPU"):
        agent.generator


def test_auto_picks_what_the_machine_has():
    device = resolve_device("auto")
    expected = "cuda" if torch.cuda.is_available() else "mps" if torch.backends.mps.is_available() else "cpu"
    assert device.type == expected
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32
    assert resolve_dtype("bfloat16", device) == torch.bfloat16


def test_the_generator_loads_and_trains_in_the_configured_dtype(tiny_workspace):
    (tiny_workspace / "lifelong.toml").write_text(
        (tiny_workspace / "lifelong.toml").read_text() + 'device = "cpu"\ndtype = "bfloat16"\n')
    with Agent.open(tiny_workspace) as agent:
        assert agent.generator.model.dtype == torch.bfloat16 and agent.generator.model.device.type == "cpu"
        assert agent.generator.fresh_base().dtype == torch.bfloat16
        assert agent.ask("Who is the CEO?", retrieval=False).answer is not None
        teach(agent, FACTS)
        agent.task("chat").settings.epochs = 2
        report = agent.learn()
        assert report.version is not None and all(t.isfinite().all() for t in adapter_of(agent, report).values())


# --- the training loop ----------------------------------------------------------------------


def test_shares_weigh_each_process_so_the_mean_of_their_gradients_is_the_batchs():
    batch = list(range(5))
    weight = {0: 3, 1: 1, 2: 4, 3: 1, 4: 5}.__getitem__
    for world in (1, 2, 3):
        for micro in (0, 1, 2):
            passes = [p for rank in range(world) for p in shares(batch, weight, micro, rank, world)]
            assert sorted(i for items, _ in passes for i in items) == batch
            # DDP averages over processes: the weights must sum to the number of processes.
            assert sum(w for _, w in passes) == pytest.approx(world)
    # A batch smaller than the number of processes: the idle process still takes part, weighted 0.
    assert shares([4], weight, 0, 1, 2) == [([4], 0.0)]


@pytest.mark.parametrize("objective", ["sft", "kto"])
def test_gradient_accumulation_trains_the_same_adapter_as_whole_batches(learning_workspace, objective):
    """micro_batch_size 1 splits each batch of 4 into four passes: the same steps, up to rounding."""
    config = with_objective((learning_workspace / "lifelong.toml").read_text().replace("epochs = 300", "epochs = 20"), objective)
    adapters = []
    for micro in (0, 1):
        workspace = learning_workspace.parent / f"micro-{micro}"
        workspace.mkdir()
        (workspace / "lifelong.toml").write_text(config.replace("[learning]\n", f"[learning]\nmicro_batch_size = {micro}\n"))
        with Agent.open(workspace) as agent:
            give(agent, objective)
            adapters.append(adapter_of(agent, agent.learn()))
    whole, split = adapters
    assert whole.keys() == split.keys()
    for name in whole:
        # Per weight matrix, as the two-process test compares: Adam moves a weight whose
        # gradient is near zero by a full step whichever way rounding tips it, so single
        # elements differ more than the matrix.
        gap = float((whole[name] - split[name]).norm() / whole[name].norm())
        assert gap < 1e-3, (name, gap)


def test_bad_learning_arguments_are_refused_before_anything_runs(learning_workspace, tmp_path):
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        with pytest.raises(InputError, match="processes must be a whole number >= 1, got 0"):
            agent.learn(processes=0)
        with pytest.raises(InputError, match="accelerate config '.*nowhere.yaml' is not a file"):
            agent.learn(accelerate_config=tmp_path / "nowhere.yaml")
        assert agent.learning_runs() == []
    runner = CliRunner()
    for args, expected in ((["--processes", "0"], "processes must be a whole number"),
                           (["--accelerate-config", str(tmp_path / "nowhere.yaml")], "is not a file")):
        result = runner.invoke(build_app(), ["-w", str(learning_workspace), "learn", *args])
        assert result.exit_code == 1 and expected in result.output and len(result.output.strip().splitlines()) == 1
    (learning_workspace / "lifelong.toml").write_text(
        (learning_workspace / "lifelong.toml").read_text().replace("[learning]\n", "[learning]\nmicro_batch_size = -1\n"))
    with pytest.raises(ConfigError, match="learning.micro_batch_size must be >= 0, got -1"):
        Agent.open(learning_workspace)


# --- several processes ----------------------------------------------------------------------


@pytest.fixture
def launched(monkeypatch):
    """The training processes import the tests' model plugin (tests/fakes.py) as this one does."""
    here = str(Path(__file__).parent)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p))


@pytest.mark.multiprocess
@pytest.mark.parametrize("objective", ["sft", "kto"])
def test_two_processes_train_the_same_adapter_as_one(learning_workspace, launched, objective):
    """30 epochs: rounding differences between the two grow over hundreds of steps of a model
    memorising its examples (300 epochs: probe perplexity 245.8 against 247.2)."""
    reports, adapters = [], []
    config = with_objective((learning_workspace / "lifelong.toml").read_text().replace("epochs = 300", "epochs = 30"), objective)
    for processes in (1, 2):
        workspace = learning_workspace.parent / f"processes-{processes}"
        workspace.mkdir()
        (workspace / "lifelong.toml").write_text(config)
        with Agent.open(workspace) as agent:
            give(agent, objective)
            reports.append(agent.learn(processes=processes))
            adapters.append(adapter_of(agent, reports[-1]))
            assert not list((workspace / "adapters" / "chat").glob(".tmp-*"))
    one, two = reports
    assert one.promoted == two.promoted and one.metrics["row"] == two.metrics["row"]
    assert one.metrics["probe_perplexity"] == pytest.approx(two.metrics["probe_perplexity"], rel=1e-3)
    for name in adapters[0]:
        # SFT: each weight matrix within 0.1% of its norm. KTO: within 2%. Its two runs part
        # further (1.4% for one matrix after 30 epochs); the cause is not established.
        difference = torch.linalg.norm(adapters[0][name] - adapters[1][name])
        tolerance = 2e-2 if objective == "kto" else 1e-3
        assert difference <= tolerance * torch.linalg.norm(adapters[0][name]), (name, difference)


class FirstStep:
    """A progress sink that says when training has begun (its first step, not an earlier phase)."""

    def __init__(self):
        self.started = threading.Event()
        self.training = False

    def add_task(self, description, total=None, **_):
        self.training = description.startswith("training")
        return 0

    def update(self, task_id, advance=0, description=None, **_):
        if advance and (self.training or (description or "").startswith("training")):
            self.started.set()


def training_processes() -> list:
    """The workers (torchrun gives each a RANK), not torchrun's own helper processes."""
    return [p for p in psutil.Process().children(recursive=True)
            if "lifelong.core.training_worker" in " ".join(p.cmdline()) and "RANK" in p.environ()]


@pytest.mark.multiprocess
@pytest.mark.parametrize("rank", ["0", "1"])
def test_a_killed_training_process_fails_the_run_cleanly(learning_workspace, launched, rank):
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        first = agent.learn()
        teach(agent, MORE)
    # Epochs enough that training is still going on when the kill comes, on any machine.
    config = (learning_workspace / "lifelong.toml").read_text()
    (learning_workspace / "lifelong.toml").write_text(config.replace("epochs = 300", "epochs = 100000"))
    progress, errors = FirstStep(), []
    with Agent.open(learning_workspace) as agent:
        def learn():
            try:
                agent.learn(processes=2, progress=progress)
            except LifelongError as exc:
                errors.append(exc)

        # A daemon: a failing assertion must not leave the test session waiting on the run.
        run = threading.Thread(target=learn, daemon=True)
        run.start()
        assert progress.started.wait(1200), "training did not start"
        workers = training_processes()
        assert len(workers) == 2
        next(p for p in workers if p.environ().get("RANK") == rank).kill()
        run.join(120)
        assert not run.is_alive(), "the run did not end when a training process died"
        assert errors and "a training process failed" in str(errors[0])
        deadline = time.time() + 60
        while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers) and time.time() < deadline:
            time.sleep(0.2)
        assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers), "a training process lives on"
        assert [r["status"] for r in agent.learning_runs()] == ["promoted", "failed"]
        assert agent.active_version("chat")["number"] == first.version
        assert sorted(p.name for p in (learning_workspace / "adapters" / "chat").iterdir()) == [f"v{first.version}"]
        assert agent.ask("Who is the CEO?", retrieval=False).answer == "Mira."
        assert len(agent.versions("chat")) == 1
    (learning_workspace / "lifelong.toml").write_text(config)
    with Agent.open(learning_workspace) as agent:
        assert agent.learn().promoted



# --- several machines -------------------------------------------------------------------------


def machine_config(folder: Path, rank: int, port: int) -> Path:
    """Machine ``rank``'s accelerate config of a run over two machines of one process each,
    both this one: the rendezvous at 127.0.0.1, gloo on the CPU."""
    path = folder / f"machine-{rank}.yaml"
    path.write_text(f"""compute_environment: LOCAL_MACHINE
distributed_type: MULTI_GPU
num_machines: 2
machine_rank: {rank}
num_processes: 2
main_process_ip: 127.0.0.1
main_process_port: {port}
rdzv_backend: static
same_network: true
mixed_precision: 'no'
use_cpu: false
""")
    return path


@pytest.fixture
def two_machines(learning_workspace, tmp_path, postgres_url, launched):
    """Two workspaces on one database and one adapters folder, as two machines have them (docs/deployment.md
    "Several replicas on one database"), and each machine's accelerate config."""
    from lifelong.core.launch import _free_port

    config = (learning_workspace / "lifelong.toml").read_text().replace("epochs = 300", "epochs = 30")
    shared = tmp_path / "shared-adapters"
    shared.mkdir()
    port = _free_port()
    machines = []
    for rank in (0, 1):
        workspace = tmp_path / f"machine-{rank}"
        workspace.mkdir()
        (workspace / "lifelong.toml").write_text(config + f'\n[memory]\ndatabase = "{postgres_url}"\nadapters = "{shared}"\n')
        machines.append((workspace, machine_config(tmp_path, rank, port)))
    return machines


def set_epochs(workspace: Path, epochs: int) -> None:
    config = (workspace / "lifelong.toml").read_text()
    (workspace / "lifelong.toml").write_text(re.sub(r"(?m)^epochs = \d+$", f"epochs = {epochs}", config))


def join(workspace: Path, config: Path, log: Path) -> subprocess.Popen:
    """``lifelong learn --join`` on the other machine."""
    with log.open("w") as out:
        return subprocess.Popen([sys.executable, "-m", "lifelong", "-w", str(workspace), "learn", "--join",
                                 "--accelerate-config", str(config), "--wait", "10m"], stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.multiprocess
def test_two_machines_train_the_same_adapter_as_one_process(learning_workspace, two_machines, tmp_path):
    (main, main_config), (other, other_config) = two_machines
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "lifelong.toml").write_text((learning_workspace / "lifelong.toml").read_text().replace("epochs = 300", "epochs = 30"))
    with Agent.open(alone) as agent:
        teach(agent, FACTS + MORE)
        one = agent.learn()
        one_adapter = adapter_of(agent, one)
    joiner = join(other, other_config, tmp_path / "joiner.log")
    try:
        with Agent.open(main) as agent:
            teach(agent, FACTS + MORE)
            two = agent.learn(accelerate_config=main_config)
            two_adapter = adapter_of(agent, two)
        assert joiner.wait(300) == 0, (tmp_path / "joiner.log").read_text()[-2000:]
    finally:
        joiner.kill()
    assert f"run {two.run_id}: this machine's share is trained" in (tmp_path / "joiner.log").read_text()
    assert one.promoted == two.promoted and one.metrics["row"] == two.metrics["row"]
    assert one.metrics["probe_perplexity"] == pytest.approx(two.metrics["probe_perplexity"], rel=1e-3)
    assert one_adapter.keys() == two_adapter.keys()
    for name in one_adapter:
        assert torch.allclose(one_adapter[name], two_adapter[name], rtol=1e-2, atol=1e-4), name
    # The joining machine wrote nothing: one adapter, no job or temporary folder left.
    assert [p.name for p in (main.parent / "shared-adapters" / "chat").iterdir()] == [f"v{two.version}"]


@pytest.mark.multiprocess
def test_a_killed_joining_machine_fails_the_run_cleanly(two_machines, tmp_path):
    (main, main_config), (other, other_config) = two_machines
    set_epochs(main, 300)  # enough to learn the facts, so that version 1 is promoted
    with Agent.open(main) as agent:
        teach(agent, FACTS)
        first = agent.learn()
        teach(agent, MORE)
    for workspace in (main, other):  # still training when the kill comes, on any machine
        set_epochs(workspace, 100000)
    joiner = join(other, other_config, tmp_path / "joiner.log")
    progress, errors = FirstStep(), []
    try:
        with Agent.open(main) as agent:
            def learn():
                try:
                    agent.learn(accelerate_config=main_config, progress=progress)
                except LifelongError as exc:
                    errors.append(exc)

            run = threading.Thread(target=learn, daemon=True)
            run.start()
            assert progress.started.wait(1200), "training did not start"
            workers = training_processes()
            assert sorted(p.environ()["RANK"] for p in workers) == ["0", "1"]
            next(p for p in workers if p.environ()["RANK"] == "1").kill()
            run.join(300)
            assert not run.is_alive(), "the run did not end when the joining machine's process died"
            assert errors and "a training process failed" in str(errors[0])
            assert joiner.wait(120) != 0
            output = (tmp_path / "joiner.log").read_text().strip().splitlines()
            assert "a training process failed" in output[-1]
            assert [r["status"] for r in agent.learning_runs()] == ["promoted", "failed"]
            assert agent.active_version("chat")["number"] == first.version
            assert sorted(p.name for p in agent.adapters_dir.joinpath("chat").iterdir()) == [f"v{first.version}"]
            assert agent.ask("Who is the CEO?", retrieval=False).answer == "Mira."
    finally:
        joiner.kill()
    deadline = time.time() + 60
    while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers) and time.time() < deadline:
        time.sleep(0.2)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in workers), "a training process lives on"


def test_joining_needs_a_config_of_a_machine_after_the_first_and_a_run_to_join(learning_workspace, tmp_path):
    runner = CliRunner()
    cases = [
        ([], "--join needs --accelerate-config FILE"),
        (["--accelerate-config", str(machine_config(tmp_path, 0, 29500))], "says machine_rank 0 of num_machines 2"),
        (["--accelerate-config", str(machine_config(tmp_path, 1, 29500)), "--wait", "1s"],
         "no multi-machine learning run of task 'chat' started within 1 s"),
        (["--accelerate-config", str(machine_config(tmp_path, 1, 29500)), "--processes", "2"], "leave out --watch and --processes"),
    ]
    for args, expected in cases:
        result = runner.invoke(build_app(), ["-w", str(learning_workspace), "learn", "--join", *args])
        assert result.exit_code == 1 and expected in result.output, result.output
        assert len([line for line in result.output.strip().splitlines() if not line.startswith("waiting")]) == 1
    with Agent.open(learning_workspace) as agent:
        assert agent.learning_runs() == []

# --- any causal LM --------------------------------------------------------------------------


def tiny_causal_lm(kind: str, folder: Path) -> Path:
    """A tiny random model of another architecture, with the tiny Llama's tokenizer."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel, GPTNeoXConfig, GPTNeoXForCausalLM

    from lifelong.testing.tiny_models import tiny_llm_path

    tokenizer = AutoTokenizer.from_pretrained(tiny_llm_path())
    ids = {"vocab_size": len(tokenizer), "eos_token_id": tokenizer.eos_token_id, "pad_token_id": tokenizer.pad_token_id}
    torch.manual_seed(0)
    if kind == "gpt2":
        model = GPT2LMHeadModel(GPT2Config(n_embd=32, n_layer=2, n_head=2, n_positions=512, bos_token_id=None, **ids))
    else:
        model = GPTNeoXForCausalLM(GPTNeoXConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                                 intermediate_size=64, max_position_embeddings=512, bos_token_id=None, **ids))
    model.save_pretrained(folder / kind)
    tokenizer.save_pretrained(folder / kind)
    return folder / kind


@pytest.mark.parametrize("kind, feed_forward", [("gpt2", {"c_fc", "c_proj"}), ("gpt_neox", {"dense_h_to_4h", "dense_4h_to_h"})])
def test_any_causal_lm_learns_with_lora_on_its_feed_forward_layers(learning_workspace, tmp_path, kind, feed_forward):
    path = tiny_causal_lm(kind, tmp_path)
    config = (learning_workspace / "lifelong.toml").read_text()
    config = config.replace('generator = "tiny-llm"', f'generator = "{path}"').replace('lora_targets = "all-linear"', 'lora_targets = "mlp"')
    (learning_workspace / "lifelong.toml").write_text(config.replace("epochs = 300", "epochs = 3"))
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        report = agent.learn()
        adapted = {name.split(".lora_")[0] for name in adapter_of(agent, report)}
    assert adapted and {name.rsplit(".", 1)[1] for name in adapted} == feed_forward
    assert all(".mlp." in name for name in adapted)


# --- QLoRA: the generator in 8 or 4 bits -------------------------------------------------------


def quantized(workspace: Path, bits: str, epochs: int) -> None:
    config = (workspace / "lifelong.toml").read_text().replace("epochs = 300", f"epochs = {epochs}")
    (workspace / "lifelong.toml").write_text(config.replace("[models]\n", f'[models]\nquantization = "{bits}"\n'))


def test_4bit_generator_learns_a_lora_adapter_that_serves_after_a_restart(learning_workspace):
    bnb = pytest.importorskip("bitsandbytes", reason="QLoRA needs bitsandbytes (pip install 'lifelong[quantization]')")
    quantized(learning_workspace, "4bit", 300)
    with Agent.open(learning_workspace) as agent:
        assert isinstance(agent.generator.model.model.layers[0].mlp.up_proj, bnb.nn.Linear4bit)
        assert isinstance(agent.generator.fresh_base().model.layers[0].mlp.up_proj, bnb.nn.Linear4bit)
        teach(agent, FACTS)
        report = agent.learn()
        assert report.promoted
        adapter = adapter_of(agent, report)
    # The adapter holds the LoRA weights alone, in full precision, on the quantised layers too.
    assert any(".mlp.up_proj.lora_A" in name for name in adapter)
    assert all(t.dtype == torch.float32 and t.isfinite().all() for t in adapter.values())
    with Agent.open(learning_workspace) as agent:
        assert [agent.ask(q, retrieval=False).answer for q, _ in FACTS] == [a for _, a in FACTS]


def test_8bit_generator_trains_an_adapter_that_serves(learning_workspace):
    bnb = pytest.importorskip("bitsandbytes", reason="QLoRA needs bitsandbytes (pip install 'lifelong[quantization]')")
    quantized(learning_workspace, "8bit", 40)
    with Agent.open(learning_workspace) as agent:
        assert isinstance(agent.generator.model.model.layers[0].mlp.up_proj, bnb.nn.Linear8bitLt)
        teach(agent, FACTS)
        report = agent.learn()
        adapter = adapter_of(agent, report)
        assert any(".mlp.up_proj.lora_A" in name for name in adapter)
        assert all(t.isfinite().all() for t in adapter.values())
        assert report.promoted, report.reason
    with Agent.open(learning_workspace) as agent:  # loaded again from disk, it serves the taught question
        assert agent.ask(FACTS[0][0], retrieval=False).model_version == f"v{report.version}"


def test_quantization_without_bitsandbytes_is_a_one_line_error(learning_workspace, monkeypatch):
    quantized(learning_workspace, "4bit", 3)
    monkeypatch.setitem(sys.modules, "bitsandbytes", None)  # import bitsandbytes fails, as where it is missing
    with Agent.open(learning_workspace) as agent:
        teach(agent, FACTS)
        with pytest.raises(ConfigError, match=r"models.quantization '4bit' needs bitsandbytes: pip install 'lifelong\[quantization\]'"):
            agent.generator
        assert len(agent.pending_examples("chat")) == len(FACTS)
    result = CliRunner().invoke(build_app(), ["-w", str(learning_workspace), "ask", "Who is the CEO?"])
    assert result.exit_code == 1 and "needs bitsandbytes" in result.output and len(result.output.strip().splitlines()) == 1


def test_quantization_on_a_device_bitsandbytes_has_no_backend_for_is_named(learning_workspace, monkeypatch):
    bnb = pytest.importorskip("bitsandbytes", reason="checks the message of an installed bitsandbytes")
    quantized(learning_workspace, "8bit", 3)
    # As a bitsandbytes release without a CPU backend says.
    monkeypatch.setattr(bnb, "supported_torch_devices", {"cuda"})
    with Agent.open(learning_workspace) as agent, pytest.raises(
            ConfigError, match=r"models.quantization '8bit': bitsandbytes .* has no backend for the cpu device \(it has: cuda\)"):
        agent.generator

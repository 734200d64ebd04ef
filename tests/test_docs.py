"""The plugin docs cannot drift from the code: every hook is documented with its arguments,
every method of the extension API with its real signature, and every worked example runs."""

import atexit
import inspect
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lifelong import Agent, api
from lifelong.core import hookspecs
from lifelong.cli import build_app, output
from lifelong.testing import AgentSuite, BufferTests, LearnableTaskTests, StrategyTests
from lifelong.testing.tiny_models import tiny_embedder_path

DOCS = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
HOOKS = [name for name, fn in inspect.getmembers(hookspecs) if hasattr(fn, "lifelong_spec")]
BASES = (api.Task, api.LearnableTask, api.Retriever, api.Strategy, api.ReplayBuffer, api.TextGenerator, api.TextEmbedder)


def test_there_are_hooks():
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("name", HOOKS)
def test_hook_documented_with_signature(name):
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"### {name}({params})" in DOCS, f"docs/plugins.md lacks '### {name}({params})'"


def signature(fn) -> str:
    parts = []
    for p in list(inspect.signature(fn).parameters.values())[1:]:  # without self
        if p.kind is p.VAR_KEYWORD:
            parts.append(f"**{p.name}")
        else:
            parts.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
    return ", ".join(parts)


REAL = {f"{cls.__name__}.{name}": signature(fn) for cls in BASES for name, fn in vars(cls).items()
        if inspect.isfunction(fn) and not name.startswith("_")}
# A signature may hold an empty tuple as a default ("stop=()").
DOCUMENTED = dict(re.findall(r"`((?:%s)\.\w+)\(((?:[^()`]|\(\))*)\)`" % "|".join(c.__name__ for c in BASES), DOCS))


@pytest.mark.parametrize("method", sorted(REAL))
def test_every_method_of_the_api_is_documented_as_it_is(method):
    assert method in DOCUMENTED, f"docs/plugins.md does not document `{method}({REAL[method]})`"
    assert DOCUMENTED[method] == REAL[method], f"docs say {method}({DOCUMENTED[method]}), the code {method}({REAL[method]})"


def test_no_documented_method_is_missing_from_the_code():
    assert set(DOCUMENTED) <= set(REAL), f"documented but not in lifelong.api: {set(DOCUMENTED) - set(REAL)}"


def test_every_name_of_the_api_is_documented():
    for name in api.__all__:
        assert f"`{name}`" in DOCS or f"`{name}(" in DOCS, f"docs/plugins.md does not mention {name}"


# --- the worked examples, saved as the files they are shown as, run through the kit -----------

EXAMPLES = dict(re.findall(r"<!-- file: (\w+\.py) -->\n```python\n(.*?)```", DOCS, re.S))
_FOLDER = Path(tempfile.mkdtemp(prefix="lifelong-doc-examples-"))
atexit.register(shutil.rmtree, _FOLDER, ignore_errors=True)
for _name, _code in EXAMPLES.items():
    (_FOLDER / _name).write_text(_code)


def example(name: str) -> list[str]:
    return [str(_FOLDER / name)]


def test_there_is_a_worked_example_of_each_kind():
    assert set(EXAMPLES) == {"lookup_task.py", "replay_everything.py", "fifo_buffer.py", "my_encoder.py", "slow_answers.py"}
    assert "examples/sqlite_retriever/" in DOCS  # the retriever example is a package, kit-tested there


class TestDocsLookupTask(LearnableTaskTests):
    plugins = example("lookup_task.py")
    task_plugin = "lookup"
    examples = [("What is the capital of Peru?", "Lima"), ("Who wrote Dubliners?", "James Joyce")]
    config = "\n[learning]\nholdout_fraction = 0.0\n"

    def test_learns_what_it_is_taught(self, agent, task):
        self.import_examples(agent, task)
        assert agent.learn(task.name).promoted
        assert agent.ask("who wrote  Dubliners?", task=task.name).answer == "James Joyce"


class TestDocsReplayEverything(StrategyTests):
    plugins = example("replay_everything.py")
    strategy = "replay-everything"


class TestDocsFifoBuffer(BufferTests):
    plugins = example("fifo_buffer.py")
    buffer = "fifo"


def test_docs_model_loader(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_ENCODER_PATH", tiny_embedder_path())
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join(["hf_models", *example("my_encoder.py")]))
    monkeypatch.setenv("LIFELONG_PLUGINS", example("my_encoder.py")[0])
    (tmp_path / "lifelong.toml").write_text('[models]\nembedder = "my-encoder"\n')
    with Agent.open(tmp_path) as agent:
        assert isinstance(agent.embedder, api.TextEmbedder)
        vectors = agent.embedder.encode(["one", "two"])
        assert vectors.shape == (2, agent.embedder.dim) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


class TestDocsSlowAnswers(AgentSuite):
    """The options-and-table example: its option is read from [plugins.slow_answers], its table
    made by its migration (recorded under its name), and a bad value refused naming the key."""

    plugins = example("slow_answers.py")
    config = "\n[plugins.slow_answers]\nthreshold_ms = 0.0\n"

    def test_keeps_slow_answers_in_its_own_table(self, agent):
        reply = agent.ask("hello", retrieval=False)
        assert [r["interaction_id"] for r in agent._db["slow_answers"].rows] == [reply.id]
        recorded = agent._db.execute("select name from _sqlite_migrations where migration_set = 'plugin:slow_answers'")
        assert [row[0] for row in recorded] == ["m001_slow_answers"]

    def test_a_bad_value_names_the_key(self, workspace):
        (workspace / "lifelong.toml").write_text(self.workspace_config().replace("threshold_ms = 0.0", "threshold_ms = -1.0"))
        with pytest.raises(api.ConfigError, match=r"plugins\.slow_answers\.threshold_ms must be >= 0, got -1\.0"):
            Agent.open(workspace)

    def test_config_shows_the_option_with_its_help(self, workspace, monkeypatch):
        monkeypatch.setattr(output.console, "width", 250)  # one row per line, to read them back
        result = CliRunner().invoke(build_app(), ["-w", str(workspace), "config"])
        line = next(line for line in result.output.splitlines() if "plugins.slow_answers.threshold_ms" in line)
        assert "0.0" in line and "Answers slower than this are kept" in line

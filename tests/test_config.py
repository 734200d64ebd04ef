import json

import pytest
from typer.testing import CliRunner

from lifelong import Agent, ConfigError
from lifelong.cli import build_app, output
from lifelong.core.config import Config, config_from_dict, load_config, save_config
from lifelong.plugins.retrieval.options import RetrievalOptions


def write(workspace, text):
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "lifelong.toml").write_text(text)


def test_defaults_round_trip(tmp_path):
    path = tmp_path / "lifelong.toml"
    config = Config()
    config.learning.buffer_size = 30
    config.plugins.modules = ["my_plugin"]
    config.plugins.options = {"retrieval": {"chunk_size": 300}}
    save_config(config, path)
    assert load_config(path) == config


@pytest.mark.parametrize(
    "text, key",
    [
        ("[learning]\nbuffer_sise = 3\n", "learning.buffer_sise"),
        ("[learning]\nbuffer_size = 'three'\n", "learning.buffer_size"),
        ("[learning]\nbuffer_size = 0\n", "learning.buffer_size"),
        ("[plugins.retrieval]\nchunk_overlap = 500\n", "plugins.retrieval.chunk_overlap"),
        ("[plugins.retrieval]\nmode = 'fuzzy'\n", "plugins.retrieval.mode"),
        ("[plugins.retrieval]\nmod = 'dense'\n", "plugins.retrieval.mod"),
        ("[plugins.pii]\nredact = 1\n", "plugins.pii.redact"),
        ("[tasks.chat]\nplugin = 'chat'\nepochs = 0\n", "tasks.chat.epochs"),
        ("[tasks.chat]\nplugin = 'chat'\npeft = 'ia3'\n", "tasks.chat.peft"),
        ("[plugins.chat]\nepochs = 0\n", "tasks.chat.epochs"),  # the old table: read as the task's
        ("[plugins.nosuch]\nx = 1\n", "plugins.nosuch"),
        ("[plugins.buffers]\nx = 1\n", "plugins.buffers"),  # a plugin without options
        ("[retrieval]\nchunk_overlap = 500\n", "plugins.retrieval.chunk_overlap"),  # the old key: read as the new
        ("[tasks.intent]\nthreshold = 0.5\n", "tasks.intent.plugin"),
        ("models = 3\n", "models"),
        ("tasks = 'chat'\n", "tasks"),
        ("tasks = ['chat']\n", "tasks"),
        ("[memory]\ndatabase = 'mysql://root@localhost/lifelong'\n", "memory.database"),
        ("[memory]\ndatabase = 5\n", "memory.database"),
    ],
)
def test_bad_config_names_the_key(workspace, text, key):
    write(workspace, text)
    with pytest.raises(ConfigError) as info:
        Agent.open(workspace)
    assert key in str(info.value)
    assert "\n" not in str(info.value)


def test_bad_config_in_cli_is_one_line_and_file_untouched(workspace):
    write(workspace, "[generation]\ntop_p = 2.0\n")
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "logs"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0
    assert "generation.top_p" in result.output
    assert (workspace / "lifelong.toml").read_text() == "[generation]\ntop_p = 2.0\n"


def test_invalid_toml(workspace):
    write(workspace, "[learning\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Agent.open(workspace)


def test_int_accepted_for_float():
    assert config_from_dict({"learning": {"tolerance": 0}}).learning.tolerance == 0.0


def test_config_command_json(workspace):
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "config", "--json"])
    assert result.exit_code == 0
    assert '"buffer_size": 500' in result.output


def test_plugin_options_are_read_from_their_table(workspace):
    write(workspace, "[plugins.retrieval]\nchunk_size = 120\n\n[tasks.chat]\nplugin = 'chat'\nlora_r = 4\n")
    with Agent.open(workspace) as agent:
        assert agent.plugin_options(RetrievalOptions).chunk_size == 120
        assert agent.plugin_options(RetrievalOptions).chunk_overlap == 30  # the default
        assert agent.task("chat").settings.lora_r == 4


def test_old_keys_are_read_as_their_new_names_with_one_warning(workspace, caplog):
    old = "plugins = [\"my_plugin\"]\n\n[retrieval]\ntop_k = 5\nchunk_size = 120\n\n[learning]\nlora_r = 4\n\n[privacy]\nredact_pii = false\n"
    write(workspace, old)
    with caplog.at_level("WARNING", logger="lifelong"):
        first, again = load_config(workspace / "lifelong.toml"), load_config(workspace / "lifelong.toml")
    assert first == again and first.plugins.modules == ["my_plugin"] and first.retrieval.top_k == 5
    assert first.plugins.options == {"retrieval": {"chunk_size": 120}, "pii": {"redact": False}}
    assert first.tasks == {"chat": {"plugin": "chat", "lora_r": 4}}
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 4, warnings  # once per key, not once per load
    assert any("retrieval.chunk_size is now plugins.retrieval.chunk_size" in w for w in warnings)
    assert any("privacy.redact_pii is now plugins.pii.redact" in w for w in warnings)
    assert (workspace / "lifelong.toml").read_text() == old  # read, never rewritten


def test_old_keys_at_their_defaults_are_dropped_without_a_warning(workspace, caplog):
    """Every lifelong.toml written before the move lists all keys with their defaults."""
    write(workspace, "plugins = []\n\n[models]\nthreads = 0\n\n[retrieval]\nmode = \"hybrid\"\n\n[privacy]\nredact_pii = true\n")
    with caplog.at_level("WARNING", logger="lifelong"):
        config = load_config(workspace / "lifelong.toml")
    assert config == Config() and not caplog.records


def test_the_chat_tasks_old_training_table_is_read_as_its_task_table(workspace, caplog):
    write(workspace, "[plugins.chat]\nepochs = 2\nlora_r = 16\n\n[tasks.chat]\nplugin = \"chat\"\nanswer = \"extract\"\n")
    with caplog.at_level("WARNING", logger="lifelong"):
        config = load_config(workspace / "lifelong.toml")
    assert config.tasks == {"chat": {"plugin": "chat", "answer": "extract", "epochs": 2}}
    assert "chat" not in config.plugins.options  # the emptied table is gone: no "takes no options" error
    assert any("plugins.chat.epochs is now tasks.chat.epochs" in r.getMessage() for r in caplog.records)


def test_an_old_key_beside_its_new_one_is_refused(workspace):
    write(workspace, "[retrieval]\nchunk_size = 120\n\n[plugins.retrieval]\nchunk_size = 100\n")
    with pytest.raises(ConfigError, match="both retrieval.chunk_size and plugins.retrieval.chunk_size are set"):
        load_config(workspace / "lifelong.toml")


def test_config_command_shows_each_plugins_options_with_help(workspace, monkeypatch):
    monkeypatch.setattr(output.console, "width", 250)  # one row per line, to read them back
    write(workspace, "[plugins.corrections]\nmin_similarity = 0.9\n")
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "config"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if "plugins.corrections.min_similarity" in line)
    assert "0.9" in line and "Cosine similarity" in line
    assert "plugins.retrieval.chunk_size" in result.output and "tasks.chat.peft" in result.output
    shown = json.loads(CliRunner().invoke(build_app(), ["-w", str(workspace), "config", "--json"]).output)
    assert shown["plugins"]["corrections"] == {"min_similarity": 0.9, "min_answerability": 0.05}
    assert shown["plugins"]["retrieval"]["chunk_size"] == 200


def test_a_config_that_is_a_folder_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from lifelong.cli import build_app

    (tmp_path / "ws" / "lifelong.toml").mkdir(parents=True)
    result = CliRunner().invoke(build_app(), ["-w", str(tmp_path / "ws"), "logs"])
    assert result.exit_code == 1 and result.output.strip().count("\n") == 0, result.output
    assert "lifelong.toml: not a file; move it away for the defaults" in result.output

import pytest
from typer.testing import CliRunner

from lifelong import Agent, ConfigError
from lifelong.cli import build_app
from lifelong.core.config import Config, config_from_dict, load_config, save_config


def write(workspace, text):
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "lifelong.toml").write_text(text)


def test_defaults_round_trip(tmp_path):
    path = tmp_path / "lifelong.toml"
    config = Config()
    config.learning.epochs = 3
    save_config(config, path)
    assert load_config(path) == config


@pytest.mark.parametrize(
    "text, key",
    [
        ("[learning]\nepochz = 3\n", "learning.epochz"),
        ("[learning]\nepochs = 'three'\n", "learning.epochs"),
        ("[learning]\nepochs = 0\n", "learning.epochs"),
        ("[retrieval]\nchunk_overlap = 500\n", "retrieval.chunk_overlap"),
        ("[retrieval]\nmode = 'fuzzy'\n", "retrieval.mode"),
        ("[privacy]\nredact_pii = 1\n", "privacy.redact_pii"),
        ("[tasks.intent]\nthreshold = 0.5\n", "tasks.intent.plugin"),
        ("models = 3\n", "models"),
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

import json

import pytest
from typer.testing import CliRunner

from lifelong import Agent, PluginError
from lifelong.cli import build_app
from lifelong.core import hookspecs
from lifelong.core.plugins import DEFAULT_PLUGINS, PluginHost


def test_builtins_load_and_every_hookimpl_matches_a_spec():
    host = PluginHost()
    assert set(host.info) == set(DEFAULT_PLUGINS)  # "fakes" is only loaded when configured
    assert all(info.source == "built-in" for info in host.info.values())
    host.pm.check_pending()


def test_allow_list_empty_loads_nothing(monkeypatch):
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", "")
    assert PluginHost().info == {}


def write_plugin(tmp_path, name, body):
    path = tmp_path / f"{name}.py"
    path.write_text("from lifelong import hookimpl\n" + body)
    return str(path)


def test_config_plugin_registers(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFELONG_LOAD_PLUGINS")
    spec = write_plugin(
        tmp_path, "extra", "@hookimpl\ndef register_buffers(register):\n    register('fifo', object)\n"
    )
    host = PluginHost([spec])
    assert host.info["extra"].source == "config"
    assert host.info["extra"].registers == {"buffers": ["fifo"]}
    assert host.registry.get("buffers", "fifo") is object


def test_broken_plugin_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFELONG_LOAD_PLUGINS")
    spec = write_plugin(tmp_path, "broken", "import not_a_module_anywhere\n")
    with pytest.raises(PluginError) as info:
        PluginHost([spec])
    message = str(info.value)
    assert "plugin 'broken'" in message and "not_a_module_anywhere" in message
    assert "LIFELONG_LOAD_PLUGINS" in message


def test_broken_plugin_traceback_on_request(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFELONG_LOAD_PLUGINS")
    monkeypatch.setenv("LIFELONG_RAISE_ERRORS", "1")
    spec = write_plugin(tmp_path, "broken", "import not_a_module_anywhere\n")
    with pytest.raises(ModuleNotFoundError):
        PluginHost([spec])


def test_duplicate_name_names_both_plugins(tmp_path, monkeypatch):
    monkeypatch.delenv("LIFELONG_LOAD_PLUGINS")
    body = "@hookimpl\ndef register_buffers(register):\n    register('fifo', object)\n"
    first, second = write_plugin(tmp_path, "one", body), write_plugin(tmp_path, "two", body)
    with pytest.raises(PluginError) as info:
        PluginHost([first, second])
    assert "'one'" in str(info.value) and "'two'" in str(info.value) and "'fifo'" in str(info.value)


def test_broken_config_plugin_in_cli(workspace, tmp_path, monkeypatch):
    spec = write_plugin(tmp_path, "broken", "raise RuntimeError('boom')\n")
    monkeypatch.setenv("LIFELONG_PLUGINS", "")  # restored after the test: --plugin sets it
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join([*DEFAULT_PLUGINS, "broken"]))
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "--plugin", spec, "plugins"])
    assert result.exit_code == 1
    assert "plugin 'broken'" in result.output and "boom" in result.output


def test_plugins_json(workspace):
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "plugins", "--json"])
    assert result.exit_code == 0
    names = {p["name"] for p in json.loads(result.output)}
    assert names == set(DEFAULT_PLUGINS)


def test_hooks_fire_through_agent(workspace, tmp_path, monkeypatch):
    spec = write_plugin(
        tmp_path, "shout", "@hookimpl\ndef before_log(record):\n    record['input'] = record['input'].upper()\n"
    )
    monkeypatch.setenv("LIFELONG_PLUGINS", spec)
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", "shout")
    agent = Agent.open(workspace)
    assert agent.plugins.info["shout"].source == "LIFELONG_PLUGINS"
    row_id = agent._log.log_interaction(task="chat", input="hello", output="hi")
    assert agent.interaction(row_id)["input"] == "HELLO"


def test_every_hookspec_has_a_docstring():
    for name in dir(hookspecs):
        fn = getattr(hookspecs, name)
        if hasattr(fn, "lifelong_spec"):
            assert fn.__doc__ and len(fn.__doc__) > 40, name


def test_a_workspace_config_never_loads_a_file(workspace, tmp_path, monkeypatch):
    """A workspace may be an archive someone else exported: a .py file its config names is an
    error saying how to load a plugin file, and the file never runs."""
    marker = tmp_path / "ran"
    workspace.mkdir()
    spec = write_plugin(workspace, "shipped", f"open({str(marker)!r}, 'w').write('ran')\n")
    (workspace / "lifelong.toml").write_text(f'[plugins]\nmodules = ["shipped.py", {spec!r}]\n')
    monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join([*DEFAULT_PLUGINS, "shipped"]))
    result = CliRunner().invoke(build_app(), ["-w", str(workspace), "plugins"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "plugins.modules names installed modules only" in result.output
    assert "lifelong --plugin shipped.py" in result.output
    assert not marker.exists()

"""Every options table is declared one way (lifelong/options.py) and checked the same way: the
core sections, each built-in plugin's [plugins.NAME], each task's [tasks.NAME]."""

import dataclasses
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from lifelong import Agent
from lifelong.cli import build_app
from lifelong.core import config as core_config
from lifelong.core.plugins import PluginHost
from lifelong.errors import ConfigError
from lifelong.options import Options, option, options_from_dict


@dataclass
class Example(Options):
    mode: str = option("fast", "How it runs", choices=("fast", "careful", "slow"))
    share: float = option(0.5, "Share kept", at_least=0, at_most=1)
    count: int = option(3, "How many", above=0)
    window: float = option(0.2, "Part held out", at_least=0, below=1)
    limit: float | None = option(None, "Optional ceiling", above=0)
    names: list = option([], "Names")
    on: bool = option(True, "Switch")


@pytest.mark.parametrize("table, message", [
    ({"mode": "quick"}, "x.mode must be fast, careful or slow, got 'quick'"),
    ({"share": 1.5}, "x.share must be a number from 0 to 1, got 1.5"),
    ({"share": "half"}, "x.share must be of type float, got 'half'"),
    ({"share": True}, "x.share must be of type float, got True"),
    ({"share": float("nan")}, "x.share must be a finite number, got nan"),
    ({"count": 0}, "x.count must be > 0, got 0"),
    ({"count": 2.0}, "x.count must be of type int, got 2.0"),
    ({"window": 1}, "x.window must be in [0, 1), got 1.0"),
    ({"limit": -1}, "x.limit must be > 0, got -1.0"),
    ({"names": "a"}, "x.names must be of type list, got 'a'"),
    ({"on": 1}, "x.on must be of type bool, got 1"),
    ({"colour": 1}, "unknown key x.colour; known keys: count, limit, mode, names, on, share, window"),
])
def test_a_broken_rule_names_the_key_the_rule_and_the_value(table, message):
    with pytest.raises(ConfigError) as info:
        options_from_dict(Example, table, "x.")
    assert str(info.value) == message


def test_good_values_are_kept_and_ints_become_floats():
    built = options_from_dict(Example, {"share": 1, "limit": 3, "names": ["a"], "mode": "slow"}, "x.")
    assert built == Example(mode="slow", share=1.0, limit=3.0, names=["a"])
    assert isinstance(built.share, float) and isinstance(built.limit, float)
    assert Example().names is not Example().names  # a mutable default is copied


def test_a_plain_dataclass_of_a_third_party_is_type_checked_too():
    @dataclass
    class Plain:
        level: int = 1

    with pytest.raises(ConfigError, match="p.level must be of type int, got 'high'"):
        options_from_dict(Plain, {"level": "high"}, "p.")


def _all_options_classes():
    host = PluginHost([], {})
    classes = [f.type if isinstance(f.type, type) else getattr(core_config, f.type)
               for f in dataclasses.fields(core_config.Config) if f.name not in ("tasks",)]
    classes += [type(options) for options in host.options.values()]
    classes += [host.registry.get("tasks", name).settings_class for name in host.registry.names("tasks")]
    return classes


def test_every_built_in_options_table_is_declared_with_option():
    """The one way: an Options subclass whose every field has help and rules from option()."""
    classes = _all_options_classes()
    assert len(classes) >= 12
    for cls in classes:
        assert issubclass(cls, Options), cls
        for f in dataclasses.fields(cls):
            if f.metadata.get("tables"):
                continue  # [plugins]'s holder of the [plugins.NAME] tables, each checked by its plugin
            assert f.metadata.get("help") and "choices" in f.metadata, f"{cls.__name__}.{f.name} is not declared with option()"


def test_the_chat_task_has_one_options_table(tiny_workspace):
    (tiny_workspace / "lifelong.toml").write_text(
        (tiny_workspace / "lifelong.toml").read_text() + '\n[tasks.chat]\nplugin = "chat"\nepochs = 2\nanswer = "extract"\n')
    with Agent.open(tiny_workspace) as agent:
        settings = agent.task("chat").settings
        assert (settings.epochs, settings.answer) == (2, "extract")
        assert "chat" not in agent.plugins.options  # no [plugins.chat] any more


def test_config_lists_and_sets_a_tasks_options(tiny_workspace):
    runner, app = CliRunner(), build_app()
    shown = runner.invoke(app, ["-w", str(tiny_workspace), "config", "get", "tasks.chat.epochs"])
    assert shown.exit_code == 0 and shown.output.strip() == "3"
    before = (tiny_workspace / "lifelong.toml").read_text()
    refused = runner.invoke(app, ["-w", str(tiny_workspace), "config", "set", "tasks.chat.epochs", "0"])
    assert refused.exit_code == 1 and "tasks.chat.epochs must be > 0, got 0" in refused.output
    assert (tiny_workspace / "lifelong.toml").read_text() == before
    done = runner.invoke(app, ["-w", str(tiny_workspace), "config", "set", "tasks.chat.epochs", "2"])
    assert done.exit_code == 0, done.output
    with Agent.open(tiny_workspace) as agent:
        assert agent.task("chat").settings.epochs == 2 and agent.tasks()["chat"]["plugin"] == "chat"

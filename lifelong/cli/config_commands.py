"""config (show), config get KEY and config set KEY VALUE: lifelong.toml without an editor."""

from __future__ import annotations

import dataclasses
import difflib
import json
import tomllib

import tomlkit
import typer

from ..core.config import config_from_dict, config_to_dict, describe
from ..core.plugins import PluginHost
from ..core.workspace import Workspace
from ..errors import ConfigError, InputError
from ..files import atomic_write
from .output import print_json, print_table


def add_to(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Show the effective configuration, or get and set one setting.",
                             invoke_without_command=True)
    config_app.callback()(show_config)
    config_app.command("get")(get_setting)
    config_app.command("set")(set_setting)
    app.add_typer(config_app, name="config")


def _settings(ws: Workspace) -> tuple[dict, object, dict]:
    """Every setting's value and help by its dotted key, the config, and the plugins' options."""
    config = ws.load_config()
    try:
        host = PluginHost(config.plugins.modules, config.plugins.options)
        tasks = host.task_settings(config)
    except ConfigError as exc:
        raise ConfigError(f"{ws.config_path}: {exc}") from None
    rows = [*describe(instance=config),
            *(row for plugin, values in host.options.items() for row in describe(type(values), f"plugins.{plugin}.", values)),
            *(row for name, values in tasks.items() for row in describe(type(values), f"tasks.{name}.", values))]
    return {key: (value, help_text) for key, value, help_text in rows}, config, host.options


def show_config(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the effective configuration as JSON."),
):
    """Show the effective configuration, each plugin's options included, with each setting's help text."""
    if ctx.invoked_subcommand is not None:
        return
    ws = Workspace.resolve(ctx.obj.workspace)
    settings, config, options = _settings(ws)
    if as_json:
        data = config_to_dict(config)
        data["plugins"].update({plugin: dataclasses.asdict(values) for plugin, values in options.items()})
        print_json(data)
        return
    rows = [{"key": key, "value": repr(value), "help": help_text} for key, (value, help_text) in settings.items()]
    print_table(rows, ["key", "value", "help"], title=str(ws.config_path))
    if config.tasks:
        print_table([{"task": n, **o} for n, o in config.tasks.items()], ["task", "plugin"], title="tasks")


def _known(key: str, settings: dict) -> None:
    if key not in settings:
        near = difflib.get_close_matches(key, settings, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; 'lifelong config' lists them"
        raise InputError(f"no setting {key!r}{hint} (a new task is added with 'lifelong tasks add')")


def get_setting(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The setting, as 'lifelong config' lists it: retrieval.top_k, plugins.retrieval.mode."),
):
    """Print one setting's effective value (the default when lifelong.toml leaves it out)."""
    settings, _, _ = _settings(Workspace.resolve(ctx.obj.workspace))
    _known(key, settings)
    value = settings[key][0]
    typer.echo(value if isinstance(value, str) else json.dumps(value))


def set_setting(
    ctx: typer.Context,
    key: str = typer.Argument(..., help="The setting, as 'lifelong config' lists it."),
    value: str = typer.Argument(..., help="A TOML value (3, 0.5, true, [\"a\"]); anything else is taken as text."),
):
    """Write one setting into lifelong.toml, checked as the workspace will read it; the file's
    comments and layout are kept, and a refused value leaves it as it was."""
    ws = Workspace.resolve(ctx.obj.workspace)
    settings, config, _ = _settings(ws)
    _known(key, settings)
    parsed = _toml_value(value)
    document = tomlkit.parse(ws.config_path.read_text(encoding="utf-8")) if ws.config_path.exists() else tomlkit.document()
    *tables, name = key.split(".")
    table = document
    for part in tables:
        if part not in table:
            table[part] = tomlkit.table()
        table = table[part]
    if tables[0] == "tasks" and "plugin" not in table:  # the chat task, configured by its defaults until now
        table["plugin"] = config.task_options(tables[1])["plugin"]
    table[name] = parsed
    text = tomlkit.dumps(document)
    data = tomllib.loads(text)
    try:
        config = config_from_dict(data, str(ws.config_path))
        PluginHost(config.plugins.modules, config.plugins.options).task_settings(config)
    except ConfigError as exc:
        raise ConfigError(f"{key} = {value}: {exc}; lifelong.toml is unchanged") from None
    with atomic_write(ws.config_path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    typer.echo(f"{key} = {json.dumps(parsed) if not isinstance(parsed, str) else parsed} in {ws.config_path}")


def _toml_value(text: str):
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except (tomllib.TOMLDecodeError, ValueError):
        return text  # plain text: a system prompt, a model name

"""lifelong models: the generators and embedders known, which ones the workspace uses, and the
adapter each task serves."""

from __future__ import annotations

import typer

from .output import print_listing, version_name


def add_to(app: typer.Typer) -> None:
    app.command("models")(models)


def models(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="Print as JSON.")):
    """List the models plugins register, the generator and embedder this workspace uses ([models]
    in lifelong.toml; any Hugging Face id or local path works too), and what each task serves
    with them. Loads no model."""
    agent = ctx.obj.agent
    by_plugin = {name: plugin for plugin, info in agent.plugins.info.items()
                 for name in info.registers.get("models", [])}
    used = {agent.config.models.generator: "generator", agent.config.models.embedder: "embedder"}
    serving = {role: [] for role in ("generator", "embedder")}
    for task in agent.tasks():
        active = agent.active_version(task)
        role = "generator" if agent.task(task).generates else "embedder"
        serving[role].append(f"{task}: {version_name(active['number'] if active else None, 'base')}")
    rows = [{"model": name, "role": used.get(name, ""), "from": f"plugin {plugin}",
             "serving": "; ".join(serving[used[name]]) if name in used else ""}
            for name, plugin in sorted(by_plugin.items())]
    rows += [{"model": name, "role": role, "from": "Hugging Face id or path", "serving": "; ".join(serving[role])}
             for name, role in used.items() if name not in by_plugin]
    print_listing(rows, ["model", "role", "from", "serving"], as_json)

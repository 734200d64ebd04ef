"""The fixture every suite shares: an agent in a fresh workspace, loading the built-ins, the
tiny models and the plugins under test, and nothing else that happens to be installed."""

from __future__ import annotations

import json

import pytest

from lifelong.core.agent import Agent
from lifelong.core.plugins import DEFAULT_PLUGINS

TINY_MODELS = "lifelong.testing.tiny_models"


class AgentSuite:
    #: Plugins to load besides the built-ins: dotted names, entry-point names of an installed
    #: package, or .py files (loaded as ``lifelong --plugin FILE`` loads them).
    plugins: list[str] = []
    #: More lifelong.toml, appended to the workspace's (``[learning]``, ``[plugins.NAME]``...).
    config: str = ""

    def workspace_config(self) -> str:
        modules = [TINY_MODELS, *(p for p in self.plugins if "." in p and not p.endswith(".py"))]
        return (f"[plugins]\nmodules = {json.dumps(modules)}\n\n[models]\ngenerator = \"tiny-llm\"\n"
                f"embedder = \"tiny-embedder\"\n{self.config}")

    @pytest.fixture
    def workspace(self, tmp_path, monkeypatch):
        path = tmp_path / "workspace"
        path.mkdir()
        (path / "lifelong.toml").write_text(self.workspace_config())
        monkeypatch.setenv("LIFELONG_WORKSPACE", str(path))
        monkeypatch.setenv("LIFELONG_LOAD_PLUGINS", ",".join([*DEFAULT_PLUGINS, TINY_MODELS, *self.plugins]))
        # A workspace's config never loads a file (core/plugins.py): files come as --plugin does.
        monkeypatch.setenv("LIFELONG_PLUGINS", ",".join(p for p in self.plugins if p.endswith(".py")))
        return path

    @pytest.fixture
    def agent(self, workspace):
        with Agent.open(workspace) as agent:
            yield agent

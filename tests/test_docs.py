"""The plugin docs cannot drift from the code: every hook must be documented."""

import inspect
from pathlib import Path

import pytest

from lifelong.core import hookspecs

DOCS = (Path(__file__).parents[1] / "docs" / "plugins.md").read_text()
HOOKS = [name for name, fn in inspect.getmembers(hookspecs) if hasattr(fn, "lifelong_spec")]


def test_there_are_hooks():
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("name", HOOKS)
def test_hook_documented_with_signature(name):
    params = ", ".join(inspect.signature(getattr(hookspecs, name)).parameters)
    assert f"### {name}({params})" in DOCS, f"docs/plugins.md lacks '### {name}({params})'"

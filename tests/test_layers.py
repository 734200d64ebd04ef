"""Layers point one way: no module of lifelong imports from a layer above its own (docs/architecture.md,
"How it fits together" states them). Imports inside functions count too."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lifelong"
# Lowest first; a module may import its own layer and those below.
LAYERS = [
    ("lifelong.errors", "lifelong.validation", "lifelong.files", "lifelong.devices"),
    ("lifelong.memory",),
    ("lifelong.models", "lifelong.learning"),
    ("lifelong.core", "lifelong.api", "lifelong.testing", "lifelong"),
    ("lifelong.plugins",),
    ("lifelong.cli", "lifelong.server", "lifelong.integrations", "lifelong.__main__"),
]


def layer(module: str) -> int | None:
    """The layer of ``module``: that of its longest matching prefix."""
    best = None
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[0]:
                    best = (len(prefix), number)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, package: str):
    """(line, absolute module) for every import of a lifelong module in ``source``, a module of
    ``package``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "lifelong")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module
            if target.split(".")[0] == "lifelong":
                yield node.lineno, target


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_module_has_a_layer():
    assert [module_name(p) for p in MODULES if layer(module_name(p)) is None] == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_point_down(path):
    own = layer(module_name(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    upward = [f"line {line}: {target}" for line, target in imports(path.read_text(), package) if layer(target) > own]
    assert not upward, f"{module_name(path)} (layer {own}) imports from a layer above: {'; '.join(upward)}"


def test_the_walk_resolves_relative_and_nested_imports():
    source = "from ..core.agent import Agent\ndef f():\n    from . import db\n    import lifelong.cli\n"
    assert [t for _, t in imports(source, "lifelong.memory")] == ["lifelong.core.agent", "lifelong.memory", "lifelong.cli"]
    assert layer("lifelong.core.agent") > layer("lifelong.memory")


def test_the_core_loads_models_only_through_the_model_plugins():
    """core/ gets generators and embedders from register_models and load_model, never by
    importing the loaders: a workspace without hf_models loads no Hugging Face model."""
    found = []
    for path in MODULES:
        name = module_name(path)
        if name.startswith("lifelong.core."):
            package = name.rpartition(".")[0]
            found += [f"{name} line {line}" for line, target in imports(path.read_text(), package)
                      if target == "lifelong.models" or target.startswith("lifelong.models.")]
    assert found == []

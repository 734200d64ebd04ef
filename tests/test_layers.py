"""Layers point one way: no module of lifelong imports from a layer above its own (docs/architecture.md,
"How it fits together" states them). Imports inside functions count too."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lifelong"
# Lowest first; a module may import its own layer and those below.
LAYERS = [
    ("lifelong.errors", "lifelong.validation", "lifelong.files", "lifelong.devices", "lifelong.quiet", "lifelong.options"),
    ("lifelong.memory",),
    ("lifelong.models", "lifelong.learning"),
    ("lifelong.core", "lifelong.api", "lifelong.testing", "lifelong"),
    ("lifelong.plugins",),
    ("lifelong.cli", "lifelong.server", "lifelong.web", "lifelong.integrations", "lifelong.__main__"),
]


def layer(module: str) -> int | None:
    """The layer of ``module``: that of its longest matching prefix ("lifelong" itself matches
    only the package, or every module would have a layer)."""
    best = None
    for number, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != "lifelong" and module.startswith(prefix + ".")):
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


def test_a_module_of_no_layer_is_found():
    assert layer("lifelong.nosuch") is None and layer("lifelong") is not None


def own_package(module: str) -> str:
    """A built-in plugin's own package: lifelong.plugins.NAME (a package or a single module)."""
    return ".".join(module.split(".")[:3])


def past_the_api(path: Path) -> list[str]:
    """The imports of a built-in plugin's module that reach lifelong past ``lifelong.api`` and
    its own package."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    own = own_package(name)
    return [f"line {line}: {target}" for line, target in imports(path.read_text(), package)
            if target != "lifelong.api" and target != own and not target.startswith(own + ".")]


PLUGIN_MODULES = [p for p in MODULES if module_name(p).startswith("lifelong.plugins.")]


@pytest.mark.parametrize("path", PLUGIN_MODULES, ids=lambda p: module_name(p))
def test_built_in_plugins_import_only_the_api_and_their_own_package(path):
    assert past_the_api(path) == [], f"{module_name(path)} imports past lifelong.api"


def test_an_import_past_the_api_is_found(tmp_path):
    plugin = PACKAGE / "plugins" / "chat" / "served.py"
    source = "from lifelong.api import Task\nfrom . import scope\nfrom lifelong.memory.db import utcnow\n" \
             "def f():\n    from lifelong.plugins.retrieval import options\n    import lifelong\n"
    found = [t for _, t in imports(source, "lifelong.plugins.chat")]
    own = own_package(module_name(plugin))
    assert [t for t in found if t != "lifelong.api" and t != own and not t.startswith(own + ".")] == [
        "lifelong.memory.db", "lifelong.plugins.retrieval", "lifelong"]


def imported_modules(path: Path) -> set[str]:
    """The lifelong modules ``path`` imports, inside functions too, each resolved to a module of
    the package (``from pkg import name`` may name a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for _, target in imports(ast.unparse(node), package):
                found.add(target)
                if isinstance(node, ast.ImportFrom):
                    found.update(f"{target}.{alias.name}" for alias in node.names)
    return {t for t in found if t in KNOWN} - {name}


KNOWN = {module_name(p) for p in MODULES} | {"lifelong"}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles():
    """Imports inside functions count: one there that closes a cycle hides the cycle, it does
    not remove it."""
    graph = {module_name(p): imported_modules(p) for p in MODULES}
    # A package imports its submodules to re-export them; that is not a cycle of design.
    graph = {m: {t for t in targets if not m.startswith(t + ".")} for m, targets in graph.items()}
    assert cycles(graph) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_every_import_names_a_module_that_exists(path):
    """A module moved leaves no import of its old place behind, even inside a function that
    no test reaches."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    missing = [f"line {line}: {target}" for line, target in imports(path.read_text(), package) if target not in KNOWN]
    assert missing == [], f"{name} imports modules that do not exist"


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


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

"""The package layout (issue 13): imports flow one way, modules stay small, the model stands alone.

Every module of ``colanet_brian`` is parsed with `ast` (nothing is imported); the import graph holds
absolute and relative imports, at module level and inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "colanet_brian"
MAX_LINES = 600


def _modules() -> dict[str, tuple[Path, bool]]:
    """``{dotted name: (path, is_package)}`` of every module of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module that ``name`` (a module or a name inside one) lives in."""
    while name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """``(imported module, line, at module level)`` for every import of the package in ``module``."""
    path, is_package = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    top_level = {id(node) for node in tree.body}
    here = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target.split(".")[0] == PACKAGE.name:
                found.append((_resolve(target), node.lineno, id(node) in top_level))
    return found


GRAPH = {module: {target for target, _, _ in _imports(module)} - {module} for module in MODULES}


def _parents(module: str) -> set[str]:
    """Packages whose ``__init__`` runs when ``module`` is imported."""
    parts = module.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts))}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_relative_function_level_and_absolute_imports():
    assert "colanet_brian.engine.simulate" in GRAPH["colanet_brian.classifier"]  # module level, relative
    assert "colanet_brian.classifier" in GRAPH["colanet_brian.search.pools"]  # inside a function
    assert "colanet_brian.model.params" in GRAPH["colanet_brian"]  # lazy export of the package
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_circle():
    cycle = _find_cycle(GRAPH)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_small(module):
    lines = MODULES[module][0].read_text().count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (more than {MAX_LINES}: two concepts?)"


def test_model_imports_nothing_else_of_the_package():
    outside = {(m, t) for m in MODULES if m.startswith("colanet_brian.model") for t in GRAPH[m]
               if not t.startswith("colanet_brian.model")}
    assert not outside, f"the model imports other parts of the package: {sorted(outside)}"


def test_data_imports_neither_model_nor_engine():
    wrong = {(m, t) for m in MODULES if m.startswith("colanet_brian.data") for t in GRAPH[m]
             if t.startswith(("colanet_brian.model", "colanet_brian.engine"))}
    assert not wrong, f"data imports the model or the engine: {sorted(wrong)}"


def test_engine_imports_no_higher_stage():
    allowed = ("colanet_brian.engine", "colanet_brian.model", "colanet_brian._version", "colanet_brian.logs",
               "colanet_brian.runio")
    wrong = {(m, t) for m in MODULES if m.startswith("colanet_brian.engine") for t in GRAPH[m]
             if not t.startswith(allowed)}
    assert not wrong, f"the engine imports a higher stage: {sorted(wrong)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("colanet_brian.cli")))
def test_cli_does_not_import_brian2_at_module_level(module):
    path = MODULES[module][0]
    for node in ast.parse(path.read_text()).body:
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        assert not any(n.split(".")[0] in ("brian2", "brian2cuda") for n in names), \
            f"{module}:{node.lineno} imports Brian2 at module level"
    # nor any module of the package that would (module-level imports followed through the package)
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for target, _, top in _imports(current):
            if top:
                todo.append(target)
                todo.extend(_parents(target))
    heavy = {"colanet_brian.model.network", "colanet_brian.engine.simulate", "colanet_brian.data.encoders"}
    assert not seen & heavy, f"{module} imports {sorted(seen & heavy)} at module level"

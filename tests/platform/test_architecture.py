"""The import contract: domains depend downwards only, nothing imports in a circle, and no import hides
inside a function. The layers are documented in docs/ARCHITECTURE.md ("Package map")."""

from __future__ import annotations

import ast
import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

# Lowest first. A module may import its own domain, any lower domain, and any domain's `models` module
# (the tables are one schema, tied by foreign keys). The composition root and the flows may import anything.
LAYERS = ["core", "audit", "events", "auth", "registry", "triage", "hotspots", "intake", "broadcast",
          "learning", "incidents", "stats", "operations", "privacy"]
TOP = {"factory", "main", "cli", "models", "demo", "flows", "simulation"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, name: str) -> str:
    """`from app.incidents import service` imports the module app.incidents.service."""
    candidate = f"{module}.{name}"
    relative = Path(*candidate.split(".")[1:])
    if (APP / relative).with_suffix(".py").exists() or (APP / relative / "__init__.py").exists():
        return candidate
    return module


def _parse(source: str) -> ast.Module:
    """ast.parse with the garbage collector paused. On CPython 3.11 a finalizer that raises while the AST is
    being built (an earlier test's unclosed aiosqlite connection, collected here) breaks the parser's recursion
    count: "SystemError: AST constructor recursion depth mismatch" (seen in CI)."""
    gc.disable()
    try:
        return ast.parse(source)
    finally:
        gc.enable()


def imports_of(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported app module, line, at module level) for every import of an app module in the file."""
    tree = _parse(path.read_text(encoding="utf-8"))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "app":
            for alias in node.names:
                yield _resolve(node.module, alias.name), node.lineno, id(node) in top_level
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "app":
                    yield alias.name, node.lineno, id(node) in top_level


def _domain(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layering_violation(importer: str, imported: str) -> str | None:
    source, target = _domain(importer), _domain(imported)
    if source in TOP or source == target or imported.endswith(".models") or target == "":
        return None
    if target in TOP:
        return f"{importer} imports {imported}: only the composition root may use {target}"
    if source not in LAYERS or target not in LAYERS:
        return f"{importer} imports {imported}: {source or target} has no place in the layers"
    if LAYERS.index(target) > LAYERS.index(source):
        return f"{importer} imports {imported}: {target} is above {source}"
    return None


def app_files() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in app_files():
        graph[_module_name(path)] = {module for module, _, _ in imports_of(path)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in visiting:
            return [*visiting[visiting.index(node):], node]
        if node in done:
            return None
        visiting.append(node)
        for neighbour in sorted(graph.get(node, ())):
            if neighbour in graph and (cycle := visit(neighbour)):
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        if cycle := visit(start):
            return cycle
    return None


def test_every_domain_package_has_a_layer() -> None:
    packages = {path.name for path in APP.iterdir() if (path / "__init__.py").exists()}
    assert packages - TOP == set(LAYERS)


def test_domains_import_only_downwards() -> None:
    problems = [problem for path in app_files() for module, _, _ in imports_of(path)
                if (problem := layering_violation(_module_name(path), module))]
    assert problems == []


def test_no_import_inside_a_function() -> None:
    hidden = [f"{path.relative_to(APP.parent)}:{line} imports {module}"
              for path in app_files() for module, line, top in imports_of(path) if not top]
    assert hidden == []


def test_no_module_imports_in_a_circle() -> None:
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize(("importer", "imported", "allowed"), [
    ("app.intake.service", "app.incidents.service", False),   # upwards
    ("app.core.deps", "app.auth.service", False),
    ("app.incidents.service", "app.broadcast.feedback", True),  # downwards
    ("app.broadcast.service", "app.incidents.models", True),    # the shared schema
    ("app.intake.writer", "app.flows.report_intake", False),    # flows belong to the composition root
    ("app.factory", "app.flows.report_intake", True),
])
def test_the_contract_itself_tells_up_from_down(importer: str, imported: str, allowed: bool) -> None:
    assert (layering_violation(importer, imported) is None) is allowed


def test_a_cycle_is_found() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None

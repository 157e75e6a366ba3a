"""The package's shape: no import circle among its modules, and no module too long to find things in.

Every import counts, wherever it is written (module level, ``TYPE_CHECKING``, inside a function):
a circle hidden behind a lazy import is still two modules that cannot be understood apart.
Importing ``a.b.c`` runs ``a.b``'s ``__init__`` first, so a module also depends on the packages
above it (the root package's ``__init__`` imports nothing).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "airflow_campaign_provider"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE
#: Modules past this many lines hold more than one job; the sandbox is a server of its own.
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imported_modules(name: str, path: Path) -> set[str]:
    """The package's modules that ``name`` imports, resolved to modules (not the names in them)."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    # a.b.c runs a.b's __init__ first (the root package's is import-free)
    parent = name.rpartition(".")[0]
    while parent and parent != PACKAGE:
        if parent != name:
            found.add(parent)
        parent = parent.rpartition(".")[0]
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def package_graph() -> dict[str, set[str]]:
    graph = {name: imported_modules(name, path) for name, path in MODULES.items()}
    # a package's __init__ may import its own modules; that edge is the import system's, not a circle
    for name in graph:
        graph[name] = {target for target in graph[name] if not name.startswith(f"{target}.")}
    return graph


def test_no_import_circle_among_the_package_modules():
    assert circles(package_graph()) == []


def test_the_circle_finder_finds_a_circle_hidden_behind_type_checking():
    graph = package_graph()
    graph[f"{PACKAGE}.exceptions"] = {*graph[f"{PACKAGE}.exceptions"], f"{PACKAGE}.api.requests"}
    assert any(f"{PACKAGE}.exceptions" in circle for circle in circles(graph))


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.split(".")[1:2] != ["sandbox"]))
def test_no_module_outside_the_sandbox_is_over_500_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, (
        f"{MODULES[name].relative_to(ROOT.parent)} has {lines} lines; give its jobs homes of their own"
    )

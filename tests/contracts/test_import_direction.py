"""The import graph points one way: transport → domain → storage, no cycles, no service into another.

Each package's `__init__` docstring says what it may import; this test holds the code to those words, so
a newcomer can trust the folders. It reads the source (ast), so it sees imports under TYPE_CHECKING too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
OURS = ("catalog", "ingestion", "gateway", "gamekit", "gamesclient", "gamectl")
SERVICE_NAMES = ("catalog", "ingestion", "gateway")
STORAGE_IO = ("sqlalchemy", "psycopg", "boto3", "botocore", "redis")

# package → what it must never import (a module name or any module under it).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "gamekit": (*SERVICE_NAMES, "gamesclient", "gamectl"),
    "gamekit.errors": ("gamekit.",),
    "gamekit.call_context": ("gamekit.",),
    "gamekit.paging": ("gamekit.serving", "gamekit.clients", "gamekit.database", "gamekit.observability"),
    "gamekit.security": ("gamekit.serving", "gamekit.clients", "gamekit.database", "gamekit.paging"),
    "gamekit.observability": ("gamekit.serving", "gamekit.clients", "gamekit.database"),
    "gamekit.database": ("gamekit.serving", "gamekit.clients"),
    "gamekit.clients": ("gamekit.serving", "gamekit.database"),
    "gamekit.status": ("gamekit.serving",),
    "catalog.transport": ("catalog.storage", *STORAGE_IO),
    "catalog.domain": ("catalog.transport", "grpc", "games", *STORAGE_IO),
    "catalog.domain.model": ("catalog.domain.service", "catalog.domain.validation", "catalog.storage"),
    "catalog.storage": ("catalog.transport", "catalog.domain.service", "grpc", "games"),
    "ingestion.parsing": (
        "ingestion.transport",
        "ingestion.runs",
        "ingestion.importing",
        "ingestion.ledger",
        "ingestion.sources",
        "ingestion.metrics",
        "gamekit",
        "grpc",
        "games",
        *STORAGE_IO,
    ),
    "ingestion.sources": (
        "ingestion.transport",
        "ingestion.runs",
        "ingestion.importing",
        "ingestion.ledger",
        "grpc",
        "sqlalchemy",
    ),
    "ingestion.ledger": ("ingestion.transport", "ingestion.runs", "ingestion.importing", "grpc", "boto3"),
    "ingestion.importing": ("ingestion.transport", "ingestion.runs"),
    "ingestion.runs": ("ingestion.transport",),
    "ingestion.model": ("ingestion.", "grpc", "games", *STORAGE_IO),
    "gateway.surface": ("gateway.", "grpc"),
    "gateway.ratelimit": (
        "gateway.callers",
        "gateway.cache",
        "gateway.transport",
        "gateway.surface",
        "gateway.app",
    ),
    "gateway.cache": (
        "gateway.callers",
        "gateway.ratelimit",
        "gateway.transport",
        "gateway.surface",
        "gateway.app",
    ),
    "gateway.callers": ("gateway.cache", "gateway.transport"),
    "gateway.transport": (),
}
for service in SERVICE_NAMES:
    FORBIDDEN[service] = (*(other for other in SERVICE_NAMES if other != service), "gamectl")
# Only a service's composition root (app.py) and entry point (__main__) put its packages together.
for package in [name for name in FORBIDDEN if name.count(".") == 1]:
    FORBIDDEN[package] += (f"{package.split('.')[0]}.app", f"{package.split('.')[0]}.__main__")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SERVICES).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in OURS:
        for path in (SERVICES / top).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of `module`, resolved to a module where one exists."""
    tree = ast.parse(_modules()[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                yield node.lineno, submodule if submodule in _modules() else node.module


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix if prefix.endswith(".") else prefix + ".")


def _rules_for(module: str) -> list[tuple[str, str]]:
    return [
        (package, banned)
        for package, bans in FORBIDDEN.items()
        if _within(module, package)
        for banned in bans
    ]


def test_every_rule_names_a_package_that_exists() -> None:
    for package in FORBIDDEN:
        assert package in _modules(), f"{package} is not a module of services/"


@pytest.mark.parametrize("top", OURS)
def test_no_module_imports_what_its_layer_forbids(top: str) -> None:
    broken = [
        f"{module}:{line} imports {imported} ({package} may not import {banned})"
        for module in sorted(_modules())
        if _within(module, top)
        for line, imported in _imports(module)
        for package, banned in _rules_for(module)
        if _within(imported, banned) and not _within(imported, module)
    ]
    assert not broken, "\n".join(broken)


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        module: {name for _, name in _imports(module) if name in modules and name != module}
        for module in modules
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the modules around it, or None (iterative DFS: white, grey, black)."""
    state: dict[str, int] = {}
    for root in sorted(graph):
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def test_the_import_graph_has_no_cycle() -> None:
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_the_layer_check_sees_a_storage_module_importing_transport(tmp_path: Path) -> None:
    rules = _rules_for("catalog.storage.games")
    assert ("catalog.storage", "catalog.transport") in rules
    assert any(_within("catalog.transport.servicer", banned) for _, banned in rules)

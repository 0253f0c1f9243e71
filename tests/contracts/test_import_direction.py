"""The import graph points one way: each package imports only what its `__init__` says it may.

Every package of the services and of gamekit states, in its docstring, what it may import; `ALLOWED`
below is those lines, and this test fails on a first-party import outside them, on a relative import,
on an import cycle, and on the third-party libraries a layer must not touch. It reads the source (ast),
so it sees imports under TYPE_CHECKING too. A new package must add its line here and in its docstring.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2] / "services"
RULED = ("catalog", "ingestion", "gateway", "gamekit")
FIRST_PARTY = (*RULED, "gamesclient", "gamectl", "games")
ANYTHING = ("*",)  # a composition root (`app`) or entry point (`__main__`): it puts the parts together

# package or module → the first-party packages it may import besides itself.
ALLOWED: dict[str, tuple[str, ...]] = {
    "catalog": (),
    "catalog.model": (),
    "catalog.settings": ("gamekit.settings",),
    "catalog.storage": ("catalog.model", "gamekit.database", "gamekit.errors", "gamekit.paging"),
    "catalog.domain": ("catalog.model", "catalog.storage", "gamekit.errors", "gamekit.paging"),
    "catalog.transport": (
        "catalog.domain",
        "catalog.model",
        "gamekit.call_context",
        "gamekit.errors",
        "gamekit.paging",
        "gamekit.resource_names",
        "gamekit.timestamps",
        "games",
    ),
    "catalog.app": ANYTHING,
    "catalog.__main__": ANYTHING,
    "ingestion": (),
    "ingestion.model": (),
    "ingestion.settings": ("gamekit.settings",),
    "ingestion.metrics": ("ingestion.model",),
    "ingestion.parsing": ("ingestion.model",),
    "ingestion.sources": ("ingestion.model", "ingestion.metrics", "gamekit.errors"),
    "ingestion.ledger": (
        "ingestion.model",
        "ingestion.metrics",
        "gamekit.database",
        "gamekit.errors",
        "gamekit.paging",
    ),
    "ingestion.importing": (
        "ingestion.parsing",
        "ingestion.sources",
        "ingestion.model",
        "ingestion.metrics",
        "gamekit.errors",
        "gamekit.status",
        "gamekit.timestamps",
        "games.catalog",
    ),
    "ingestion.runs": (
        "ingestion.importing",
        "ingestion.ledger",
        "ingestion.sources",
        "ingestion.model",
        "ingestion.metrics",
        "gamekit.call_context",
        "gamekit.errors",
    ),
    "ingestion.transport": (
        "ingestion.runs",
        "ingestion.ledger",
        "ingestion.model",
        "gamekit.call_context",
        "gamekit.errors",
        "gamekit.resource_names",
        "gamekit.timestamps",
        "games.ingestion",
    ),
    "ingestion.app": ANYTHING,
    "ingestion.__main__": ANYTHING,
    "gateway": (),
    "gateway.surface": ("games",),
    "gateway.settings": ("gateway.surface", "gamekit.settings", "gamekit.security"),
    "gateway.ratelimit": ("gamekit.errors",),
    "gateway.cache": ("gamekit.security", "gamekit.status", "games.catalog"),
    "gateway.callers": ("gateway.surface", "gamekit.call_context", "gamekit.errors", "gamekit.serving"),
    "gateway.transport": (
        "gateway.surface",
        "gateway.settings",
        "gateway.cache",
        "gamekit.call_context",
        "gamekit.clients",
        "gamekit.errors",
        "gamekit.serving",
        "gamekit.status",
        "games",
    ),
    "gateway.app": ANYTHING,
    "gateway.__main__": ANYTHING,
    "gamekit": (),
    "gamekit.errors": (),
    "gamekit.call_context": (),
    "gamekit.settings": (),
    "gamekit.timestamps": (),
    "gamekit.resource_names": ("gamekit.errors",),
    "gamekit.status": ("gamekit.errors", "gamekit.call_context"),
    "gamekit.paging": ("gamekit.errors",),
    "gamekit.security": ("gamekit.errors",),
    "gamekit.observability": ("gamekit.call_context", "gamekit.settings"),
    "gamekit.database": ("gamekit.call_context", "gamekit.errors"),
    "gamekit.clients": ("gamekit.call_context", "gamekit.errors", "gamekit.paging", "gamekit.security"),
    "gamekit.serving": (
        "gamekit.call_context",
        "gamekit.errors",
        "gamekit.status",
        "gamekit.settings",
        "gamekit.security",
        "gamekit.observability",
    ),
}

STORAGE_IO = ("sqlalchemy", "psycopg", "boto3", "botocore", "redis")
# package → third-party libraries it must never import, whatever ALLOWED says.
FORBIDDEN_LIBRARIES: dict[str, tuple[str, ...]] = {
    "catalog.model": ("grpc", "google", *STORAGE_IO),
    "catalog.domain": ("grpc", "google", *STORAGE_IO),
    "catalog.transport": STORAGE_IO,
    "catalog.storage": ("grpc",),
    "ingestion.model": ("grpc", "google", *STORAGE_IO),
    "ingestion.parsing": ("grpc", "google", "opentelemetry", "prometheus_client", *STORAGE_IO),
    "ingestion.sources": ("grpc", "sqlalchemy", "psycopg"),
    "ingestion.ledger": ("grpc", "boto3", "botocore"),
    "gateway.ratelimit": ("grpc",),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SERVICES).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _modules() -> dict[str, Path]:
    found = {}
    for top in FIRST_PARTY:
        if top == "games":
            continue
        for path in (SERVICES / top).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imports(module: str) -> Iterator[tuple[int, str]]:
    """(line, imported module) for every import of `module`; a relative one as '.' (always refused)."""
    tree = ast.parse(_modules()[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level > 0:
                yield node.lineno, "."
            elif node.module is not None:
                for alias in node.names:
                    submodule = f"{node.module}.{alias.name}"
                    yield node.lineno, submodule if submodule in _modules() else node.module


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _unit(module: str) -> str | None:
    """The most specific ALLOWED entry `module` belongs to."""
    owners = [package for package in ALLOWED if _within(module, package)]
    return max(owners, key=len) if owners else None


def _violations(module: str, imported: str) -> list[str]:
    if imported == ".":
        return ["a relative import (write the absolute name)"]
    unit = _unit(module)
    top = imported.split(".")[0]
    problems = []
    if top in FIRST_PARTY and unit is not None and not _within(imported, unit):
        allowed = ALLOWED[unit]
        if allowed != ANYTHING and not any(_within(imported, ok) for ok in allowed):
            problems.append(f"{unit} may import only {', '.join(allowed) or 'nothing of ours'}")
    for package, banned in FORBIDDEN_LIBRARIES.items():
        if _within(module, package) and top in banned:
            problems.append(f"{package} must not import {top}")
    return problems


@pytest.mark.parametrize("top", RULED)
def test_every_module_has_a_rule(top: str) -> None:
    unruled = [module for module in _modules() if _within(module, top) and _unit(module) is None]
    assert not unruled, f"say what these may import (ALLOWED and their package docstring): {unruled}"


@pytest.mark.parametrize("top", FIRST_PARTY[:-1])
def test_no_module_imports_outside_what_its_package_allows(top: str) -> None:
    broken = [
        f"{module}:{line} imports {imported}: {problem}"
        for module in sorted(_modules())
        if _within(module, top)
        for line, imported in _imports(module)
        for problem in _violations(module, imported)
    ]
    assert not broken, "\n".join(broken)


def test_services_and_gamekit_never_import_the_cli_or_the_client() -> None:
    broken = [
        f"{module} imports {imported}"
        for module in _modules()
        if module.split(".")[0] in RULED
        for _, imported in _imports(module)
        if imported.split(".")[0] in ("gamectl", "gamesclient")
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


def test_the_rules_refuse_what_they_should() -> None:
    assert _violations("catalog.storage.games", "catalog.transport.servicer")
    assert _violations("catalog.storage.games", "catalog.domain.service")
    assert _violations("catalog.domain.service", "sqlalchemy")
    assert _violations("ingestion.parsing.records", "ingestion.ledger.store")
    assert _violations("gateway.ratelimit.limiter", "gateway.settings")
    assert _violations("gamekit.paging.pages", "gamekit.serving.host")
    assert _violations("catalog.storage.games", ".")
    assert not _violations("catalog.app", "catalog.transport.servicer")
    assert not _violations("catalog.domain.service", "catalog.storage.games")

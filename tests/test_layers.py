"""The layer rule of docs/DESIGN.md, read from the source: imports point down only."""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "openncii"

_SERVER = {
    "api",
    "cases",
    "partners",
    "helplines",
    "organisation",
    "feed",
    "staff",
    "stats",
    "review",
    "audit",
    "db",
}
_WEB_LIBRARIES = {"fastapi", "starlette", "uvicorn"}
_DATABASE_LIBRARIES = {"sqlalchemy", "alembic"}

#: Package (or top-level module) -> what it must not import: our packages, or libraries.
FORBIDDEN: dict[str, set[str]] = {
    # The core library: no web, no database.
    "signals": _SERVER
    | {"partner", "serving", "cli", "web", "media", "index"}
    | _WEB_LIBRARIES
    | _DATABASE_LIBRARIES,
    "index": _SERVER
    | {"partner", "serving", "cli", "web", "media"}
    | _WEB_LIBRARIES
    | _DATABASE_LIBRARIES,
    "media": _SERVER
    | {"partner", "serving", "cli", "web", "index"}
    | _WEB_LIBRARIES
    | _DATABASE_LIBRARIES,
    # What both HTTP services share: nothing of ours but errors.py.
    "serving": _SERVER
    | {"partner", "cli", "web", "signals", "index", "media", "settings"}
    | _DATABASE_LIBRARIES,
    "db": {
        "api",
        "cases",
        "partners",
        "helplines",
        "organisation",
        "feed",
        "staff",
        "review",
        "audit",
        "partner",
        "serving",
        "cli",
        "web",
    }
    | _WEB_LIBRARIES,
    # Domain services: no HTTP.
    "cases": {"api", "feed", "review", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "partners": {"api", "cases", "feed", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "helplines": {"api", "cases", "partners", "feed", "partner", "serving", "cli", "web"}
    | _WEB_LIBRARIES,
    "organisation": {
        "api",
        "cases",
        "partners",
        "helplines",
        "feed",
        "staff",
        "partner",
        "serving",
        "cli",
        "web",
    }
    | _WEB_LIBRARIES,
    "feed": {"api", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "staff": {"api", "feed", "partners", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "stats": {
        "api",
        "cases",
        "partners",
        "feed",
        "staff",
        "review",
        "partner",
        "serving",
        "cli",
        "web",
    }
    | _WEB_LIBRARIES,
    # Alembic migrations: data migrations may run a domain service's own SQL (the rollups'
    # triggers, the review's flags), as it was when they were written; nothing above that.
    "migrations": {"api", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    # The review queue reads the figures the rollups keep (stats), never the other way round.
    "review": {"api", "partners", "feed", "staff", "partner", "serving", "cli", "web"}
    | _WEB_LIBRARIES,
    # The audit log: below every domain service that writes to it.
    "audit": {
        "api",
        "cases",
        "partners",
        "feed",
        "staff",
        "stats",
        "review",
        "partner",
        "serving",
        "cli",
        "web",
    }
    | _WEB_LIBRARIES,
    # The partner side runs at a platform: no server code.
    "partner": _SERVER | {"cli", "web"} | _DATABASE_LIBRARIES,
    "api": {"partner", "cli"},
    # Adapters for other tools (optional extras): the partner side's rules, and no CLI.
    "integrations": _SERVER | {"serving", "cli", "web"} | _DATABASE_LIBRARIES,
}


@cache
def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE).parts
        owner = parts[0] if len(parts) > 1 else path.stem
        if parts[:2] == ("db", "migrations"):
            owner = "migrations"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                top, _, rest = name.partition(".")
                found[owner].add(rest.split(".")[0] if top == "openncii" and rest else top)
    return found


@pytest.mark.parametrize("owner", sorted(FORBIDDEN))
def test_imports_point_down_only(owner: str) -> None:
    imported = _imports()[owner]
    assert imported, f"no module of {owner} found"
    assert imported & FORBIDDEN[owner] == set()


def test_nothing_imports_the_integrations() -> None:
    """They need optional extras (python-threatexchange): no other package may import them."""
    importers = {owner for owner, names in _imports().items() if "integrations" in names}
    assert importers <= {"integrations"}


def _module_graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (at the top or inside a function alike).

    ``from package import name`` points at ``package.name`` when that is a module; a module's
    own enclosing packages are left out (Python runs them first whatever the module imports).
    """
    modules: dict[str, Path] = {}
    for path in SOURCE.rglob("*.py"):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    targets.add(candidate if candidate in modules else base)
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        graph[name] = {t for t in targets if t in modules and t != name and t not in ancestors}
    return graph


def test_the_import_graph_has_no_circle() -> None:
    """No module reaches itself through imports, deferred ones included."""
    graph = _module_graph()
    assert "openncii.signals.registry" in graph and "openncii.cli._app" in graph
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert circles == []

"""The layer rule of docs/DESIGN.md, read from the source: imports point down only."""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[1] / "src" / "openncii"

_SERVER = {"api", "cases", "partners", "feed", "db"}
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
    "db": {"api", "cases", "partners", "feed", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    # Domain services: no HTTP.
    "cases": {"api", "feed", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "partners": {"api", "cases", "feed", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
    "feed": {"api", "partner", "serving", "cli", "web"} | _WEB_LIBRARIES,
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

"""The shape of the command line: no import circle, one exit-status table, one error mapping."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import openncii
from openncii import errors
from openncii.cli import app
from openncii.cli.common import (
    EXIT_MEANINGS,
    ExitCode,
    exit_code_for,
    exit_statuses_help,
    exit_statuses_markdown,
)

PACKAGE_DIR = Path(openncii.__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, deferred: bool) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of a module: all of them, or (``deferred=False``) those that run
    when it is imported (not in functions, not under ``if TYPE_CHECKING``)."""
    if deferred:
        return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    found: list[ast.Import | ast.ImportFrom] = []
    pending = list(ast.iter_child_nodes(tree))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            pending.extend(node.orelse)
        else:
            pending.extend(ast.iter_child_nodes(node))
    return found


def import_graph(*, deferred: bool = True) -> dict[str, set[str]]:
    """Module -> the openncii modules it imports: anywhere in it (imports inside functions and
    for type checking too), or with ``deferred=False`` only when it is imported.

    ``from package import name`` points at ``package.name`` when that is a module, else at the
    package; the implicit import of a module's parent packages is not an edge.
    """
    modules = {_module_name(p): p for p in PACKAGE_DIR.rglob("*.py")}
    compiled = {_module_name(p) for p in PACKAGE_DIR.rglob("*.pyi")} - set(modules)
    graph: dict[str, set[str]] = {name: set() for name in [*modules, *compiled]}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in _imports(ast.parse(path.read_text("utf-8")), deferred):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    child = f"{base}.{alias.name}"
                    targets.append(child if child in graph else base)
            graph[name].update(t for t in targets if t in graph and t != name)
    return graph


def find_cycle(graph: dict[str, set[str]], nodes: set[str]) -> list[str] | None:
    """A circle through ``nodes`` only, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node] & nodes):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)) is not None:
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(nodes):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph, set(graph)) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}, {"a", "b"}) is None


def test_the_command_line_has_no_import_circle() -> None:
    graph = import_graph()
    cli = {name for name in graph if name == "openncii.cli" or name.startswith("openncii.cli.")}
    assert {"openncii.cli._app", "openncii.cli.common", "openncii.cli.scan"} <= cli
    # No circle among the command line's modules, counting every import (deferred ones too),
    # and nothing below the command line imports it: no circle passes through it.
    assert find_cycle(graph, cli) is None
    assert not [name for name in set(graph) - cli if graph[name] & cli]
    # Only the assembly imports the command modules; they import none of each other.
    commands = cli - {"openncii.cli", "openncii.cli._app", "openncii.cli.common"}
    for name in sorted(commands):
        assert not graph[name] & (cli - {"openncii.cli.common"}), name
    assert graph["openncii.cli._app"] >= commands


def test_importing_any_module_runs_no_circle() -> None:
    graph = import_graph(deferred=False)
    assert "openncii.hashing" not in graph["openncii"]  # imported on first use (PEP 562)
    assert "openncii.signals.pdq" not in graph["openncii.settings"]  # inside a default factory
    assert find_cycle(graph, set(graph)) is None


def _collapsed(text: str) -> str:
    return " ".join(text.split())


def test_every_exit_status_has_a_meaning_in_help_and_docs() -> None:
    assert set(EXIT_MEANINGS) == set(ExitCode)
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 5, 6, 130]
    docs = (REPO_ROOT / "docs" / "partners.md").read_text("utf-8")
    assert exit_statuses_markdown() in docs, "regenerate the list from openncii.cli.common"
    for args in ([], ["partner"]):
        shown = CliRunner().invoke(app, [*args, "--help"], terminal_width=200)
        assert shown.exit_code == 0
        assert _collapsed(exit_statuses_help().replace("\b", "")) in _collapsed(shown.output)


def test_errors_map_to_exit_statuses_by_their_most_specific_class() -> None:
    assert exit_code_for(errors.FeedAuthError("no")) is ExitCode.AUTH
    assert exit_code_for(errors.FeedUnavailableError("down")) is ExitCode.UNAVAILABLE
    assert exit_code_for(errors.FeedProtocolError("junk")) is ExitCode.PROTOCOL
    assert exit_code_for(errors.FeedRejectedError("no", status=400)) is ExitCode.PROTOCOL
    assert exit_code_for(errors.PartnerStoreError("bad")) is ExitCode.STORE
    assert exit_code_for(errors.ConfigurationError("url")) is ExitCode.USAGE
    assert exit_code_for(errors.PartnerExistsError("dup")) is ExitCode.FAILED
    assert exit_code_for(errors.MediaError("bad")) is None
    assert exit_code_for(ValueError("bug")) is None


def _leaves(family: type[Exception]) -> list[type[Exception]]:
    below = family.__subclasses__()
    return [leaf for kind in below for leaf in _leaves(kind)] if below else [family]


@pytest.mark.parametrize("kind", _leaves(errors.PartnerClientError), ids=lambda k: k.__name__)
def test_every_partner_side_error_has_an_exit_status(kind: type[Exception]) -> None:
    error = kind.__new__(kind)
    code = exit_code_for(error)
    assert code is not None and code not in (ExitCode.OK, ExitCode.FAILED), kind


def test_no_command_module_writes_its_own_exit_status() -> None:
    """Exit statuses are named from the table, never written as bare numbers."""
    pattern = re.compile(r"Exit\((?!ExitCode\.|int\(code\)\)|\))")
    for path in sorted((PACKAGE_DIR / "cli").glob("*.py")):
        assert not pattern.search(path.read_text("utf-8")), path.name


def _command_paths() -> list[tuple[str, ...]]:
    import typer.main

    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "openncii")
def test_every_help_text_is_whole_at_80_columns(path: tuple[str, ...]) -> None:
    """A terminal of 80 columns shows every option name and variable in full (no "…")."""
    import typer.main

    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "…" not in text
    too_wide = [line for line in text.splitlines() if len(line) > 80]
    assert not too_wide, too_wide
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    for param in command.params:
        for option in getattr(param, "opts", []):
            if option.startswith("-"):
                assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text), option
    for variable in re.findall(r"OPENNCII_[A-Z0-9_]*", text):
        assert not variable.endswith("_"), f"a variable cut at the line end: {variable}"

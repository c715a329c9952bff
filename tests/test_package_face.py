"""``import openncii`` and ``openncii --help`` stay light: no numpy, Pillow or SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import openncii

#: What no help text needs (media decoding, the database, the web stack).
HEAVY = {"numpy", "PIL", "av", "sqlalchemy", "alembic", "fastapi", "starlette", "uvicorn"}
#: What ``import openncii`` and ``openncii --help`` do without as well (typer's own coercion
#: of some option types loads pydantic for a command's help).
LIGHT_ONLY = HEAVY | {"pydantic", "httpx", "rich", "platformdirs"}


def loaded_modules(code: str, tmp_path: Path) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    out = tmp_path / "modules.json"
    wrapper = (
        "import atexit, json, sys\n"
        f"atexit.register(lambda: open({str(out)!r}, 'w').write(json.dumps(sorted(sys.modules))))\n"
        f"{code}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", wrapper], capture_output=True, text=True, timeout=120, check=False
    )
    assert out.exists(), done.stderr
    return {name.partition(".")[0] for name in json.loads(out.read_text("utf-8"))}


def test_import_openncii_loads_no_heavy_dependency(tmp_path: Path) -> None:
    loaded = loaded_modules(
        "import openncii; openncii.OpenNCIIError, openncii.__version__", tmp_path
    )
    assert "openncii" in loaded
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
    # The hashing code comes on first use of one of its names.
    assert {"numpy", "PIL"} <= loaded_modules("import openncii; openncii.hash_file", tmp_path)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["hash", "--help"],
        ["serve", "--help"],
        ["case", "--help"],
        ["partners", "--help"],
        ["helplines", "--help"],
        ["staff", "--help"],
        ["partner", "--help"],
        ["partner", "scan", "--help"],
        ["partner", "export-bank", "--help"],
        ["partner", "import-matches", "--help"],
        ["matcher", "serve", "--help"],
    ],
    ids=" ".join,
)
def test_help_imports_neither_numpy_nor_sqlalchemy(args: list[str], tmp_path: Path) -> None:
    code = (
        f"sys.argv = ['openncii', *{args!r}]\n"
        "from openncii.cli import main\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None), exc.code\n"
    )
    loaded = loaded_modules(code, tmp_path)
    assert {"openncii", "typer"} <= loaded
    avoided = LIGHT_ONLY if len(args) == 1 else HEAVY
    assert not loaded & avoided, loaded & avoided


def test_lazy_names_are_the_hashing_modules() -> None:
    from openncii import hashing

    assert openncii.hash_file is hashing.hash_file
    assert openncii.hash_bytes is hashing.hash_bytes
    assert openncii.FileHashes is hashing.FileHashes
    assert openncii.VideoFrameHash is hashing.VideoFrameHash
    assert {"hash_file", "hash_bytes", "FileHashes", "VideoFrameHash"} <= set(dir(openncii))
    assert set(openncii.__all__) <= set(dir(openncii))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = openncii.nothing_here  # type: ignore[attr-defined]

"""Setting up and serving as the README says: `make run`, the serve command's port and host,
a busy port, and the commands the README shows."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import httpx

from openncii.testing import (
    ServerProcess,
    run_openncii,
    skip_or_fail,
    start_on_a_free_port,
    start_openncii,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def _make_dry_run(target: str, venv: Path) -> list[str]:
    make = shutil.which("make")
    if make is None:
        skip_or_fail("make is missing")
    done = subprocess.run(
        [make, "-n", "-B", "--no-print-directory", target, f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.splitlines()


def test_make_run_installs_only_what_serving_needs_and_lets_the_settings_choose_the_port(
    tmp_path: Path,
) -> None:
    lines = _make_dry_run("run", tmp_path / "venv")
    installs = [line for line in lines if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [f"{tmp_path / 'venv'}/bin/python -m pip install --quiet -e ."]
    assert lines[-1] == f"{tmp_path / 'venv'}/bin/openncii serve"  # no --host, no --port
    dev = _make_dry_run("pytest", tmp_path / "venv")
    assert any("pip install --quiet -e '.[dev" in line for line in dev)


def test_serve_listens_where_the_settings_say(tmp_path: Path) -> None:
    ports: list[int] = []

    def start(port: int) -> ServerProcess:
        ports.append(port)
        env = {
            "OPENNCII_PORT": str(port),
            "OPENNCII_HOST": "127.0.0.1",
            "OPENNCII_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        }
        return start_openncii("serve", port=port, env=env, log_dir=tmp_path)

    with start_on_a_free_port(start) as server:
        port = ports[-1]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
        assert server.base_url.endswith(f":{port}")


def test_a_busy_port_is_named_with_how_to_choose_another(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {"OPENNCII_PORT": str(port), "OPENNCII_DATABASE_URL": f"sqlite:///{tmp_path}/d.db"}
        done = run_openncii("serve", env=env)
        matcher = run_openncii(
            "matcher", "serve", "--port", str(port), "--create-store",
            "--store", str(tmp_path / "store.sqlite3"),
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        f"openncii serve: port {port} on 127.0.0.1 is already in use (another server is "
        f"running there); choose another: --port {port + 1}, or OPENNCII_PORT={port + 1} "
        f"(`OPENNCII_PORT={port + 1} make run`).\n"
    )
    assert not (tmp_path / "d.db").exists()  # refused before anything was done
    assert matcher.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in matcher.stderr
    assert "Errno" not in done.stderr + matcher.stderr


def test_the_readme_runs_commands_from_the_virtual_environment() -> None:
    """`make run` does not put `openncii` on the PATH: the README's commands say where it is."""
    readme = (REPO_ROOT / "README.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.DOTALL)
    commands = [line.strip() for block in blocks for line in block.splitlines() if line.strip()]
    assert sum(line.startswith(".venv/bin/openncii ") for line in commands) >= 8
    bare = [line for line in commands if re.match(r"(\S+=\S+ )*openncii ", line)]
    assert not bare, bare
    assert "source .venv/bin/activate" in readme

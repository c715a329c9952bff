"""Run ``openncii serve`` as a real subprocess on a free loopback port (for tests and benches)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

#: Environment for a test server: cheap argon2 and no rate limits in the way.
FAST_SERVER_ENV = {
    "OPENNCII_ARGON2_TIME_COST": "1",
    "OPENNCII_ARGON2_MEMORY_KIB": "64",
    "OPENNCII_RATE_LIMIT_CREATE": "100000",
    "OPENNCII_RATE_LIMIT_STATUS": "100000",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs."""
        self.process.kill()
        self.process.wait(timeout=15)


def start_server(
    database_url: str,
    env: Mapping[str, str] | None = None,
    *,
    timeout: float = 60.0,
    log_dir: Path | None = None,
) -> ServerProcess:
    """Start ``openncii serve`` on a free loopback port; return once ``/healthz`` answers 200."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNCII_")}
    full_env = {**clean, **FAST_SERVER_ENV, **(env or {})}
    directory = log_dir or Path(tempfile.mkdtemp(prefix="openncii-serve-"))
    log_path = directory / f"serve-{port}.log"
    log_file = log_path.open("wb")
    command = [
        sys.executable,
        "-c",
        "from openncii.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        database_url,
    ]
    process = subprocess.Popen(command, env=full_env, stdout=log_file, stderr=subprocess.STDOUT)
    log_file.close()
    server = ServerProcess(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"openncii serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"openncii serve did not become ready:\n{server.log()}")


def run_openncii(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the ``openncii`` command line in a fresh process (no ``OPENNCII_*`` variables of
    ours leak in; ``env`` adds some) with no standard input; capture its text output."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENNCII_")}
    return subprocess.run(
        [sys.executable, "-c", "from openncii.cli import main; main()", *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )

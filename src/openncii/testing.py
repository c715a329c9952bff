"""Helpers for the test suite and the benchmarks (OpenNCII itself never imports this module).

- :func:`start_server` runs ``openncii serve`` in a subprocess on a free loopback port and
  returns once ``GET /healthz`` answers 200; :func:`start_openncii` does the same for any
  ``openncii`` server command (``matcher serve``) on a given port, and
  :func:`start_on_a_free_port` chooses it (again, if another process took it meanwhile);
  :func:`run_openncii` runs a command to its end.
- :class:`FakeClock`: a settable UTC clock for the code that takes a ``clock``;
  :func:`serve_in_thread` serves an app built in this process (its clock replaced, say) on a
  free loopback port, for a browser or a real client to talk to; :func:`serve_on_a_clock`
  builds and serves the case service on a clock of the caller's, for what depends on the
  server's time (rate-limit and PIN-try windows, authenticator codes).
- :data:`CHROMIUM` and :data:`CHROMIUM_ARGS`: the browser of the browser tests and benchmarks.
- :func:`skip_or_fail`: a missing prerequisite skips a test, except in CI (``CI=true``), where
  it fails it.
- :func:`create_schema` / :func:`drop_schema`: a PostgreSQL schema of one's own in a shared
  database, and the URL whose connections use it.

Servers started here get a clean environment: no ``OPENNCII_*`` variable of the caller leaks in.
pytest is imported only by :func:`skip_or_fail`, SQLAlchemy only by the schema helpers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn

import httpx

from openncii.settings import ENV_PREFIX, Settings

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "FAST_ARGON2",
    "FAST_SERVER_ENV",
    "NO_RATE_LIMITS_ENV",
    "FakeClock",
    "ServerProcess",
    "ServerStartError",
    "clean_environment",
    "create_schema",
    "drop_schema",
    "ensure_database",
    "free_port",
    "in_ci",
    "openncii_command",
    "run_openncii",
    "serve_in_thread",
    "serve_on_a_clock",
    "skip_or_fail",
    "start_on_a_free_port",
    "start_openncii",
    "start_server",
    "with_search_path",
]

#: Cheap argon2 for tests that are not about argon2 (the production defaults are tested apart).
FAST_ARGON2: Final[Mapping[str, int]] = {"argon2_time_cost": 1, "argon2_memory_kib": 64}
#: Per-client rate limits high enough never to get in the way of a test or a benchmark.
NO_RATE_LIMITS_ENV: Final[Mapping[str, str]] = {
    Settings.env_name("rate_limit_create"): "10000000",
    Settings.env_name("rate_limit_status"): "10000000",
}
#: The environment of a test server: cheap argon2 and no rate limits in the way.
FAST_SERVER_ENV: Final[Mapping[str, str]] = {
    **{Settings.env_name(name): str(value) for name, value in FAST_ARGON2.items()},
    **NO_RATE_LIMITS_ENV,
}
#: Debian's Chromium, and how the browser tests and benchmarks launch it (headless, quiet).
CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final[tuple[str, ...]] = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: How ``openncii`` is started: the interpreter running this code, whatever its PATH.
_MAIN: Final = "from openncii.cli import main; main()"
_HEALTHZ: Final = "/healthz"


def in_ci() -> bool:
    """Whether we run in CI (``CI=true``), where missing prerequisites fail instead of skip."""
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the calling test with ``reason`` outside CI; fail it in CI."""
    import pytest

    if in_ci():
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class FakeClock:
    """A settable UTC clock: ``clock()`` is the time, ``clock.advance(seconds=...)`` moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@contextmanager
def serve_in_thread(app: Any, timeout: float = 30) -> Iterator[str]:
    """Serve the ASGI ``app`` with uvicorn in a thread of this process on a free loopback
    port; yields its base URL (``http://127.0.0.1:PORT``) and stops it after."""
    import threading

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="serve-in-thread", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServerStartError("the in-process server did not start")
        time.sleep(0.02)
    try:
        (sock,) = [s for listener in server.servers for s in listener.sockets]
        host, port = sock.getsockname()[:2]
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)


@contextmanager
def serve_on_a_clock(
    database_url: str, clock: Callable[[], datetime], **settings: Any
) -> Iterator[str]:
    """Migrate ``database_url`` and serve the case service on it in a thread of this process
    (:func:`serve_in_thread`), its clock ``clock`` (a :class:`FakeClock`, say): what counts in
    windows of time (rate limits, PIN tries) or checks authenticator codes then depends on
    the caller's clock, not on where the real one falls. Cheap argon2; ``settings`` on top.
    Yields the base URL."""
    from openncii.api import create_app
    from openncii.db import make_engine, migrate

    engine = make_engine(database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    values: dict[str, Any] = {"sqlite_synchronous": "NORMAL", **FAST_ARGON2, **settings}
    app = create_app(Settings(database_url=database_url, **values))
    app.state.runtime.clock = clock
    with serve_in_thread(app) as base_url:
        yield base_url


def clean_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without its ``OPENNCII_*`` variables, with ``env`` on top."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return {**clean, **(env or {})}


def openncii_command(*args: str) -> list[str]:
    """The command line that runs ``openncii ARGS`` with this interpreter."""
    return [sys.executable, "-c", _MAIN, *args]


def run_openncii(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run ``openncii ARGS`` to its end in a fresh process (clean environment plus ``env``,
    no standard input) and capture its text output."""
    return subprocess.run(  # noqa: S603 - our own command line, no shell
        openncii_command(*args),
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


class ServerStartError(RuntimeError):
    """The server exited, or did not answer its health check in time; the message holds its
    log."""


@dataclass
class ServerProcess:
    """An ``openncii`` server running in a subprocess; its output goes to ``log_path``.

    A context manager: leaving the block stops it.
    """

    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path
    database_url: str | None = None

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL after 15 s."""
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

    def __enter__(self) -> ServerProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_openncii(
    *args: str,
    port: int,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    log_dir: Path | None = None,
    host: str = "127.0.0.1",
) -> ServerProcess:
    """Start ``openncii ARGS`` (a server told to listen on ``host:port``) with a clean
    environment plus ``env``; return once ``GET /healthz`` answers 200.

    Raises :class:`ServerStartError` with the server's log if it exits or is not ready within
    ``timeout`` seconds.
    """
    directory = log_dir or Path(tempfile.mkdtemp(prefix="openncii-server-"))
    log_path = directory / f"{args[0] if args else 'openncii'}-{port}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - our own command line, no shell
            openncii_command(*args),
            env=clean_environment(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = ServerProcess(process, f"http://{host}:{port}", log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"openncii {' '.join(args)} exited with {process.returncode}:\n{server.log()}"
            )
        try:
            if httpx.get(server.base_url + _HEALTHZ, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.stop()
    raise ServerStartError(f"openncii {' '.join(args)} did not become ready:\n{server.log()}")


def start_server(
    database_url: str,
    env: Mapping[str, str] | None = None,
    *,
    fast: bool = True,
    workers: int = 1,
    log_level: str | None = None,
    timeout: float = 60.0,
    log_dir: Path | None = None,
) -> ServerProcess:
    """Start ``openncii serve`` on ``database_url`` (it migrates it) on a free loopback port.

    Per-client rate limits are out of the way; with ``fast`` (for tests) argon2 is cheap, without
    it (benchmarks) it keeps the production cost. ``env`` adds or overrides variables. A port
    taken between choosing and binding it is retried with another.
    """
    base = FAST_SERVER_ENV if fast else NO_RATE_LIMITS_ENV
    options = ["--workers", str(workers)] if workers != 1 else []
    if log_level is not None:
        options += ["--log-level", log_level]

    def start(port: int) -> ServerProcess:
        return start_openncii(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            database_url,
            *options,
            port=port,
            env={**base, **(env or {})},
            timeout=timeout,
            log_dir=log_dir,
        )

    server = start_on_a_free_port(start)
    server.database_url = database_url
    return server


def start_on_a_free_port(start: Callable[[int], ServerProcess], attempts: int = 3) -> ServerProcess:
    """``start(port)`` on a free loopback port (:func:`free_port`); a port that another process
    takes between the choosing and the binding (a busy machine) is tried again with another,
    ``attempts`` times in all. For servers started with :func:`start_openncii`."""
    for attempt in range(attempts):
        try:
            return start(free_port())
        except ServerStartError as exc:
            # The server's own check ("port N ... is already in use") or uvicorn's bind error.
            if attempt + 1 < attempts and "already in use" in str(exc).lower():
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


# --------------------------------------------------------------------------------------------------
# PostgreSQL: a schema of one's own in a shared database
# --------------------------------------------------------------------------------------------------


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``schema`` first on the search path of every connection made from it."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database of ``url`` if it does not exist."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    server = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        server.dispose()


def create_schema(url: str, schema: str) -> str:
    """Create ``schema`` in the database of ``url`` (the database too, when missing) and return
    the URL whose connections use it."""
    ensure_database(url)
    _execute(url, f'CREATE SCHEMA "{schema}"')
    return with_search_path(url, schema)


def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it."""
    _execute(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _execute(url: str, statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    finally:
        engine.dispose()

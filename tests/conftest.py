"""Fixtures shared by the whole suite. Keep each one generic and documented.

Helpers that are not fixtures (servers in subprocesses, FakeClock, skip_or_fail) live in
:mod:`openncii.testing`, which the benchmarks use too: tests import that, never this file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from openncii.testing import (
    FAST_ARGON2,
    FakeClock,
    ensure_database,
    skip_or_fail,
    with_search_path,
)

# hypothesis' default deadline (200 ms an example) and its too_slow health check fail a test
# for the pace of the machine, not for what it checks (CI shares two loaded cores): both off for
# every test; the settings a test gives itself build on these.
settings.register_profile("openncii", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("openncii")

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The steering repo's shared folder (reference media and hashes), beside the repo.
SHARED_DIR = REPO_ROOT.parent / "shared"


@pytest.fixture(scope="session")
def testdata() -> Path:
    """``../shared/testdata``: skipped with a message when absent outside CI, a failure in CI."""
    path = SHARED_DIR / "testdata"
    if not path.is_dir():
        skip_or_fail(f"shared test data not found at {path}")
    return path


# --------------------------------------------------------------------------------------------------
# Databases and the application (case service). Every test gets its own freshly migrated database:
# `database_url` runs each test once on SQLite and once on PostgreSQL (OPENNCII_TEST_DATABASE_URL;
# skipped outside CI when unset, a failure in CI).
# --------------------------------------------------------------------------------------------------

#: Environment variable naming the PostgreSQL server for the PostgreSQL half of the suite.
TEST_DATABASE_ENV = "OPENNCII_TEST_DATABASE_URL"


def postgres_server_url() -> str:
    """The PostgreSQL URL from the environment, or skip/fail (in CI) when it is not set."""
    url = os.environ.get(TEST_DATABASE_ENV, "")
    if not url:
        skip_or_fail(
            f"PostgreSQL tests need {TEST_DATABASE_ENV}, e.g. "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )
    return url


@pytest.fixture(scope="session")
def _postgres_admin() -> Iterator[Any]:
    """An engine on the test PostgreSQL database (created if missing), for schema set-up."""
    from sqlalchemy import create_engine

    url = postgres_server_url()
    ensure_database(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test (migrating once is faster)."""
    from openncii.db import make_engine, migrate

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return path


@pytest.fixture
def fresh_postgres_url(_postgres_admin: Any) -> Iterator[str]:
    """The URL of an empty PostgreSQL schema of its own (dropped after the test)."""
    from sqlalchemy import text

    schema = f"t_{uuid.uuid4().hex}"
    with _postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield with_search_path(_postgres_admin.url.render_as_string(hide_password=False), schema)
    finally:
        with _postgres_admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A freshly migrated database of its own: SQLite (a temp file) or PostgreSQL (a schema)."""
    if request.param == "sqlite":
        path = tmp_path / "openncii.sqlite3"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    from openncii.db import make_engine, migrate

    url: str = request.getfixturevalue("fresh_postgres_url")
    engine = make_engine(url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def make_settings(database_url: str) -> Callable[..., Any]:
    """``make_settings(**overrides)``: Settings on ``database_url`` with cheap argon2 and rate
    limits high enough not to get in the way (tests about them pass their own values)."""
    from openncii.settings import Settings

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "rate_limit_create": 10_000,
            "rate_limit_status": 10_000,
            "denylist_extra_path": None,
            "log_client_ips": False,
            # Tests that are not about durability skip the fsync per commit.
            "sqlite_synchronous": "NORMAL",
            **FAST_ARGON2,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def clock() -> FakeClock:
    """A :class:`FakeClock`; pass it to ``api_client(clock=...)`` to control time."""
    return FakeClock()


@pytest.fixture
def api_client(make_settings: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """``api_client(clock=None, **settings_overrides)`` -> a started TestClient of a fresh app on
    this test's database. Every client made is closed after the test."""
    from fastapi.testclient import TestClient

    from openncii.api import create_app

    clients: list[Any] = []

    def make(clock: Callable[[], datetime] | None = None, **overrides: Any) -> Any:
        app = create_app(make_settings(**overrides))
        if clock is not None:
            app.state.runtime.clock = clock
        client = TestClient(app, raise_server_exceptions=True)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def db_sessions(database_url: str) -> Iterator[Any]:
    """A SQLAlchemy ``sessionmaker`` on this test's database (its engine is disposed after)."""
    from openncii.db import make_engine, make_session_factory

    engine = make_engine(database_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def png_bomb(tmp_path: Path) -> Path:
    """A small PNG whose header claims 50000 x 50000 RGB pixels (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", 50000, 50000, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Like ``database_url`` but *not* migrated (for tests of ``openncii serve`` itself)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh' / 'openncii.sqlite3'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url

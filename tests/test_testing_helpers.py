"""``openncii.testing``: the one way tests and benchmarks start a server, and the fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from openncii.testing import (
    FAST_SERVER_ENV,
    FakeClock,
    ServerProcess,
    ServerStartError,
    clean_environment,
    free_port,
    start_on_a_free_port,
    start_openncii,
    start_server,
)


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(datetime(2030, 5, 1, tzinfo=UTC))
    assert clock() == clock() == datetime(2030, 5, 1, tzinfo=UTC)
    clock.advance(hours=1, seconds=30)
    assert clock() == datetime(2030, 5, 1, 1, 0, 30, tzinfo=UTC)


def test_servers_get_a_clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENNCII_DATABASE_URL", "sqlite:////elsewhere.sqlite3")
    monkeypatch.setenv("SOMETHING_ELSE", "kept")
    env = clean_environment({"OPENNCII_PORT": "1"})
    assert "OPENNCII_DATABASE_URL" not in env
    assert env["SOMETHING_ELSE"] == "kept" and env["OPENNCII_PORT"] == "1"
    assert FAST_SERVER_ENV["OPENNCII_ARGON2_TIME_COST"] == "1"


def test_a_server_that_cannot_start_is_an_error_with_its_log(tmp_path: Path) -> None:
    with pytest.raises(ServerStartError, match="unsupported database backend"):
        start_server("mysql://nobody@127.0.0.1/nothing", log_dir=tmp_path, timeout=30)


@pytest.mark.slow
def test_start_server_serves_until_the_block_ends(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with start_server(url, log_dir=tmp_path) as server:
        assert server.database_url == url
        assert server.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200
    assert server.process.poll() is not None
    with pytest.raises(httpx.TransportError):
        httpx.get(server.base_url + "/healthz", timeout=2)
    assert free_port() != 0


def test_a_port_taken_before_the_server_binds_it_is_tried_again(tmp_path: Path) -> None:
    """Another process takes the chosen port first (a busy machine): the server refuses it
    ("already in use") and the next start gets another port."""
    import socket

    tried: list[int] = []

    def start(port: int) -> ServerProcess:
        use = taken.getsockname()[1] if not tried else port
        tried.append(use)
        url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        args = ("serve", "--port", str(use), "--database-url", url)
        return start_openncii(*args, port=use, log_dir=tmp_path)

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with start_on_a_free_port(start) as server:
            assert httpx.get(server.base_url + "/healthz", timeout=10).status_code == 200
    assert len(tried) == 2 and tried[0] != tried[1]

"""``openncii partner sync`` and ``openncii partner feedback`` against a live ``openncii serve``.

The server is a real subprocess on this test's database (SQLite, and PostgreSQL when
OPENNCII_TEST_DATABASE_URL is set). Most commands run in-process (typer's runner); the
kill-and-restart test runs ``openncii partner sync`` as a real subprocess and SIGKILLs it.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from case_helpers import CASES, STATUS, WITHDRAW, case_body, md5_item, pdq_item
from openncii.cli import app
from openncii.cli.common import ExitCode
from openncii.partner import PartnerStore, hash_key
from openncii.testing import (
    ServerProcess,
    clean_environment,
    free_port,
    openncii_command,
    serve_in_thread,
    start_server,
)
from partner_helpers import FeedReader, new_partner

runner = CliRunner()


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    # Cases of 200 bare hashes each (the sync tests' bank): more than 50 photos per case.
    process = start_server(database_url, {"OPENNCII_MAX_FILES_PER_CASE": "200"}, log_dir=tmp_path)
    yield process
    process.stop()


@pytest.fixture
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def run(*args: str, key: str | None = None, stdin: str | None = None) -> Any:
    env = {"OPENNCII_PARTNER_KEY": key or ""}
    return runner.invoke(app, ["partner", *args], env=env, input=stdin, catch_exceptions=False)


def open_case(http: httpx.Client, *hashes: dict[str, Any]) -> dict[str, Any]:
    response = http.post(CASES, json=case_body(*hashes))
    assert response.status_code == 201, response.text
    return {**response.json(), "hashes": hashes}


def withdraw(http: httpx.Client, case: dict[str, Any]) -> None:
    credentials = {"case_number": case["case_number"], "pin": case["pin"]}
    assert http.post(WITHDRAW, json=credentials).status_code == 200


def server_active(http: httpx.Client, key: str) -> set[tuple[str, str]]:
    reader = FeedReader(http, key, page_size=1000)
    reader.fetch()
    wire = {"ImagePDQ": "pdq", "VideoMD5": "md5", "VideoPDQ": "vpdq"}
    return {(wire[t], hash_key(wire[t], v)) for t, v in reader.active()}


def local_active(path: Path) -> set[tuple[str, str]]:
    with PartnerStore.open(path) as store:
        return {
            (row.signal_type, row.key or "")
            for signal_type in ("pdq", "md5", "vpdq")
            for row in store.active(signal_type)
        }


def test_sync_incremental_sync_keys_and_feedback(
    server: ServerProcess, http: httpx.Client, db_sessions: Any, tmp_path: Path
) -> None:
    """One live server for the commands' ordinary life (starting servers is what costs)."""
    key = new_partner(db_sessions, "Acme")
    cases = [open_case(http, pdq_item(), md5_item()) for _ in range(3)]
    store = tmp_path / "partner.sqlite3"
    where = ("--server", server.base_url, "--store", str(store))

    # A wrong key, no key: nothing fetched.
    bad = run("sync", *where, key="onp_wrong")
    assert bad.exit_code == ExitCode.AUTH
    assert "refused the partner key" in bad.stderr
    missing = run("sync", *where, stdin="")
    assert missing.exit_code == ExitCode.USAGE
    assert "OPENNCII_PARTNER_KEY" in missing.stderr

    # The first sync, with the key typed at the hidden prompt.
    first = run("sync", *where, stdin=key + "\n")
    assert first.exit_code == 0, first.output
    assert "Full resync (first sync): 6 records" in first.stderr
    assert "3 PDQ, 3 MD5, 0 vPDQ" in first.stderr
    assert local_active(store) == server_active(http, key)

    withdraw(http, cases[0])
    second = run("sync", *where, "-q", key=key)
    assert second.exit_code == 0, second.output
    assert "Incremental sync" in second.stderr and "0 added, 0 updated, 2 removed" in second.stderr
    assert local_active(store) == server_active(http, key)
    # Never a hash value or the key in the output (hidden input is not echoed).
    output = bad.output + missing.output + first.output + second.output
    assert key not in output
    assert not any(h["value"] in output for c in cases for h in c["hashes"])

    # Feedback; the server is remembered from the sync.
    case = cases[1]
    value = case["hashes"][0]["value"]
    sent = run(
        "feedback", value.upper(), "blocked", "--tag", "nudity", "--store", str(store), key=key
    )
    assert sent.exit_code == 0, sent.output
    assert f"Reported Blocked for {value}" in sent.stderr
    status = http.post(STATUS, json={"case_number": case["case_number"], "pin": case["pin"]})
    outcomes = status.json()["hashes"][0]["outcomes"]
    assert [(o["partner"], o["outcome"]) for o in outcomes] == [("Acme", "Blocked")]

    unknown = "0123456789abcdef" * 2
    missing_hash = run("feedback", unknown, "NotBlocked", *where, key=key)
    assert missing_hash.exit_code == ExitCode.FAILED
    with PartnerStore.open(store) as local:
        recorded = local.outcomes()
    assert [(o.hash_value, o.signal_type, o.feedback, o.tags, o.recorded) for o in recorded] == [
        (value, "pdq", "Blocked", ("nudity",), True),
        (unknown, "md5", "NotBlocked", (), False),
    ]
    assert (
        run("feedback", value, "Maybe", "--store", str(store), key=key).exit_code == ExitCode.USAGE
    )
    assert (
        run("feedback", "xyz", "Blocked", "--store", str(store), key=key).exit_code
        == ExitCode.USAGE
    )
    never_synced = str(tmp_path / "empty.sqlite3")
    assert run("feedback", value, "Blocked", "--store", never_synced, key=key).exit_code == 2


def test_unreachable_server_and_unusable_store(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = str(tmp_path / "partner.sqlite3")
    down = run("sync", "--server", url, "--store", store, "--retries", "1", key="k")
    assert down.exit_code == ExitCode.UNAVAILABLE
    assert "unavailable" in down.stderr
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("hello, this is not SQLite\n" * 100)
    bad = run("sync", "--server", url, "--store", str(not_a_store), key="k")
    assert bad.exit_code == ExitCode.STORE
    assert "not an OpenNCII partner store" in bad.stderr


def test_server_and_store_come_from_the_environment(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    store = tmp_path / "from-env.sqlite3"
    env = {"OPENNCII_PARTNER_KEY": "k", "OPENNCII_PARTNER_STORE": str(store)}
    missing = runner.invoke(app, ["partner", "sync"], env=env)
    assert missing.exit_code == ExitCode.USAGE
    assert "openncii partner sync: which server? Give --server or set OPENNCII_PARTNER_SERVER" in (
        missing.stderr
    )
    env["OPENNCII_PARTNER_SERVER"] = url
    down = runner.invoke(app, ["partner", "sync", "--retries", "1", "-q"], env=env)
    assert down.exit_code == ExitCode.UNAVAILABLE, down.output
    assert url in down.stderr and store.is_file()
    # An option wins over its variable.
    other = tmp_path / "from-option.sqlite3"
    again = runner.invoke(
        app, ["partner", "sync", "--store", str(other), "--retries", "1"], env=env
    )
    assert again.exit_code == ExitCode.UNAVAILABLE and other.is_file()


def test_help_texts() -> None:
    top = runner.invoke(app, ["partner", "--help"])
    assert top.exit_code == 0 and "Exit statuses" in top.output
    for command in ("sync", "feedback"):
        result = runner.invoke(app, ["partner", command, "--help"])
        assert result.exit_code == 0
        assert "OPENNCII_PARTNER_KEY" in result.output
        assert "--key" not in result.output  # never an argument


# --------------------------------------------------------------------------------------------------
# Kill -9 mid-sync, restart: the same final state.
# --------------------------------------------------------------------------------------------------


@contextmanager
def _gate(target: str, requests: int) -> Iterator[str]:
    """A proxy to ``target`` (served in this process) that forwards the first ``requests``
    requests and holds every later one until it closes: a sync through it stops there, so it
    cannot finish, or run far past the count the test kills it at, while this process waits
    for the CPU. Yields its base URL."""
    import anyio
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    closing = threading.Event()
    forwarded = 0
    hop = {"host", "content-length", "transfer-encoding", "connection", "content-encoding"}

    async def forward(request: Request) -> Response:
        nonlocal forwarded
        forwarded += 1
        if forwarded > requests:
            while not closing.is_set():
                await anyio.sleep(0.05)
            return Response(status_code=503)
        async with httpx.AsyncClient(base_url=target, timeout=60) as client:
            answer = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                headers={k: v for k, v in request.headers.items() if k not in hop},
                content=await request.body(),
            )
        headers = {k: v for k, v in answer.headers.items() if k not in hop}
        return Response(answer.content, answer.status_code, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
    with serve_in_thread(app) as url:
        try:
            yield url
        finally:
            closing.set()


def _start_sync(url: str, store: Path, key: str, log: Path) -> subprocess.Popen[bytes]:
    env = clean_environment({"OPENNCII_PARTNER_KEY": key})
    command = openncii_command(
        "partner", "sync", "--server", url, "--store", str(store), "--page-size", "10", "-q"
    )
    with log.open("ab") as sink:
        return subprocess.Popen(command, env=env, stdout=sink, stderr=sink)


def _kill_when(process: subprocess.Popen[bytes], store: Path, at_least: int) -> int:
    """SIGKILL the sync once the store holds ``at_least`` PDQ hashes; return how many it held."""
    deadline = time.monotonic() + 120  # a start-up on a loaded machine
    while not store.exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    with PartnerStore.open(store) as reader:  # reads while the sync writes (WAL)
        while (held := reader.counts()["pdq"]) < at_least:
            assert process.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    return held


def test_sync_killed_mid_way_restarts_to_the_same_state(
    server: ServerProcess, http: httpx.Client, db_sessions: Any, tmp_path: Path
) -> None:
    key = new_partner(db_sessions, "Acme")
    cases = [open_case(http, *[pdq_item() for _ in range(200)]) for _ in range(8)]
    withdraw(http, cases[-1])
    store, log = tmp_path / "partner.sqlite3", tmp_path / "sync.log"

    # Killed once the store holds 300 hashes: 60 pages of 10 at most get through meanwhile.
    with _gate(server.base_url, 60) as gated:
        held = _kill_when(_start_sync(gated, store, key, log), store, 300)
    with PartnerStore.open(store) as local:
        state = local.sync_state()
        assert state.page_token and state.resyncing  # killed inside the first fetch
    assert held < 1400

    # The bank changes between runs: a new case, a withdrawal of synced hashes.
    open_case(http, *[pdq_item() for _ in range(50)])
    withdraw(http, cases[0])
    with _gate(server.base_url, 100) as gated:
        _kill_when(_start_sync(gated, store, key, log), store, held + 300)

    final = _start_sync(server.base_url, store, key, log)
    assert final.wait(timeout=120) == 0, log.read_text()
    assert local_active(store) == server_active(http, key)
    with PartnerStore.open(store) as local:
        assert local.counts()["pdq"] == 6 * 200 + 50
        assert local.sync_state().page_token is None

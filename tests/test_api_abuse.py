"""Abuse controls: PIN lockout (429 + Retry-After, exponential), the same 401 for a wrong PIN
and an unknown case, per-client rate limits, all kept in the database."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest

from case_helpers import CASES, STATUS, WITHDRAW, case_body
from openncii.testing import FakeClock

ApiClient = Callable[..., Any]
UNKNOWN = "ABCD-EFGH-JKMN"


def _open(client: Any) -> dict[str, str]:
    created = client.post(CASES, json=case_body()).json()
    return {"case_number": created["case_number"], "pin": created["pin"]}


def _wrong(credentials: dict[str, str]) -> dict[str, str]:
    pin = credentials["pin"]
    return {**credentials, "pin": f"{(int(pin) + 1) % 10**8:08d}"}


def test_wrong_pin_and_unknown_case_get_the_same_401(api_client: ApiClient) -> None:
    client = api_client()
    credentials = _open(client)
    wrong = client.post(STATUS, json=_wrong(credentials))
    unknown = client.post(STATUS, json={"case_number": UNKNOWN, "pin": credentials["pin"]})
    garbage = client.post(STATUS, json={"case_number": "not a case", "pin": "x"})
    assert wrong.status_code == unknown.status_code == garbage.status_code == 401
    assert wrong.json() == unknown.json() == garbage.json()
    assert wrong.json()["code"] == "not_authenticated"
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()
    withdraw = client.post(WITHDRAW, json={"case_number": UNKNOWN, "pin": "12345678"})
    assert withdraw.status_code == 401
    assert withdraw.json() == wrong.json()


def test_five_wrong_pins_lock_the_case_even_against_the_right_pin(
    api_client: ApiClient, clock: FakeClock
) -> None:
    client = api_client(clock=clock)
    credentials = _open(client)
    for _ in range(5):
        assert client.post(STATUS, json=_wrong(credentials)).status_code == 401
    locked = client.post(STATUS, json=credentials)
    assert locked.status_code == 429
    assert locked.json()["code"] == "case_locked"
    assert locked.headers["Retry-After"] == str(15 * 60)
    assert "15 minutes" in locked.json()["detail"]
    assert client.post(WITHDRAW, json=credentials).status_code == 429
    clock.advance(minutes=10)
    locked = client.post(STATUS, json=credentials)
    assert locked.headers["Retry-After"] == str(5 * 60)
    clock.advance(minutes=5, seconds=1)
    assert client.post(STATUS, json=credentials).status_code == 200


def test_lockouts_grow_exponentially(api_client: ApiClient, clock: FakeClock) -> None:
    client = api_client(clock=clock)
    credentials = _open(client)
    expected = [15 * 60, 30 * 60, 60 * 60]
    for seconds in expected:
        for _ in range(5):
            assert client.post(STATUS, json=_wrong(credentials)).status_code == 401
        response = client.post(STATUS, json=credentials)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) == seconds
        clock.advance(seconds=seconds)
    # The right PIN after the last lockout opens the case and resets the count.
    assert client.post(STATUS, json=credentials).status_code == 200
    for _ in range(5):
        client.post(STATUS, json=_wrong(credentials))
    assert client.post(STATUS, json=credentials).headers["Retry-After"] == str(15 * 60)


def test_a_right_pin_resets_the_failure_count(api_client: ApiClient) -> None:
    client = api_client()
    credentials = _open(client)
    for _ in range(4):
        assert client.post(STATUS, json=_wrong(credentials)).status_code == 401
    assert client.post(STATUS, json=credentials).status_code == 200
    for _ in range(4):
        assert client.post(STATUS, json=_wrong(credentials)).status_code == 401
    assert client.post(STATUS, json=credentials).status_code == 200


def test_unknown_case_numbers_lock_exactly_like_real_ones(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """The lockout cannot be used to learn whether a case number exists.

    The clock is fixed so that Retry-After is compared to the second, not across a slow tick.
    """
    client = api_client(clock=clock)
    real = _open(client)
    fake = {"case_number": UNKNOWN, "pin": "12345678"}
    answers: dict[str, list[tuple[int, str | None]]] = {"real": [], "fake": []}
    for name, credentials in (("real", _wrong(real)), ("fake", fake)):
        for _ in range(7):
            response = client.post(STATUS, json=credentials)
            answers[name].append((response.status_code, response.headers.get("Retry-After")))
    assert answers["real"] == answers["fake"]
    assert [code for code, _ in answers["real"]] == [401] * 5 + [429] * 2


def test_lockout_is_shared_by_workers_on_one_database(api_client: ApiClient) -> None:
    first, second = api_client(), api_client()
    credentials = _open(first)
    for worker in (first, second, first, second, first):
        assert worker.post(STATUS, json=_wrong(credentials)).status_code == 401
    assert second.post(STATUS, json=credentials).status_code == 429


def test_case_creation_is_rate_limited_per_client(api_client: ApiClient, clock: FakeClock) -> None:
    client = api_client(clock=clock, rate_limit_create=3, rate_window_seconds=60)
    for _ in range(3):
        assert client.post(CASES, json=case_body()).status_code == 201
    limited = client.post(CASES, json=case_body())
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another worker on the same database sees the same counter.
    other = api_client(clock=clock, rate_limit_create=3, rate_window_seconds=60)
    assert other.post(CASES, json=case_body()).status_code == 429
    clock.advance(seconds=61)
    assert client.post(CASES, json=case_body()).status_code == 201


def test_status_checks_are_rate_limited_per_client(api_client: ApiClient, clock: FakeClock) -> None:
    client = api_client(clock=clock, rate_limit_status=4)
    credentials = _open(client)
    for _ in range(4):
        assert client.post(STATUS, json=credentials).status_code == 200
    assert client.post(STATUS, json=credentials).status_code == 429
    assert client.post(WITHDRAW, json=credentials).status_code == 429


def test_rate_limit_counts_clients_apart(api_client: ApiClient, clock: FakeClock) -> None:
    from fastapi.testclient import TestClient

    client = api_client(clock=clock, rate_limit_create=1)
    assert client.post(CASES, json=case_body()).status_code == 201
    assert client.post(CASES, json=case_body()).status_code == 429
    other = TestClient(client.app, client=("203.0.113.9", 5000))
    assert other.post(CASES, json=case_body()).status_code == 201


def test_forwarded_for_is_believed_only_from_trusted_proxies(
    api_client: ApiClient, clock: FakeClock
) -> None:
    from fastapi.testclient import TestClient

    trusted = api_client(clock=clock, rate_limit_create=1, trusted_proxies="testclient")
    proxy = TestClient(trusted.app)  # peer "testclient" is the trusted proxy
    assert (
        proxy.post(CASES, json=case_body(), headers={"X-Forwarded-For": "198.51.100.1"}).status_code
        == 201
    )
    assert (
        proxy.post(CASES, json=case_body(), headers={"X-Forwarded-For": "198.51.100.2"}).status_code
        == 201
    )
    assert (
        proxy.post(CASES, json=case_body(), headers={"X-Forwarded-For": "198.51.100.1"}).status_code
        == 429
    )
    untrusted = api_client(clock=clock, rate_limit_create=1)
    assert (
        untrusted.post(
            CASES, json=case_body(), headers={"X-Forwarded-For": "198.51.100.3"}
        ).status_code
        == 201
    )
    assert (
        untrusted.post(
            CASES, json=case_body(), headers={"X-Forwarded-For": "198.51.100.4"}
        ).status_code
        == 429
    )


def test_no_client_address_is_stored(api_client: ApiClient, db_sessions: Any) -> None:
    from fastapi.testclient import TestClient
    from sqlalchemy import select

    from openncii.db.models import RateCounter

    client = api_client()
    TestClient(client.app, client=("203.0.113.77", 5000)).post(CASES, json=case_body())
    with db_sessions() as session:
        clients = list(session.scalars(select(RateCounter.client)))
    assert clients
    assert all("203.0.113.77" not in c and len(c) == 64 for c in clients)


@pytest.mark.slow
def test_wrong_pin_and_unknown_case_take_the_same_time(api_client: ApiClient) -> None:
    """With production argon2 (19 MiB, t=2) both paths do one full verification.

    Measured in CPU time of this process (the test client runs the app in-process), which the
    load of other processes does not move: wall-clock time on a shared 2-core machine swung the
    ratio down to 0.5. Rounds alternate which path goes first. The medians agree; skipping the
    verification for an unknown number would cost about a millisecond of CPU (ratio ~0.05)."""
    client = api_client(argon2_time_cost=2, argon2_memory_kib=19 * 1024)
    cases = [_open(client) for _ in range(5)]
    real: list[float] = []
    unknown: list[float] = []
    for round_ in range(20):
        credentials = cases[round_ % 5]  # 4 wrong PINs per case: never locked
        symbol = "JKMNPQRSTVWXYZ23456789"[round_]
        trials = [
            (real, _wrong(credentials)),
            (unknown, {"case_number": f"ABCD-EFGH-{symbol}222", "pin": "12345678"}),
        ]
        for bucket, body in trials if round_ % 2 else trials[::-1]:
            start = time.process_time()
            assert client.post(STATUS, json=body).status_code == 401
            bucket.append(time.process_time() - start)
    ratio = statistics.median(unknown) / statistics.median(real)
    assert 0.6 < ratio < 1.67, (statistics.median(real), statistics.median(unknown))
    no_work: list[float] = []
    for _ in range(10):
        start = time.process_time()
        client.get("/healthz")
        no_work.append(time.process_time() - start)
    assert min(statistics.median(real), statistics.median(unknown)) > statistics.median(no_work)


def test_full_pin_queue_answers_503_at_once_and_counts_nothing(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """With every PIN-hash turn taken, status checks and creations are refused with 503 +
    Retry-After before anything is counted, while /healthz and the pages still answer."""
    client = api_client(clock=clock, pin_hash_workers=1, pin_hash_queue=0)
    credentials = _open(client)
    slots = client.app.state.runtime.rules.pins.slots
    with slots.admitted():
        for path, body in ((STATUS, credentials), (WITHDRAW, credentials), (CASES, case_body())):
            busy = client.post(path, json=body)
            assert busy.status_code == 503
            assert busy.headers["Retry-After"] == "1"
            assert busy.json()["code"] == "busy"
        for _ in range(10):  # more than any budget: none of these was counted
            assert client.post(STATUS, json=_wrong(credentials)).status_code == 503
        assert client.get("/healthz").status_code == 200
        assert client.get("/").status_code == 200
    assert client.post(STATUS, json=credentials).status_code == 200

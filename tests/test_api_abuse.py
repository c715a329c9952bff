"""Abuse controls: PIN tries (a short per-client pause nobody else can lengthen; a shared budget
for older 8-digit PINs; tries left in every refusal), the same 401 for a wrong PIN and an unknown
case, per-client rate limits, all kept in the database."""

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


def _wrong(credentials: dict[str, str], offset: int = 1) -> dict[str, str]:
    digits = credentials["pin"].replace("-", "")
    return {**credentials, "pin": f"{(int(digits) + offset) % 10 ** len(digits):0{len(digits)}d}"}


def _from(client: Any, address: str) -> Any:
    """A client of the same app, connecting from ``address``."""
    from fastapi.testclient import TestClient

    return TestClient(client.app, client=(address, 5000))


def _make_legacy(client: Any, credentials: dict[str, str], pin: str = "24681357") -> dict[str, str]:
    """Give the case an 8-digit PIN, as cases opened before PINs had 16 digits have."""
    from sqlalchemy import update

    from openncii.cases.numbers import normalize_case_number
    from openncii.db.models import Case

    runtime = client.app.state.runtime
    number = normalize_case_number(credentials["case_number"])
    with runtime.sessions() as session, session.begin():
        session.execute(
            update(Case).where(Case.number == number).values(pin_hash=runtime.rules.pins.hash(pin))
        )
    return {**credentials, "pin": pin}


def test_new_pins_have_sixteen_digits_in_groups_and_are_accepted_in_any_grouping(
    api_client: ApiClient,
) -> None:
    import re

    client = api_client()
    credentials = _open(client)
    assert re.fullmatch(r"[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{4}", credentials["pin"])
    digits = credentials["pin"].replace("-", "")
    for typed in (
        digits,
        credentials["pin"],
        " ".join(credentials["pin"].split("-")),
        f" {digits} ",
    ):
        assert client.post(STATUS, json={**credentials, "pin": typed}).status_code == 200


def test_wrong_pin_and_unknown_case_get_the_same_401(api_client: ApiClient) -> None:
    client = api_client()
    credentials = _open(client)
    wrong = client.post(STATUS, json=_wrong(credentials))
    unknown = client.post(STATUS, json={"case_number": UNKNOWN, "pin": credentials["pin"]})
    garbage = client.post(STATUS, json={"case_number": "not a case", "pin": "x"})
    assert wrong.status_code == unknown.status_code == garbage.status_code == 401
    assert wrong.json() == unknown.json() == garbage.json()
    assert wrong.json()["code"] == "not_authenticated"
    assert wrong.json()["tries_left"] == 4
    assert dict(wrong.headers).keys() == dict(unknown.headers).keys()
    withdraw = client.post(WITHDRAW, json={"case_number": UNKNOWN, "pin": "1234567812345678"})
    assert withdraw.status_code == 401
    assert withdraw.json()["detail"] == wrong.json()["detail"]


def test_refusals_count_down_and_warn_before_the_last_tries(
    api_client: ApiClient, clock: FakeClock
) -> None:
    client = api_client(clock=clock)
    credentials = _open(client)
    answers = [client.post(STATUS, json=_wrong(credentials, i)).json() for i in range(1, 6)]
    assert [a["tries_left"] for a in answers] == [4, 3, 2, 1, 0]
    assert "left" not in answers[0]["detail"] and "left" not in answers[1]["detail"]
    assert answers[2]["detail"].endswith(" 2 tries left before a pause.")
    assert answers[3]["detail"].endswith(" 1 try left before a pause.")
    assert "the last try for now" in answers[4]["detail"]
    assert "60 seconds" in answers[4]["detail"]


def test_five_wrong_pins_pause_that_client_for_at_most_a_minute_only(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """Someone who knows only the case number cannot keep the owner out: the pause is theirs,
    and even their own tries during it do not lengthen it."""
    client = api_client(clock=clock)
    credentials = _open(client)
    attacker = _from(client, "198.51.100.66")
    for i in range(5):
        assert attacker.post(STATUS, json=_wrong(credentials, i + 1)).status_code == 401
    paused = attacker.post(STATUS, json=credentials)  # even the right PIN waits
    assert paused.status_code == 429
    assert paused.json()["code"] == "case_locked"
    assert paused.headers["Retry-After"] == "60"
    assert "60 seconds" in paused.json()["detail"]
    # The owner, elsewhere, is not affected at all.
    assert client.post(STATUS, json=credentials).status_code == 200
    assert client.post(WITHDRAW, json=credentials).status_code == 200
    # The attacker hammering during the pause does not lengthen it.
    for second in range(59):
        clock.advance(seconds=1)
        refused = attacker.post(STATUS, json=_wrong(credentials))
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) == 59 - second
    clock.advance(seconds=1)
    assert attacker.post(STATUS, json=credentials).status_code == 200


def test_the_owner_behind_the_attackers_address_waits_a_minute_at_most(
    api_client: ApiClient, clock: FakeClock
) -> None:
    client = api_client(clock=clock)
    credentials = _open(client)
    clock.advance(seconds=30)
    for i in range(10):  # used up at once, then hammered
        client.post(STATUS, json=_wrong(credentials, i + 1))
    refused = client.post(STATUS, json=credentials)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) == 30
    clock.advance(seconds=30)
    assert client.post(STATUS, json=credentials).status_code == 200


def test_a_right_pin_gives_its_try_back(api_client: ApiClient, clock: FakeClock) -> None:
    client = api_client(clock=clock)
    credentials = _open(client)
    for _ in range(10):
        assert client.post(STATUS, json=credentials).status_code == 200
    for i in range(4):
        assert client.post(STATUS, json=_wrong(credentials, i + 1)).status_code == 401
    assert client.post(STATUS, json=credentials).status_code == 200
    last = client.post(STATUS, json=_wrong(credentials))
    assert last.status_code == 401
    assert last.json()["tries_left"] == 0
    assert client.post(STATUS, json=credentials).status_code == 429


def test_unknown_case_numbers_pause_exactly_like_real_ones(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """The tries cannot be used to learn whether a case number exists (fixed clock: Retry-After
    is compared to the second)."""
    client = api_client(clock=clock)
    real = _open(client)
    legacy_real = _make_legacy(client, _open(client))
    fake = {"case_number": UNKNOWN, "pin": "1234567812345678"}
    legacy_fake = {"case_number": "ZZZZ-ZZZZ-ZZZZ", "pin": "12345678"}
    answers: dict[str, list[tuple[int, str | None, Any]]] = {}
    for name, credentials in (
        ("real", _wrong(real)),
        ("fake", fake),
        ("legacy real", _wrong(legacy_real)),
        ("legacy fake", legacy_fake),
    ):
        answers[name] = []
        for _ in range(7):
            response = client.post(STATUS, json=credentials)
            answers[name].append(
                (response.status_code, response.headers.get("Retry-After"), response.json())
            )
    assert answers["real"] == answers["fake"]
    assert answers["legacy real"] == answers["legacy fake"]
    assert [code for code, _, _ in answers["real"]] == [401] * 5 + [429] * 2


def test_pin_tries_are_shared_by_workers_on_one_database(
    api_client: ApiClient, clock: FakeClock
) -> None:
    first, second = api_client(clock=clock), api_client(clock=clock)
    credentials = _open(first)
    for worker in (first, second, first, second, first):
        assert worker.post(STATUS, json=_wrong(credentials)).status_code == 401
    assert second.post(STATUS, json=credentials).status_code == 429


def test_eight_digit_pins_of_older_cases_work_on_a_shared_budget(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """An 8-digit PIN (a case opened before PINs had 16 digits) still opens its case. Its wrong
    tries are also counted per case number for everyone together: 5 per 10 minutes, so that
    guessing 10**8 PINs stays beyond a century (test_cases_pins.py computes it)."""
    client = api_client(clock=clock)
    credentials = _make_legacy(client, _open(client))
    assert client.post(STATUS, json=credentials).status_code == 200
    assert client.post(STATUS, json={**credentials, "pin": "2468 1357"}).status_code == 200
    for i in range(5):  # five addresses, one wrong try each
        wrong = _from(client, f"203.0.113.{i + 1}").post(STATUS, json=_wrong(credentials, i + 1))
        assert wrong.status_code == 401
        assert wrong.json()["tries_left"] == 4 - i
    refused = _from(client, "203.0.113.99").post(STATUS, json=_wrong(credentials, 9))
    assert refused.status_code == 429
    assert refused.json()["code"] == "case_locked"
    assert refused.headers["Retry-After"] == "600"
    assert "10 minutes" in refused.json()["detail"]
    # The shared budget is for 8-digit tries only: 16-digit tries go on as usual.
    sixteen = _from(client, "203.0.113.98").post(STATUS, json={**credentials, "pin": "1" * 16})
    assert sixteen.status_code == 401
    clock.advance(seconds=600)
    assert _from(client, "203.0.113.99").post(STATUS, json=credentials).status_code == 200


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


def test_a_busy_shared_address_gets_past_the_creation_limit_with_a_proof_of_work(
    api_client: ApiClient, clock: FakeClock
) -> None:
    """Someone new behind a shelter's address is not refused a first case: the 429 carries a
    challenge, and a solved one lets exactly one creation past the limit."""
    from openncii.cases.proof import PROOF_HEADER, solve

    client = api_client(clock=clock, rate_limit_create=1, create_proof_bits=10)
    assert client.post(CASES, json=case_body()).status_code == 201
    limited = client.post(CASES, json=case_body())
    assert limited.status_code == 429
    body = limited.json()
    assert body["code"] == "rate_limited"
    assert "wait" in body["detail"] and "a few seconds of work" in body["detail"]
    challenge = body["challenge"]
    proof = f"{challenge}:{solve(challenge)}"
    assert client.post(CASES, json=case_body(), headers={PROOF_HEADER: proof}).status_code == 201
    # Used once: not again.
    again = client.post(CASES, json=case_body(), headers={PROOF_HEADER: proof})
    assert again.status_code == 429
    # A wrong nonce, a forged or altered challenge, an expired one: refused.
    fresh = again.json()["challenge"]
    nonce = solve(fresh)
    forged = fresh.replace(".10.", ".8.")
    for bad in (
        f"{fresh}:{int(nonce) + 1}x",
        f"{forged}:{solve(forged)}",
        "nonsense",
        f"{fresh}:",
        f"{fresh[:-1]}\u00e9:{nonce}",  # not ASCII (a header arrives as Latin-1 text)
    ):
        assert (
            client.post(
                CASES, json=case_body(), headers={PROOF_HEADER: bad.encode("latin-1")}
            ).status_code
            == 429
        )
    clock.advance(seconds=601)
    client.post(CASES, json=case_body())  # a new window: the first creation is free again
    expired = client.post(CASES, json=case_body(), headers={PROOF_HEADER: f"{fresh}:{nonce}"})
    assert expired.status_code == 429


def test_proof_of_work_bits_are_what_the_challenge_says() -> None:
    from datetime import UTC, datetime

    from openncii.cases.proof import (
        leading_zero_bits,
        new_challenge,
        proof_digest,
        solve,
        valid_challenge,
    )

    now = datetime(2026, 1, 1, tzinfo=UTC)
    challenge = new_challenge(b"k" * 32, now, 12)
    nonce = solve(challenge)
    assert leading_zero_bits(proof_digest(challenge, nonce)) >= 12
    assert valid_challenge(b"k" * 32, challenge, now, 12)
    assert not valid_challenge(b"k" * 32, challenge, now, 13)  # asks fewer bits than required
    assert not valid_challenge(b"x" * 32, challenge, now, 12)  # another installation's
    assert leading_zero_bits(b"\x00\x0f" + b"\xff" * 14) == 12


def test_an_ipv4_client_seen_through_an_ipv6_socket_is_the_same_client() -> None:
    from openncii.audit import client_network
    from openncii.cases.abuse import client_key, network_key

    secret = b"s" * 32
    assert client_network("::ffff:198.51.100.7") == client_network("198.51.100.7")
    assert client_network("198.51.100.7") == "198.51.100.0/24"
    assert client_network("2001:db8:1:2::5") == "2001:db8:1::/48"
    assert client_network("testclient") == "unknown"
    assert client_key(secret, "::ffff:198.51.100.7") == client_key(secret, "198.51.100.7")
    assert client_key(secret, "198.51.100.7") != client_key(secret, "198.51.100.8")
    assert client_key(secret, "2001:db8::1") == client_key(secret, "2001:db8::2")  # one /64
    assert client_key(secret, "2001:db8:0:1::1") != client_key(secret, "2001:db8::1")
    assert network_key(secret, "::ffff:198.51.100.7") == network_key(secret, "198.51.100.99")

"""PIN budgets hold exactly against real servers: 30 parallel requests to ``openncii serve`` with
1 and 2 worker processes, on SQLite and PostgreSQL. Every try is counted in the database before
its PIN is checked, in one atomic statement, so no worker and no thread can overrun a budget."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from case_helpers import CASES, STATUS, case_body
from openncii.settings import Settings
from openncii.testing import start_server

PARALLEL = 30
#: Windows of an hour, so that 30 requests never straddle two (the test waits out the end of one).
WINDOW = 3600


def _wait_for_a_quiet_window() -> None:
    left = WINDOW - time.time() % WINDOW
    if left < 60:
        time.sleep(left + 1)


def _make_legacy(database_url: str, case_number: str, pin: str) -> None:
    """Give a case an 8-digit PIN (as cases opened before PINs had 16 digits), hashed with the
    server's (fast) argon2 parameters."""
    from sqlalchemy import update

    from openncii.cases import Argon2Parameters, PinHasher
    from openncii.cases.numbers import normalize_case_number
    from openncii.db import make_engine, make_session_factory
    from openncii.db.models import Case
    from openncii.testing import FAST_ARGON2

    engine = make_engine(database_url)
    try:
        hasher = PinHasher(
            Argon2Parameters(
                time_cost=FAST_ARGON2["argon2_time_cost"],
                memory_kib=FAST_ARGON2["argon2_memory_kib"],
                parallelism=1,
            )
        )
        with make_session_factory(engine)() as session, session.begin():
            session.execute(
                update(Case)
                .where(Case.number == normalize_case_number(case_number))
                .values(pin_hash=hasher.hash(pin))
            )
    finally:
        engine.dispose()


def _statuses(base: str, bodies: list[tuple[dict[str, str], str]]) -> list[int]:
    """POST every (body, client address) at once; the status codes in order."""
    with httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)) as c:

        def send(item: tuple[dict[str, str], str]) -> int:
            body, address = item
            return c.post(STATUS, json=body, headers={"X-Forwarded-For": address}).status_code

        with ThreadPoolExecutor(PARALLEL) as pool:
            return list(pool.map(send, bodies))


def _wrong(pin: str, i: int) -> str:
    return f"{(int(pin) + 1 + i) % 10 ** len(pin):0{len(pin)}d}"


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_thirty_parallel_tries_keep_every_budget_exactly(
    fresh_database_url: str, tmp_path: Path, workers: int
) -> None:
    env = {
        Settings.env_name("trusted_proxies"): "127.0.0.1",
        Settings.env_name("pin_pause_seconds"): str(WINDOW),
        Settings.env_name("legacy_pin_window_seconds"): str(WINDOW),
        Settings.env_name("pin_hash_queue"): "64",  # no 503 here: this is about counting
    }
    with start_server(fresh_database_url, env, workers=workers, log_dir=tmp_path) as server:
        created = [httpx.post(server.base_url + CASES, json=case_body()).json() for _ in range(3)]
        _make_legacy(fresh_database_url, created[1]["case_number"], "97531864")
        _wait_for_a_quiet_window()
        new_number, pin = created[0]["case_number"], created[0]["pin"].replace("-", "")

        # One client, 29 wrong 16-digit PINs and the right one among them.
        one_client = [
            ({"case_number": new_number, "pin": pin if i == 13 else _wrong(pin, i)}, "192.0.2.1")
            for i in range(PARALLEL)
        ]
        codes = _statuses(server.base_url, one_client)
        assert codes.count(401) == 5, codes
        assert codes.count(429) + codes.count(200) == PARALLEL - 5, codes
        assert codes.count(200) <= 1

        # 30 clients, wrong 8-digit PINs for the older case: its shared budget holds too.
        legacy_number = created[1]["case_number"]
        many_clients = [
            ({"case_number": legacy_number, "pin": _wrong("97531864", i)}, f"198.51.100.{i + 1}")
            for i in range(PARALLEL)
        ]
        codes = _statuses(server.base_url, many_clients)
        assert (codes.count(401), codes.count(429)) == (5, PARALLEL - 5), codes

        # The budgets are per case number: the third case is untouched by all of this.
        third = {"case_number": created[2]["case_number"], "pin": created[2]["pin"]}
        codes = _statuses(server.base_url, [(third, "192.0.2.1")])
        assert codes == [200]

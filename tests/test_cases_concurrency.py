"""Concurrent writers on both backends: cases sharing hashes never deadlock or lose a hash, the
hash status always follows the active cases, and parallel PIN guesses cannot beat the lockout."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from case_helpers import fast_case_rules
from openncii.cases import (
    CaseRules,
    Eligibility,
    LockoutPolicy,
    PdqSubmission,
    case_status,
    create_case,
    withdraw_case,
)
from openncii.db.models import CASE_ACTIVE, HASH_ACTIVE, Case, CaseHash, HashRecord
from openncii.errors import AuthenticationError, CaseLockedError

YES = Eligibility(True, True, True, True, True)
THREADS = 8


@pytest.fixture
def rules() -> CaseRules:
    return fast_case_rules(200, LockoutPolicy())


def _now() -> datetime:
    return datetime.now(UTC)


def _parallel(count: int, job: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(min(count, THREADS))

    def run(i: int) -> Any:
        if i < THREADS:
            barrier.wait(timeout=30)
        return job(i)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(count)))


def test_concurrent_cases_sharing_hashes(db_sessions: Any, rules: CaseRules) -> None:
    rng = random.Random(7)
    pool = [f"{rng.getrandbits(256):064x}" for _ in range(12)]
    picks = [rng.sample(pool, 6) for _ in range(40)]

    def job(i: int) -> Any:
        with db_sessions() as session:
            return create_case(
                session,
                rules,
                eligibility=YES,
                hashes=[PdqSubmission(v, 90) for v in picks[i]],
                language=None,
                now=_now(),
            )

    created = _parallel(len(picks), job)
    assert all(c.hash_count == 6 for c in created)
    with db_sessions() as session:
        values = set(session.scalars(select(HashRecord.value)))
        links = session.scalar(select(func.count()).select_from(CaseHash))
        seqs = list(session.scalars(select(HashRecord.feed_seq)))
    assert values == {v for p in picks for v in p}
    assert links == 40 * 6
    assert min(seqs) >= 1


def test_concurrent_withdrawals_and_creations_keep_status_consistent(
    db_sessions: Any, rules: CaseRules
) -> None:
    rng = random.Random(11)
    pool = [f"{rng.getrandbits(256):064x}" for _ in range(6)]

    def make(values: list[str]) -> Any:
        with db_sessions() as session:
            return create_case(
                session,
                rules,
                eligibility=YES,
                hashes=[PdqSubmission(v, 90) for v in values],
                language=None,
                now=_now(),
            )

    first = [make(rng.sample(pool, 3)) for _ in range(12)]

    def job(i: int) -> None:
        if i % 2 == 0:
            case = first[i // 2]
            with db_sessions() as session:
                withdraw_case(
                    session,
                    rules,
                    b"k" * 32,
                    client=f"client-{i}",
                    case_number=case.case_number,
                    pin=case.pin,
                    now=_now(),
                )
        else:
            make(rng.sample(pool, 3))

    _parallel(24, job)
    with db_sessions() as session:
        rows = session.execute(select(HashRecord.id, HashRecord.status)).all()
        active_ids = set(
            session.scalars(
                select(CaseHash.hash_id)
                .join(Case, Case.id == CaseHash.case_id)
                .where(Case.status == CASE_ACTIVE)
            )
        )
    for hash_id, status in rows:
        assert (status == HASH_ACTIVE) == (hash_id in active_ids), (hash_id, status)


@pytest.mark.parametrize("legacy", [False, True], ids=["16-digit", "8-digit"])
def test_parallel_pin_guesses_cannot_beat_the_budget(
    db_sessions: Any, rules: CaseRules, legacy: bool
) -> None:
    """30 parallel guesses (one client for a 16-digit PIN, 30 clients for an 8-digit one) with a
    right PIN among them: exactly 5 wrong PINs are checked; a right PIN never frees a try for
    the wrong ones."""
    from sqlalchemy import update

    from openncii.cases.numbers import normalize_case_number

    now = datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)  # well inside one window
    with db_sessions() as session:
        case = create_case(
            session,
            rules,
            eligibility=YES,
            hashes=[PdqSubmission(f"{random.getrandbits(256):064x}", 90)],
            language=None,
            now=now,
        )
    pin = case.pin.replace("-", "")
    if legacy:
        pin = "13572468"
        with db_sessions() as session, session.begin():
            session.execute(
                update(Case)
                .where(Case.number == normalize_case_number(case.case_number))
                .values(pin_hash=rules.pins.hash(pin))
            )
    secret = b"s" * 32
    size = 10 ** len(pin)

    def guess(i: int) -> str:
        typed = pin if i == 13 else f"{(int(pin) + 1 + i) % size:0{len(pin)}d}"
        with db_sessions() as session:
            try:
                case_status(
                    session,
                    rules,
                    secret,
                    client=f"client-{i}" if legacy else "one client",
                    case_number=case.case_number,
                    pin=typed,
                    now=now,
                )
            except AuthenticationError:
                return "401"
            except CaseLockedError:
                return "429"
            return "200"

    answers = _parallel(30, guess)
    assert answers.count("401") == 5
    assert answers.count("200") + answers.count("429") == 25
    assert answers.count("200") <= 1

"""Writers that must see each other (SQLite and PostgreSQL): a case stored at the same moment
as a deny-list entry is added (the hash is refused or queued for review, whichever comes first:
:mod:`openncii.cases.denied`), two cases of one network stored at the same moment (each counts
the other for the bursts: :mod:`openncii.cases.bursts`).

Each test stops one writer at the dangerous point (the case: after its check of the deny-list,
or after counting its network's cases, not committed; the entry: added and scanned, not
committed) and runs the other writer there.
The other writer does not wait for a lock: it fails at once when it would have to
(``busy_timeout`` 0 on SQLite, ``lock_timeout`` 1 ms on PostgreSQL), and then runs after the
first one's commit, which is where a waiting writer would have continued. No sleeps and no
threads: the order of the steps is the order of the calls.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, delete, event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from case_helpers import fast_case_rules, open_case
from openncii.cases import (
    CaseRules,
    LockoutPolicy,
    Md5Submission,
    PdqSubmission,
    service,
)
from openncii.cases.bursts import BurstRule
from openncii.cases.denied import DeniedList
from openncii.db import make_engine, make_session_factory
from openncii.db.models import CaseHash, CaseNetwork, HashRecord, ReviewNearDenied
from openncii.errors import HashRejectedError
from openncii.review import ReviewRules, actions, deny_value, disable_hash, review_reasons
from partner_helpers import flip_pdq

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
BITS = np.random.default_rng(12)


@pytest.fixture
def rules() -> CaseRules:
    return fast_case_rules(100, LockoutPolicy(tries=100))


@pytest.fixture
def eager_sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions whose transactions fail at once where they would wait for a lock."""
    engine = make_engine(database_url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.execute("PRAGMA busy_timeout=0")

    else:

        @event.listens_for(engine, "begin")
        def _no_lock_wait(connection: Any) -> None:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '1ms'")

    yield make_session_factory(engine)
    engine.dispose()


def _case(
    sessions: Callable[[], Session], rules: CaseRules, *hashes: Any, network: str | None = None
) -> None:
    open_case(sessions, rules, *hashes, network=network, now=NOW)


def _deny(sessions: Callable[[], Session], kind: str, value: str) -> None:
    with sessions() as session:
        deny_value(session, kind, value, "not an intimate image", NOW, actor=None, network=None)


def _hash_and_entry(kind: str, seed: int) -> tuple[Any, str]:
    """A submission and a deny-list entry that refuses it: a PDQ hash 12 bits away from it, or
    the same MD5."""
    rng = random.Random(seed)
    if kind == "pdq":
        submission = PdqSubmission(f"{rng.getrandbits(256):064x}", 90)
        return submission, flip_pdq(submission.value, 12, BITS)
    submission = Md5Submission(f"{rng.getrandbits(128):032x}")
    return submission, submission.value


def _refused_or_queued(sessions: Callable[[], Session], rules: CaseRules, value: str) -> str:
    """What became of the hash: ``refused`` (not stored), ``queued`` (in the review queue,
    near or equal to an entry) or ``escaped``."""
    with sessions() as session:
        hash_id = session.scalar(select(HashRecord.id).where(HashRecord.value == value))
    if hash_id is None:
        return "refused"
    with sessions() as session:
        reasons = review_reasons(session, ReviewRules(), rules.denylist, NOW)
    codes = [r.code for r in reasons.get(hash_id, [])]
    return "queued" if "near_denied" in codes else "escaped"


def _after_check(monkeypatch: pytest.MonkeyPatch, step: Callable[[], None]) -> None:
    """Run ``step`` once, right after the next case creation has checked the deny-list."""
    original = DeniedList.first_refused

    def checked(self: DeniedList, hashes: Sequence[tuple[str, str]]) -> int | None:
        found = original(self, hashes)
        monkeypatch.setattr(DeniedList, "first_refused", original)
        step()
        return found

    monkeypatch.setattr(DeniedList, "first_refused", checked)


@pytest.mark.parametrize("kind", ["pdq", "md5"])
def test_an_entry_added_after_the_check_of_a_case_being_stored_sees_the_case(
    db_sessions: Any,
    eager_sessions: Any,
    rules: CaseRules,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    submission, entry = _hash_and_entry(kind, 1)
    waited: list[str] = []

    def add_entry() -> None:
        try:
            _deny(eager_sessions, kind, entry)
        except OperationalError:
            waited.append("entry")

    _after_check(monkeypatch, add_entry)
    _case(db_sessions, rules, submission)
    if waited:  # the entry had to wait for the case: it comes now, after the case's commit
        _deny(db_sessions, kind, entry)
    assert _refused_or_queued(db_sessions, rules, submission.value) == "queued"
    assert waited == ["entry"]  # ordered by the lock, not by luck


@pytest.mark.parametrize("kind", ["pdq", "md5"])
def test_a_case_checked_while_an_entry_is_added_sees_the_entry(
    db_sessions: Any, eager_sessions: Any, rules: CaseRules, kind: str
) -> None:
    submission, entry = _hash_and_entry(kind, 2)
    waited: list[str] = []

    def store_case(_session: Session) -> None:
        try:
            _case(eager_sessions, rules, submission)
        except OperationalError:
            waited.append("case")

    with db_sessions() as session:
        # The entry is added and its scan done; the case comes before the entry's commit.
        event.listen(session, "before_commit", store_case, once=True)
        deny_value(session, kind, entry, "a logo", NOW, actor=None, network=None)
    if waited:  # the case had to wait for the entry: it comes now, after the entry's commit
        with pytest.raises(HashRejectedError, match="helpline has stopped"):
            _case(db_sessions, rules, submission)
    assert _refused_or_queued(db_sessions, rules, submission.value) == "refused"
    assert waited == ["case"]


def test_disabling_with_the_deny_list_is_ordered_against_a_case_too(
    db_sessions: Any, eager_sessions: Any, rules: CaseRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disable + deny takes the deny-list's lock before the hash's row lock (a case holding the
    shared lock may be waiting for that row): the case sharing the hash is stored first, then
    the hash is disabled with every case that holds it."""
    submission, _ = _hash_and_entry("pdq", 3)
    _case(db_sessions, rules, submission)
    with db_sessions() as session:
        hash_id = session.scalar(select(HashRecord.id).where(HashRecord.value == submission.value))
    assert hash_id is not None
    waited: list[str] = []

    def disable() -> None:
        try:
            with eager_sessions() as session:
                disable_hash(session, hash_id, "a logo", NOW, deny=True, actor=None, network=None)
        except OperationalError:
            waited.append("disable")

    _after_check(monkeypatch, disable)
    _case(db_sessions, rules, submission)  # a second case with the same hash
    assert waited == ["disable"]
    with db_sessions() as session:
        disable_hash(session, hash_id, "a logo", NOW, deny=True, actor=None, network=None)
    with pytest.raises(HashRejectedError):
        _case(db_sessions, rules, submission)
    with db_sessions() as session:
        assert session.scalar(select(HashRecord.status).where(HashRecord.id == hash_id)) == (
            "disabled"
        )


def test_two_cases_of_one_network_stored_at_the_same_moment_count_each_other(
    db_sessions: Any, eager_sessions: Any, rules: CaseRules, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of 2: the first case has counted its network's cases and is not committed when
    the second one comes. The second waits for it (the network's lock) and counts it."""
    pair = BurstRule(cases=2, minutes=60)
    paired = replace(rules, bursts=pair)
    rng = random.Random(4)
    first, second = (PdqSubmission(f"{rng.getrandbits(256):064x}", 90) for _ in range(2))
    network = "c" * 64
    waited: list[str] = []
    original = service.flag_burst

    def counted(connection: Connection, *args: Any) -> None:
        original(connection, *args)
        monkeypatch.setattr(service, "flag_burst", original)
        try:
            _case(eager_sessions, paired, second, network=network)
        except OperationalError:
            waited.append("second")

    monkeypatch.setattr(service, "flag_burst", counted)
    _case(db_sessions, paired, first, network=network)
    if waited:  # the second case had to wait for the first: it comes now
        _case(db_sessions, paired, second, network=network)
    with db_sessions() as session:
        flags = session.execute(select(CaseNetwork.burst)).scalars().all()
    assert flags == [True, True]
    assert waited == ["second"]


@pytest.mark.parametrize("kind", ["pdq", "md5"])
def test_a_case_stored_while_an_entry_searches_the_bank_is_flagged(
    kind: str,
    monkeypatch: pytest.MonkeyPatch,
    rules: CaseRules,
    db_sessions: Any,
    eager_sessions: Any,
) -> None:
    """Adding an entry searches the bank before it takes the deny-list's lock (new cases wait
    only for what follows): a case committed between the two is searched again under the lock
    (the hashes stamped since the first search). On SQLite the entry's transaction holds the
    database from its start, so the case waits for it and is refused."""
    submission, entry = _hash_and_entry(kind, 5)
    waited: list[str] = []
    original = actions.lock_denied_for_adding

    def store_first(session: Session) -> None:
        monkeypatch.setattr(actions, "lock_denied_for_adding", original)
        try:
            _case(eager_sessions, rules, submission)
        except OperationalError:
            waited.append("case")
        original(session)

    monkeypatch.setattr(actions, "lock_denied_for_adding", store_first)
    _deny(db_sessions, kind, entry)
    if waited:
        with pytest.raises(HashRejectedError):
            _case(db_sessions, rules, submission)
    outcome = _refused_or_queued(db_sessions, rules, submission.value)
    with db_sessions() as session:
        sqlite = session.get_bind().dialect.name == "sqlite"
    assert (waited, outcome) == ((["case"], "refused") if sqlite else ([], "queued"))


def test_a_hash_purged_while_an_entry_searches_the_bank_is_left_out(
    monkeypatch: pytest.MonkeyPatch, rules: CaseRules, db_sessions: Any, eager_sessions: Any
) -> None:
    """The retention purge deletes a hash the entry's first search found: the entry is added
    and the flag left out (not a foreign-key error). SQLite: the purge waits for the entry."""
    submission, entry = _hash_and_entry("pdq", 6)
    _case(db_sessions, rules, submission)
    with db_sessions() as session:
        hash_id = session.scalar(select(HashRecord.id).where(HashRecord.value == submission.value))
    waited: list[str] = []
    original = actions.lock_denied_for_adding

    def purge_first(session: Session) -> None:
        monkeypatch.setattr(actions, "lock_denied_for_adding", original)
        try:
            with eager_sessions() as other, other.begin():
                other.execute(delete(CaseHash).where(CaseHash.hash_id == hash_id))
                other.execute(delete(HashRecord).where(HashRecord.id == hash_id))
        except OperationalError:
            waited.append("purge")
        original(session)

    monkeypatch.setattr(actions, "lock_denied_for_adding", purge_first)
    _deny(db_sessions, "pdq", entry)
    with db_sessions() as session:
        flagged = session.scalars(select(ReviewNearDenied.hash_id)).all()
        sqlite = session.get_bind().dialect.name == "sqlite"
    assert (waited, flagged) == ((["purge"], [hash_id]) if sqlite else ([], []))

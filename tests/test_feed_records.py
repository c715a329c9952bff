"""PostgreSQL's cached feed records (migration 0004): after every kind of write, each hash's cached
JSON text is the record a fresh build gives, both the database's (``feed_record_body``) and the
Python one (the SQLite path), and the feed serves exactly those records. Records whose cache entry
is missing or stale are still served right (built on read)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import text

from case_helpers import CASES, WITHDRAW, case_body, md5_item, pdq_item, random_pdq, vpdq_item
from openncii.db import make_engine, migrate
from openncii.db.migrate import downgrade
from openncii.feed import purge_withdrawn, rebuild_record_cache
from openncii.feed.pages import build_records
from openncii.partners import record_feedback, revoke_partner
from openncii.testing import FakeClock
from partner_helpers import FEEDBACK, SUBMIT, FeedReader, key_headers, new_partner

pytestmark = pytest.mark.postgres

_ROWS = text(
    "SELECT h.id, h.feed_seq, h.signal_type, h.value, h.payload, h.status, "
    "floor(extract(epoch FROM h.updated_at))::bigint, c.feed_seq, c.body, feed_record_body(h) "
    "FROM hashes h LEFT JOIN feed_record_cache c ON c.hash_id = h.id ORDER BY h.id"
)


@pytest.fixture
def database_url(fresh_postgres_url: str) -> str:
    """PostgreSQL only (SQLite has no record cache); overrides conftest's fixture."""
    engine = make_engine(fresh_postgres_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    return fresh_postgres_url


def assert_cache_is_fresh(sessions: Any) -> list[dict[str, Any]]:
    """Every hash has a cache entry at its current feed position whose text is the database's
    fresh build and, parsed, the Python build. Returns the records (parsed)."""
    with sessions() as session, session.begin():
        connection = session.connection()
        rows = connection.execute(_ROWS).all()
        python = build_records(connection, [tuple(r[:7]) for r in rows])
        orphans = connection.execute(
            text(
                "SELECT count(*) FROM feed_record_cache "
                "WHERE hash_id NOT IN (SELECT id FROM hashes)"
            )
        ).scalar_one()
    assert orphans == 0
    records = []
    for row, built in zip(rows, python, strict=True):
        hash_id, seq, cached_seq, cached, fresh = row[0], row[1], row[7], row[8], row[9]
        assert cached_seq == seq, f"hash {hash_id}: cache entry at {cached_seq}, hash at {seq}"
        assert cached == fresh, f"hash {hash_id}: cached {cached} != fresh {fresh}"
        assert orjson.loads(cached) == built, f"hash {hash_id}"
        records.append(built)
    return records


def assert_served(client: Any, key: str, sessions: Any, page_size: int = 3) -> None:
    """A full fetch returns exactly the fresh records, each once."""
    expected = assert_cache_is_fresh(sessions)
    received = FeedReader(client, key, page_size=page_size).fetch()
    key_of = lambda r: (r["signalType"], r["hashValue"])  # noqa: E731
    assert sorted(received, key=key_of) == sorted(expected, key=key_of)


@pytest.fixture
def feed(api_client: Any, db_sessions: Any, clock: FakeClock) -> Iterator[tuple[Any, str]]:
    client = api_client(clock=clock, feed_purge_interval_seconds=0)
    yield client, new_partner(db_sessions, "Reader")


def _open(client: Any, *hashes: dict[str, Any]) -> dict[str, Any]:
    response = client.post(CASES, json=case_body(*hashes))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _withdraw(client: Any, case: dict[str, Any]) -> None:
    body = {"case_number": case["case_number"], "pin": case["pin"]}
    assert client.post(WITHDRAW, json=body).status_code == 200


def _feedback(client: Any, key: str, *items: tuple[str, str, list[str]]) -> None:
    body = {
        "count": len(items),
        "hashFeedbacks": [
            {"hashValue": h, "feedbackValue": v, "tags": tags} for h, v, tags in items
        ],
    }
    response = client.post(FEEDBACK, json=body, headers=key_headers(key))
    assert response.status_code == 200, response.text


def test_every_kind_of_write_leaves_the_cache_fresh(
    feed: tuple[Any, str], db_sessions: Any, clock: FakeClock
) -> None:
    client, reader = feed
    shared, own, md5 = random_pdq(), random_pdq(), md5_item()
    # Case creation: new hashes, a vPDQ signature, a hash two cases share.
    first = _open(client, pdq_item(shared), pdq_item(own), md5)
    assert_served(client, reader, db_sessions)
    second = _open(client, pdq_item(shared), vpdq_item(frames=4))
    assert_served(client, reader, db_sessions)
    # Feedback from two partners (sorted by name in CSPFeedbacks), then changed.
    zeta, alpha = new_partner(db_sessions, "Zeta"), new_partner(db_sessions, "Alpha & Co")
    _feedback(client, zeta, (shared, "Blocked", ["a", 'quote"d']), (md5["value"], "None", []))
    _feedback(client, alpha, (shared, "PendingReview", []))
    assert_served(client, reader, db_sessions)
    _feedback(client, zeta, (shared, "NotBlocked", ["é", "b"]))
    assert_served(client, reader, db_sessions)
    # Feedback through the partners service (the helpline's tools).
    with db_sessions() as session:
        assert record_feedback(session, 1, "pdq", own, "Blocked", ["tool"], clock())
    assert_served(client, reader, db_sessions)
    # Withdrawal: the shared hash stays active (its caseNumbers change), the others withdraw.
    _withdraw(client, first)
    records = assert_cache_is_fresh(db_sessions)
    statuses = {r["hashValue"]: r["hashStatus"] for r in records}
    assert statuses[shared] == "Active" and statuses[own] == "Withdrawn"
    assert_served(client, reader, db_sessions)
    # A withdrawn hash opened again by a new case is active again.
    _open(client, pdq_item(own))
    assert_served(client, reader, db_sessions)
    # SubmitHashes: the partner's feedback is written after the hashes are stamped.
    trusted = new_partner(db_sessions, "Trusted", can_submit=True)
    body = {
        "count": 2,
        "hashRecords": [
            {
                "signalType": "ImagePDQ",
                "hashValue": random_pdq(),
                "CSPFeedbacks": [{"feedbackValue": "Blocked", "tags": ["reviewed"]}],
            },
            {"signalType": "ImagePDQ", "hashValue": shared},
        ],
    }
    assert client.post(SUBMIT, json=body, headers=key_headers(trusted)).status_code == 200
    records = assert_cache_is_fresh(db_sessions)
    submitted = next(r for r in records if r["hashValue"] == body["hashRecords"][0]["hashValue"])
    assert submitted["CSPFeedbacks"] == [
        {"feedbackValue": "Blocked", "tags": ["reviewed"], "source": "Trusted"}
    ]
    assert_served(client, reader, db_sessions)
    # Revoking a partner changes no record (its feedback stays, under its name).
    with db_sessions() as session:
        revoke_partner(session, "Zeta", clock())
    assert_served(client, reader, db_sessions)
    # The retention purge removes the hashes and their cache entries.
    _withdraw(client, second)
    clock.advance(days=31)
    with db_sessions() as session:
        assert purge_withdrawn(session, clock(), timedelta(days=30)) > 0
    assert_served(client, reader, db_sessions)


def test_missing_or_stale_entries_are_built_on_read_and_rebuilt(
    feed: tuple[Any, str], db_sessions: Any
) -> None:
    client, reader = feed
    for _ in range(4):
        _open(client, pdq_item(), md5_item())
    expected = assert_cache_is_fresh(db_sessions)
    with db_sessions() as session, session.begin():
        session.execute(text("DELETE FROM feed_record_cache WHERE hash_id % 3 = 0"))
        session.execute(text("UPDATE feed_record_cache SET body = '{}' WHERE hash_id % 3 = 1"))
        # A stale entry (an older position) is not served, even with a wrong body.
        session.execute(text("UPDATE feed_record_cache SET feed_seq = feed_seq - 1"))
    received = FeedReader(client, reader, page_size=3).fetch()
    key_of = lambda r: (r["signalType"], r["hashValue"])  # noqa: E731
    assert sorted(received, key=key_of) == sorted(expected, key=key_of)
    with db_sessions() as session:
        assert rebuild_record_cache(session) == len(expected)
    assert_served(client, reader, db_sessions)


def test_the_migration_fills_the_cache_of_existing_records(
    feed: tuple[Any, str], database_url: str, db_sessions: Any
) -> None:
    client, reader = feed
    zeta = new_partner(db_sessions, "Zeta")
    pdq = pdq_item()
    case = _open(client, pdq, md5_item(), vpdq_item())
    _open(client, pdq_item())
    _feedback(client, zeta, (pdq["value"], "Blocked", []))
    _withdraw(client, case)
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0003")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM feed_record_cache")).scalar() == 0
        migrate(engine)
    finally:
        engine.dispose()
    assert_served(client, reader, db_sessions)

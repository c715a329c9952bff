"""Hash review (domain, SQLite and PostgreSQL): the queue and its four reasons, disabling a
photo's hashes (the feed's Deleted), re-enabling them, the helpline's deny-list at case
creation, and refusals that change nothing."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, func, insert, select

from case_helpers import fast_case_rules, open_case
from openncii.audit import list_audit
from openncii.cases import (
    CaseRules,
    DenyList,
    LockoutPolicy,
    Md5Submission,
    PdqSubmission,
    PhotoSubmission,
    VariantSubmission,
    case_status,
    withdraw_case,
)
from openncii.cases.abuse import client_key
from openncii.cases.bursts import BurstRule
from openncii.db.models import (
    HASH_ACTIVE,
    HASH_DISABLED,
    HASH_WITHDRAWN,
    AuditEntry,
    CaseHash,
    CaseNetwork,
    DeniedHash,
    DisabledHash,
    HashRecord,
    ReviewNearDenied,
)
from openncii.errors import HashNotFoundError, HashRejectedError, InvalidHashError, ReviewError
from openncii.feed.pages import build_records
from openncii.partners import add_partner, record_feedback
from openncii.review import (
    Reason,
    ReviewRules,
    deny_value,
    disable_hash,
    enable_hash,
    list_denied,
    list_disabled,
    open_hash,
    remove_denied,
    review_queue,
    review_reasons,
)
from openncii.review.bursts import find_bursts, marks, sync_bursts
from openncii.review.near import flag_helpline_equal, sync_shipped
from openncii.review.queue import _median, _network_bursts
from openncii.signals.hexcode import short_hash
from openncii.signals.pdq import MATCH_THRESHOLD
from openncii.signals.registry import PDQ_KEYS
from partner_helpers import flip_pdq

NOW = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SECRET = b"s" * 32
KINDS = ("full", "square", "strip", "trim")
BITS = np.random.default_rng(9)


@pytest.fixture
def rules() -> CaseRules:
    return fast_case_rules(100, LockoutPolicy(tries=100))


def _pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def _photo(rng: random.Random) -> PhotoSubmission:
    return PhotoSubmission(tuple(VariantSubmission(_pdq(rng), k, 90) for k in KINDS))


def _case(
    sessions: Any, rules: CaseRules, *hashes: Any, network: str | None = None, now: datetime = NOW
) -> Any:
    return open_case(sessions, rules, *hashes, network=network, now=now)


def _status(sessions: Any, rules: CaseRules, created: Any, *, withdraw: bool = False) -> Any:
    """The case's status as its owner sees it (after withdrawing it, with ``withdraw``)."""
    with sessions() as session:
        return (withdraw_case if withdraw else case_status)(
            session,
            rules,
            SECRET,
            client=client_key(SECRET, "192.0.2.1"),
            case_number=created.case_number,
            pin=created.pin,
            now=NOW,
        )


def _id(sessions: Any, value: str) -> int:
    with sessions() as session:
        return int(session.scalars(select(HashRecord.id).where(HashRecord.value == value)).one())


def _statuses(sessions: Any, values: list[str]) -> list[str]:
    with sessions() as session:
        rows = session.execute(
            select(HashRecord.value, HashRecord.status).where(HashRecord.value.in_(values))
        )
        by_value = dict(rows.all())
    return [by_value[v] for v in values]


def _wire(sessions: Any, value: str) -> str:
    """The hashStatus the feed sends for the hash (the records built in Python: the same
    on both backends' answers, as the feed tests prove)."""
    with sessions() as session, session.begin():
        row = session.execute(
            select(
                HashRecord.id,
                HashRecord.feed_seq,
                HashRecord.signal_type,
                HashRecord.value,
                HashRecord.payload,
                HashRecord.status,
                func.cast(0, HashRecord.feed_seq.type),
            ).where(HashRecord.value == value)
        ).one()
        (built,) = build_records(session.connection(), [tuple(row)])
    return str(built["hashStatus"])


def _audit(sessions: Any) -> list[tuple[str, str | None, str | None]]:
    with sessions() as session:
        rows, _ = list_audit(session)
    return [(r.action, r.target, r.actor) for r in reversed(rows)]


def test_disable_takes_the_photos_hashes_out_until_an_admin_enables_them(
    db_sessions: Any, rules: CaseRules
) -> None:
    rng = random.Random(1)
    photo, other = _photo(rng), PdqSubmission(_pdq(rng), 90)
    values = [v.pdq for v in photo.variants]
    mine = _case(db_sessions, rules, photo, other)
    # A second person's case holds the same photo (and so the same hashes).
    theirs = _case(db_sessions, rules, photo)
    full = _id(db_sessions, values[0])
    with db_sessions() as session:
        assert (
            disable_hash(
                session,
                full,
                "  a cartoon,\n not an intimate image ",
                NOW,
                actor="ana@example.org",
                network="192.0.2.0/24",
            )
            == 4
        )
    assert _statuses(db_sessions, values) == [HASH_DISABLED] * 4
    assert _statuses(db_sessions, [other.value]) == [HASH_ACTIVE]
    assert _wire(db_sessions, values[0]) == "Deleted"
    assert _wire(db_sessions, other.value) == "Active"
    shown = _status(db_sessions, rules, mine)
    assert [h.disabled for h in shown.hashes] == [True] * 4 + [False]
    assert all(h.disabled for h in _status(db_sessions, rules, theirs).hashes)
    with db_sessions() as session:
        (entry, *rest) = list_disabled(session)
    assert len(rest) == 3
    assert entry.reason == "a cartoon, not an intimate image"
    assert entry.chosen_hash_id == full and entry.disabled_by == "ana@example.org"
    assert _audit(db_sessions) == [("hash.disable", values[0][:8], "ana@example.org")]
    with db_sessions() as session:
        detail = session.scalars(select(AuditEntry.detail)).one()
    assert detail == "a cartoon, not an intimate image (4 hashes of the photo)"
    assert values[0] not in detail

    # Disabled stays disabled: a new case with the photo, the first case withdrawn.
    _case(db_sessions, rules, photo)
    _status(db_sessions, rules, mine, withdraw=True)
    assert _statuses(db_sessions, [*values, other.value]) == [HASH_DISABLED] * 4 + [HASH_WITHDRAWN]
    # Disabling again changes nothing; re-enabling by a variant brings the photo back.
    with db_sessions() as session:
        assert disable_hash(session, full, "again", NOW, actor="ana@example.org", network=None) == 0
    variant = _id(db_sessions, values[2])
    with db_sessions() as session:
        assert enable_hash(session, variant, NOW, actor="lead@example.org", network=None) == 4
    assert _statuses(db_sessions, values) == [HASH_ACTIVE] * 4  # other cases hold them
    assert _wire(db_sessions, values[0]) == "Active"
    with db_sessions() as session:
        assert session.scalar(select(func.count()).select_from(DisabledHash)) == 0
    with db_sessions() as session, pytest.raises(ReviewError, match="not disabled"):
        enable_hash(session, variant, NOW, actor="lead@example.org", network=None)
    assert [a for a, _, _ in _audit(db_sessions)] == ["hash.disable", "hash.disable", "hash.enable"]


def test_a_hash_of_no_active_case_comes_back_withdrawn(db_sessions: Any, rules: CaseRules) -> None:
    rng = random.Random(2)
    item = PdqSubmission(_pdq(rng), 90)
    created = _case(db_sessions, rules, item)
    hash_id = _id(db_sessions, item.value)
    with db_sessions() as session:
        disable_hash(session, hash_id, "not intimate", NOW, actor=None, network=None)
        _status(db_sessions, rules, created, withdraw=True)
        enable_hash(session, hash_id, NOW + timedelta(hours=1), actor=None, network=None)
        row = session.get(HashRecord, hash_id)
        assert row is not None
        assert (row.status, row.withdrawn_at) == (HASH_WITHDRAWN, NOW)
    assert _wire(db_sessions, item.value) == "Withdrawn"


def test_the_deny_list_refuses_near_duplicates_at_case_creation(
    db_sessions: Any, rules: CaseRules
) -> None:
    rng = random.Random(3)
    photo = _photo(rng)
    video = Md5Submission(f"{rng.getrandbits(128):032x}")
    _case(db_sessions, rules, photo, video)
    full = _id(db_sessions, photo.variants[0].pdq)
    with db_sessions() as session:
        disable_hash(session, full, "a meme", NOW, deny=True, actor="ana@example.org", network=None)
        deny_value(
            session,
            "md5",
            video.value.upper(),
            "a film trailer",
            NOW,
            actor="ana@example.org",
            network=None,
        )
        entries = list_denied(session)
    assert next((e.signal_type, e.prefix) for e in entries) == ("md5", video.value[:8])
    assert {e.signal_type for e in entries} == {"pdq", "md5"}
    assert len(entries) == 5  # the photo's four PDQ hashes (any kind) and the MD5
    near = flip_pdq(photo.variants[0].pdq, 20, BITS)
    fresh = PdqSubmission(_pdq(rng), 90)
    with pytest.raises(HashRejectedError, match="helpline has stopped") as refused:
        _case(db_sessions, rules, fresh, PdqSubmission(near, 90))
    assert refused.value.index == 1
    with pytest.raises(HashRejectedError) as refused:
        _case(db_sessions, rules, fresh, Md5Submission(video.value))
    assert refused.value.index == 1
    # A variant of another photo near a deny-listed square is refused too (any PDQ kind).
    square = flip_pdq(photo.variants[1].pdq, 5, BITS)
    with pytest.raises(HashRejectedError):
        _case(db_sessions, rules, PhotoSubmission((VariantSubmission(square, "strip", 90),)))
    with db_sessions() as session:
        assert session.scalar(select(func.count()).where(HashRecord.value == fresh.value)) == 0
    with db_sessions() as session:
        md5_entry = next(e for e in list_denied(session) if e.signal_type == "md5")
        remove_denied(session, md5_entry.id, NOW, actor="lead@example.org", network=None)
    _case(db_sessions, rules, fresh, Md5Submission(video.value))  # accepted again
    assert [a for a, _, _ in _audit(db_sessions)] == [
        "hash.disable",
        "hash.deny",
        "hash.deny",
        "hash.undeny",
    ]


def test_bad_input_changes_nothing(db_sessions: Any, rules: CaseRules) -> None:
    rng = random.Random(4)
    item = PdqSubmission(_pdq(rng), 90)
    _case(db_sessions, rules, item)
    hash_id = _id(db_sessions, item.value)
    with db_sessions() as session:
        with pytest.raises(HashNotFoundError):
            disable_hash(session, hash_id + 1000, "reason", NOW, actor=None, network=None)
        with pytest.raises(HashNotFoundError):
            open_hash(session, hash_id + 1000, NOW, actor=None, network=None)
        with pytest.raises(HashNotFoundError):
            enable_hash(session, hash_id + 1000, NOW, actor=None, network=None)
        with pytest.raises(ReviewError, match="reason"):
            disable_hash(session, hash_id, " \n ", NOW, actor=None, network=None)
        with pytest.raises(ReviewError, match="500"):
            disable_hash(session, hash_id, "x" * 501, NOW, actor=None, network=None)
        with pytest.raises(InvalidHashError):
            deny_value(session, "pdq", "abc", "reason", NOW, actor=None, network=None)
        with pytest.raises(ReviewError):
            deny_value(session, "vpdq", item.value, "reason", NOW, actor=None, network=None)
        with pytest.raises(HashNotFoundError):
            remove_denied(session, 12345, NOW, actor=None, network=None)
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert session.scalar(select(func.count()).select_from(DeniedHash)) == 0
        assert session.scalar(select(func.count()).select_from(DisabledHash)) == 0
    assert _statuses(db_sessions, [item.value]) == [HASH_ACTIVE]
    with db_sessions() as session:
        opened = open_hash(session, hash_id, NOW, actor="ana@example.org", network="shell")
    assert (opened.value, opened.status) == (item.value, HASH_ACTIVE)
    assert _audit(db_sessions) == [("hash.open", item.value[:8], "ana@example.org")]


def test_the_queue_says_why_each_hash_is_in_it(db_sessions: Any, rules: CaseRules) -> None:
    rng = random.Random(5)
    with db_sessions() as session:
        partners = [add_partner(session, f"P{i}", NOW).partner.id for i in range(5)]
    singles = [PdqSubmission(_pdq(rng), 90) for _ in range(8)]
    for item in singles:
        _case(db_sessions, rules, item, now=NOW - timedelta(days=3))
    refused, frequent, near = singles[0], singles[1], singles[2]
    outcomes: list[tuple[str, int, str]] = [
        (refused.value, partners[0], "NotBlocked"),
        (refused.value, partners[1], "NotBlocked"),
        (singles[3].value, partners[0], "NotBlocked"),  # one partner: not enough
        *((frequent.value, p, "Blocked" if p % 2 else "PendingReview") for p in partners[:4]),
        *((s.value, partners[0], "Blocked") for s in singles[3:]),
        (singles[4].value, partners[1], "Blocked"),
    ]
    with db_sessions() as session:
        for value, partner, outcome in outcomes:
            assert record_feedback(session, partner, "pdq", value, outcome, [], NOW)
        deny_value(
            session, "pdq", flip_pdq(near.value, 25, BITS), "a logo", NOW, actor=None, network=None
        )
    # Ten cases from one network in 50 minutes; nine from another.
    burst = [PdqSubmission(_pdq(rng), 90) for _ in range(10)]
    for minute, item in enumerate(burst):
        _case(db_sessions, rules, item, network="a" * 64, now=NOW - timedelta(minutes=5 * minute))
    for minute in range(9):
        _case(
            db_sessions,
            rules,
            PdqSubmission(_pdq(rng), 90),
            network="b" * 64,
            now=NOW - timedelta(minutes=minute),
        )
    with db_sessions() as session:
        queue = review_queue(session, ReviewRules(), rules.denylist, NOW)
    by_value = {i.prefix: i for i in queue.items}
    assert len(queue.items) == 13
    assert [(r.code, r.figures) for r in by_value[refused.value[:8]].reasons] == [
        ("not_blocked", {"partners": 2})
    ]
    # Outcomes per hash with a match: 4, then 1 or 2 (median 1): 4 >= max(3, 3 x 1).
    assert [(r.code, r.figures) for r in by_value[frequent.value[:8]].reasons] == [
        ("frequent_match", {"partners": 4, "median": 1.0})
    ]
    ((code, figures),) = [(r.code, r.figures) for r in by_value[near.value[:8]].reasons]
    assert code == "near_denied"
    assert figures["distance"] == 25 and figures["source"] == "helpline"
    for item in burst:
        (reason,) = by_value[item.value[:8]].reasons
        assert (reason.code, reason.figures) == (
            "network_burst",
            {"cases": 10, "minutes": 60, "network": "aaaaaaaa"},
        )
    assert all(i.cases == 1 and i.status == HASH_ACTIVE for i in queue.items)
    assert queue.items[0].created_at == NOW  # the newest first (one reason each)
    # A disabled hash leaves the queue.
    with db_sessions() as session:
        disable_hash(
            session, _id(db_sessions, refused.value), "cartoon", NOW, actor=None, network=None
        )
        again = review_queue(session, ReviewRules(), rules.denylist, NOW)
        assert refused.value[:8] not in {i.prefix for i in again.items}
        assert session.scalar(select(func.count()).select_from(CaseNetwork)) == 19


def test_median_and_bursts() -> None:
    assert _median([]) == 0.0
    assert _median([(1, 3), (2, 1)]) == 1.0
    assert _median([(1, 1), (3, 1)]) == 2.0
    assert _median([(1, 2), (5, 2), (9, 1)]) == 5.0
    minute = timedelta(minutes=1)
    times = [NOW + minute * m for m in (0, 1, 2, 30, 31, 32, 33, 120, 121)]
    cases = [(t, i) for i, t in enumerate(times)]
    assert list(find_bursts(cases, 10 * minute, 3)) == [[0, 1, 2], [3, 4, 5, 6]]
    assert list(find_bursts(cases, 10 * minute, 4)) == [[3, 4, 5, 6]]
    assert list(find_bursts(cases, 200 * minute, 9)) == [list(range(9))]
    assert list(find_bursts(cases, 200 * minute, 10)) == []


def _stored_flags(sessions: Any) -> set[tuple[str, str, int, int]]:
    with sessions() as session:
        rows = session.execute(
            select(
                ReviewNearDenied.source,
                ReviewNearDenied.entry,
                ReviewNearDenied.hash_id,
                ReviewNearDenied.distance,
            )
        )
        return {(str(a), str(b), int(c), int(d)) for a, b, c, d in rows}


def _brute_force_flags(sessions: Any, shipped: DenyList) -> set[tuple[str, str, int, int]]:
    """Every (source, entry, hash, distance) within the threshold, pair by pair."""
    with sessions() as session:
        hashes = session.execute(
            select(HashRecord.id, HashRecord.value).where(
                HashRecord.signal_type.in_(sorted(PDQ_KEYS))
            )
        ).all()
        own = session.scalars(select(DeniedHash.value).where(DeniedHash.signal_type == "pdq"))
        entries = [("shipped", f"{e:064x}") for e in shipped.entries]
        entries += [("helpline", value) for value in own]
    found = set()
    for source, entry in entries:
        for hash_id, value in hashes:
            distance = (int(entry, 16) ^ int(value, 16)).bit_count()
            if distance <= MATCH_THRESHOLD:
                found.add((source, entry, int(hash_id), distance))
    return found


def test_the_stored_near_flags_equal_a_brute_force_scan(db_sessions: Any, rules: CaseRules) -> None:
    rng = random.Random(6)
    photos = [_photo(rng) for _ in range(3)]
    singles = [PdqSubmission(_pdq(rng), 90) for _ in range(4)]
    for photo in photos:
        _case(db_sessions, rules, photo, singles.pop())
    shipped = DenyList(entries=())
    with db_sessions() as session:
        assert review_reasons(session, ReviewRules(), shipped, NOW) == {}
    assert _stored_flags(db_sessions) == set()
    # Entries near stored hashes (by value, and by disabling a photo's hashes).
    near = flip_pdq(photos[0].variants[1].pdq, 12, BITS)
    with db_sessions() as session:
        deny_value(session, "pdq", near, "a logo", NOW, actor=None, network=None)
        deny_value(session, "pdq", flip_pdq(near, 5, BITS), "again", NOW, actor=None, network=None)
        deny_value(session, "md5", "a" * 32, "not a pdq", NOW, actor=None, network=None)
    disabled = _id(db_sessions, photos[1].variants[0].pdq)
    with db_sessions() as session:
        disable_hash(session, disabled, "abuse", NOW, actor=None, network=None, deny=True)
    flags = _stored_flags(db_sessions)
    assert flags == _brute_force_flags(db_sessions, shipped)
    assert {h for _, _, h, _ in flags} >= {
        _id(db_sessions, photos[0].variants[1].pdq),
        *(_id(db_sessions, v.pdq) for v in photos[1].variants),
    }
    # New cases: one far from every entry (no flag), one near is refused.
    _case(db_sessions, rules, PdqSubmission(_pdq(rng), 90))
    with pytest.raises(HashRejectedError):
        _case(db_sessions, rules, PdqSubmission(flip_pdq(near, 20, BITS), 90))
    assert _stored_flags(db_sessions) == _brute_force_flags(db_sessions, shipped)
    # Removing an entry removes its flags only.
    with db_sessions() as session:
        first = [e for e in list_denied(session) if e.signal_type == "pdq"][-1]
        remove_denied(session, first.id, NOW, actor=None, network=None)
    assert _stored_flags(db_sessions) == _brute_force_flags(db_sessions, shipped)
    # The shipped list: scanned at the first read after it changed, then kept.
    target = photos[2].variants[3].pdq
    changed = DenyList(entries=(int(flip_pdq(target, 7, BITS), 16),))
    with db_sessions() as session:
        reasons = review_reasons(session, ReviewRules(), changed, NOW)
    assert _stored_flags(db_sessions) == _brute_force_flags(db_sessions, changed)
    near_reason = reasons[_id(db_sessions, target)][0]
    assert (near_reason.code, near_reason.figures["source"]) == ("near_denied", "shipped")
    assert near_reason.figures["distance"] == 7
    with db_sessions() as session, session.begin():
        assert not sync_shipped(session.connection(), changed)
        assert sync_shipped(session.connection(), shipped)
    assert _stored_flags(db_sessions) == _brute_force_flags(db_sessions, shipped)
    # A hash deleted (the retention purge) takes its flags with it.
    gone = _id(db_sessions, photos[0].variants[1].pdq)
    with db_sessions() as session, session.begin():
        session.execute(delete(HashRecord).where(HashRecord.id == gone))
    flags = _stored_flags(db_sessions)
    assert flags == _brute_force_flags(db_sessions, shipped)
    assert gone not in {h for _, _, h, _ in flags}


def test_the_burst_query_finds_the_bursts_of_every_network(
    db_sessions: Any, rules: CaseRules
) -> None:
    """Networks with cases at random times (some exactly a window apart): the networks the
    query reports are those where the Python pass over all their cases finds a burst."""
    rng = random.Random(12)
    created = [_case(db_sessions, rules, PdqSubmission(_pdq(rng), 90)) for _ in range(60)]
    with db_sessions() as session, session.begin():
        ids = session.scalars(select(CaseHash.case_id).order_by(CaseHash.case_id)).all()
        rows = [
            {
                "case_id": case_id,
                "network": f"n{case_id % 4}",
                "created_at": NOW
                - timedelta(minutes=rng.choice((0, 10, 60, 120, 121)) + rng.randrange(200)),
            }
            for case_id in ids
        ]
        session.execute(delete(CaseNetwork))
        session.execute(insert(CaseNetwork), rows)
    assert len(created) == len(rows)
    small = ReviewRules(bursts=BurstRule(cases=4, minutes=20))
    expected: set[str] = set()
    for network in {r["network"] for r in rows}:
        cases = sorted((r["created_at"], r["case_id"]) for r in rows if r["network"] == network)
        if list(find_bursts(cases, timedelta(minutes=20), 4)):
            expected.add(short_hash(network))
    with db_sessions() as session, session.begin():
        found = {str(r.figures["network"]) for _, r in _network_bursts(session, small, NOW)}
    assert found == expected
    assert expected  # the seed has bursts


def _burst_flags(sessions: Any) -> dict[int, bool]:
    with sessions() as session:
        return {
            int(case_id): bool(flag)
            for case_id, flag in session.execute(select(CaseNetwork.case_id, CaseNetwork.burst))
        }


def _expected_flags(sessions: Any, rule: BurstRule) -> dict[int, bool]:
    """The rule applied to all the kept cases at once (:func:`marks`, network by network)."""
    with sessions() as session:
        rows = session.execute(
            select(CaseNetwork.network, CaseNetwork.created_at, CaseNetwork.case_id).order_by(
                CaseNetwork.network, CaseNetwork.created_at, CaseNetwork.case_id
            )
        ).all()
    expected: dict[int, bool] = {}
    for network in {r.network for r in rows}:
        cases = [(r.created_at, int(r.case_id)) for r in rows if r.network == network]
        for (_, case_id), hit in zip(cases, marks(cases, rule.window, rule.cases), strict=True):
            expected[case_id] = hit
    return expected


def test_bursts_are_flagged_as_cases_are_stored(db_sessions: Any, rules: CaseRules) -> None:
    """Cases stored in the order of their times, from 3 networks at random gaps: the flags each
    creation writes equal the rule applied to all of them at once; the queue computes them
    again only for another rule."""
    rng = random.Random(13)
    rule = BurstRule(cases=4, minutes=20)
    at = NOW - timedelta(days=2)
    for _ in range(80):
        at += timedelta(minutes=rng.choice((0, 1, 3, 7, 19, 20, 45)))
        network = f"n{rng.randrange(3)}" * 16
        _case(
            db_sessions,
            replace(rules, bursts=rule),
            PdqSubmission(_pdq(rng), 90),
            network=network,
            now=at,
        )
    written = _burst_flags(db_sessions)
    assert written == _expected_flags(db_sessions, rule)
    assert 0 < sum(written.values()) < len(written)  # the seed has bursts and quiet cases
    with db_sessions() as session, session.begin():
        # After migration 0013 the fingerprint is empty: computed once, to the same flags.
        assert sync_bursts(session.connection(), rule, at)
        assert not sync_bursts(session.connection(), rule, at)
    assert _burst_flags(db_sessions) == written
    other = BurstRule(cases=3, minutes=10)
    with db_sessions() as session, session.begin():
        assert sync_bursts(session.connection(), other, at)
    assert _burst_flags(db_sessions) == _expected_flags(db_sessions, other) != written


def test_an_md5_entry_queues_the_equal_hash_stored_before_it(
    db_sessions: Any, rules: CaseRules
) -> None:
    rng = random.Random(14)
    video = Md5Submission(f"{rng.getrandbits(128):032x}")
    _case(db_sessions, rules, video, PdqSubmission(_pdq(rng), 90))
    hash_id = _id(db_sessions, video.value)

    def reasons() -> list[Reason]:
        with db_sessions() as session:
            return review_reasons(session, ReviewRules(), rules.denylist, NOW).get(hash_id, [])

    assert reasons() == []
    with db_sessions() as session:
        deny_value(session, "md5", video.value, "a trailer", NOW, actor=None, network=None)
    figures = {"distance": 0, "entry": video.value[:8], "source": "helpline"}
    assert reasons() == [Reason("near_denied", figures)]
    # Entries added before migration 0013 get their flags there.
    with db_sessions() as session, session.begin():
        session.execute(delete(ReviewNearDenied))
        assert flag_helpline_equal(session.connection()) == 1
    assert reasons() == [Reason("near_denied", figures)]
    with db_sessions() as session:
        (entry,) = list_denied(session)
        remove_denied(session, entry.id, NOW, actor=None, network=None)
    assert reasons() == []

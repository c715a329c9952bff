"""The hash-review queue: hashes that need a human look, each with why, never an image.

Four signals, each computed in a few set-based queries (SQLite and PostgreSQL):

* ``not_blocked``: partners looked at what the hash matched and said ``NotBlocked`` (not an
  intimate image): from at least :attr:`ReviewRules.not_blocked_partners` different partners.
* ``frequent_match``: partners report ``PendingReview`` or ``Blocked`` for the hash far more
  often than for others: a partner keeps only its latest outcome per hash, so "how often" is
  the number of partners reporting a match; the hash is listed when that number is at least
  :attr:`ReviewRules.match_factor` times the median over hashes with any match, and at least
  :attr:`ReviewRules.match_min_partners`.
* ``near_denied``: a PDQ hash (of any kind) within the match threshold of a deny-list entry
  (the shipped list, its extra file, the helpline's table ``denied_hashes``), or an MD5 equal
  to an entry of the helpline's: entries added after the hash was stored (or at the same
  moment: :mod:`openncii.cases.denied`). Stored when the entry is added
  (:mod:`openncii.review.near`).
* ``network_burst``: the hashes of a burst by :attr:`ReviewRules.bursts`: at least ``cases``
  cases opened from one client network within ``minutes`` (``case_networks`` holds a keyed
  digest of each case's network for :data:`NETWORK_DAYS` days; the queue shows its first 8 hex
  digits, enough to tell bursts apart and nothing about the network). Flagged when a case is
  stored (:mod:`openncii.cases.bursts`), read by :mod:`openncii.review.bursts`.

Hashes are shown by their first 8 hex digits; disabled hashes leave the queue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openncii.cases.abuse import NETWORK_DAYS
from openncii.cases.bursts import BurstRule
from openncii.cases.denylist import DenyList
from openncii.db.models import (
    HASH_ACTIVE,
    CaseHash,
    Feedback,
    HashRecord,
    ReviewNearDenied,
    StatsHashOutcome,
)
from openncii.review.bursts import burst_groups, sync_bursts
from openncii.review.near import sync_shipped
from openncii.settings import Settings
from openncii.signals.hexcode import short_hash
from openncii.stats import matching_histogram

__all__ = [
    "NETWORK_DAYS",
    "REASONS",
    "Reason",
    "ReviewItem",
    "ReviewQueue",
    "ReviewRules",
    "queue_items",
    "review_queue",
    "review_reasons",
]

#: Every reason code an item may carry (the console translates them).
REASONS: Final = ("not_blocked", "frequent_match", "near_denied", "network_burst")
_NOT_BLOCKED: Final = "NotBlocked"
_CHUNK: Final = 10_000


@dataclass(frozen=True, slots=True)
class ReviewRules:
    """When a hash enters the queue (see the module docstring): the settings ``review_*`` of
    :class:`openncii.settings.Settings` (:meth:`from_settings`; these defaults are theirs)."""

    not_blocked_partners: int = 2
    match_factor: float = 3.0
    match_min_partners: int = 3
    #: When cases from one network are a burst (the rule the cases are flagged with when stored).
    bursts: BurstRule = field(default_factory=BurstRule)
    #: At most this many items (those with the most reasons, then the newest, first).
    limit: int = 500

    @classmethod
    def from_settings(cls, settings: Settings) -> ReviewRules:
        return cls(
            not_blocked_partners=settings.review_not_blocked_partners,
            match_factor=settings.review_match_factor,
            match_min_partners=settings.review_match_min_partners,
            bursts=BurstRule.from_settings(settings),
        )


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a hash is in the queue: a code of :data:`REASONS` and its figures."""

    code: str
    #: ``partners`` (and ``median``), ``distance`` and ``entry`` (8 hex digits, ``source``:
    #: ``shipped`` or ``helpline``), or ``cases``, ``minutes`` and ``network`` (8 hex digits).
    figures: dict[str, int | float | str]


@dataclass(slots=True)
class ReviewItem:
    hash_id: int
    signal_type: str
    prefix: str
    status: str
    created_at: datetime
    cases: int = 0
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ReviewQueue:
    items: tuple[ReviewItem, ...]
    computed_at: datetime


def review_queue(
    session: Session,
    rules: ReviewRules,
    shipped: DenyList,
    now: datetime,
) -> ReviewQueue:
    """The queue as it is now: the active hashes with the most reasons first, then the newest;
    at most ``rules.limit``."""
    return queue_items(session, review_reasons(session, rules, shipped, now), rules, now)


def review_reasons(
    session: Session,
    rules: ReviewRules,
    shipped: DenyList,
    now: datetime,
) -> dict[int, list[Reason]]:
    """Every hash with a reason to be in the queue, whatever its status (one transaction: it
    writes only when the shipped deny-list changed, :func:`openncii.review.near.sync_shipped`,
    or the burst rule, :func:`openncii.review.bursts.sync_bursts`); :func:`queue_items` reads
    the statuses."""
    reasons: dict[int, list[Reason]] = defaultdict(list)
    with session.begin():
        near = _near_denied(session, shipped)
        for hash_id, reason in (
            *_not_blocked(session, rules),
            *_frequent_match(session, rules),
            *near.items(),
            *_network_bursts(session, rules, now),
        ):
            reasons[hash_id].append(reason)
    return dict(reasons)


def queue_items(
    session: Session, reasons: dict[int, list[Reason]], rules: ReviewRules, now: datetime
) -> ReviewQueue:
    """The queue of ``reasons`` (:func:`review_reasons`): the hashes active now, those with the
    most reasons first, then the newest; at most ``rules.limit``."""
    with session.begin():
        # Ids grow with time: rank by reasons, then newest, and read only the rows shown.
        ranked = sorted(reasons, key=lambda h: (-len(reasons[h]), -h))
        items: list[ReviewItem] = []
        for start in range(0, len(ranked), rules.limit):
            chunk = ranked[start : start + rules.limit]
            items += _items(session, {h: reasons[h] for h in chunk})
            if len(items) >= rules.limit:
                break
    items.sort(key=lambda i: (-len(i.reasons), -i.created_at.timestamp(), -i.hash_id))
    return ReviewQueue(tuple(items[: rules.limit]), now)


def _not_blocked(session: Session, rules: ReviewRules) -> Iterable[tuple[int, Reason]]:
    partners = func.count()
    rows = session.execute(
        select(Feedback.hash_id, partners)
        .where(Feedback.value == _NOT_BLOCKED)
        .group_by(Feedback.hash_id)
        .having(partners >= rules.not_blocked_partners)
    )
    for hash_id, count in rows:
        yield int(hash_id), Reason("not_blocked", {"partners": int(count)})


def _median(histogram: Sequence[tuple[int, int]]) -> float:
    """The median of values given as (value, how many) pairs, sorted by value."""
    total = sum(n for _, n in histogram)
    if total == 0:
        return 0.0
    ranks = ((total - 1) // 2, total // 2)
    found: list[int] = []
    seen = 0
    for value, n in histogram:
        found.extend(value for rank in ranks if seen <= rank < seen + n)
        seen += n
    return sum(found) / 2


def _frequent_match(session: Session, rules: ReviewRules) -> Iterable[tuple[int, Reason]]:
    """From the rollups: the histogram of partners per hash, then the hashes above the floor
    (by the index on ``stats_hash_outcomes.matching``)."""
    median = _median(matching_histogram(session))
    floor = max(float(rules.match_min_partners), rules.match_factor * median)
    least = int(np.ceil(floor))
    for hash_id, count in session.execute(
        select(StatsHashOutcome.hash_id, StatsHashOutcome.matching).where(
            StatsHashOutcome.matching >= least
        )
    ):
        yield int(hash_id), Reason("frequent_match", {"partners": int(count), "median": median})


def _near_denied(session: Session, shipped: DenyList) -> dict[int, Reason]:
    """The stored flags (:mod:`openncii.review.near`): for each hash, its nearest entry (the
    shipped list first on a tie, then the lowest value)."""
    sync_shipped(session.connection(), shipped)
    found: dict[int, Reason] = {}
    rows = session.execute(
        select(
            ReviewNearDenied.hash_id,
            ReviewNearDenied.distance,
            ReviewNearDenied.entry,
            ReviewNearDenied.source,
        ).order_by(
            ReviewNearDenied.hash_id,
            ReviewNearDenied.distance,
            ReviewNearDenied.source.desc(),
            ReviewNearDenied.entry,
        )
    )
    for hash_id, distance, entry, source in rows:
        if hash_id not in found:
            figures: dict[str, int | float | str] = {
                "distance": int(distance),
                "entry": short_hash(entry),
                "source": source,
            }
            found[int(hash_id)] = Reason("near_denied", figures)
    return found


def _network_bursts(
    session: Session, rules: ReviewRules, now: datetime
) -> Iterable[tuple[int, Reason]]:
    """From the flags written with each case (:mod:`openncii.review.bursts`)."""
    connection = session.connection()
    sync_bursts(connection, rules.bursts, now)
    case_reasons: dict[int, Reason] = {}
    for network, burst in burst_groups(connection, rules.bursts, now):
        figures: dict[str, int | float | str] = {
            "cases": len(burst),
            "minutes": rules.bursts.minutes,
            "network": short_hash(network),
        }
        for case_id in burst:
            case_reasons.setdefault(case_id, Reason("network_burst", figures))
    if not case_reasons:
        return
    seen: set[int] = set()
    links = session.execute(
        select(CaseHash.hash_id, CaseHash.case_id)
        .where(CaseHash.case_id.in_(sorted(case_reasons)))
        .order_by(CaseHash.hash_id, CaseHash.case_id)
    )
    for hash_id, case_id in links:
        if hash_id not in seen:
            seen.add(hash_id)
            yield int(hash_id), case_reasons[int(case_id)]


def _items(session: Session, reasons: dict[int, list[Reason]]) -> list[ReviewItem]:
    if not reasons:
        return []
    ids = sorted(reasons)
    items: list[ReviewItem] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        counted = session.execute(
            select(CaseHash.hash_id, func.count())
            .where(CaseHash.hash_id.in_(chunk))
            .group_by(CaseHash.hash_id)
        )
        counts = {int(hash_id): int(n) for hash_id, n in counted}
        for row in session.execute(
            select(
                HashRecord.id,
                HashRecord.signal_type,
                HashRecord.value,
                HashRecord.status,
                HashRecord.created_at,
            ).where(HashRecord.id.in_(chunk), HashRecord.status == HASH_ACTIVE)
        ):
            items.append(
                ReviewItem(
                    hash_id=int(row.id),
                    signal_type=row.signal_type,
                    prefix=short_hash(row.value),
                    status=row.status,
                    created_at=row.created_at,
                    cases=int(counts.get(row.id, 0)),
                    reasons=reasons[int(row.id)],
                )
            )
    return items

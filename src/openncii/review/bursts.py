"""The ``network_burst`` reason: bursts of cases from one client network.

The flags are written when a case is stored (``case_networks.burst``,
:mod:`openncii.cases.bursts`); the queue reads them (:func:`burst_groups`: the flagged cases of
each network, in bursts). They are computed again over the whole table when the queue's rule is
not the one they were written with (:func:`sync_bursts`: ``review_scans`` keeps the rule's
fingerprint; after migration 0013 and after a change of the settings ``review_burst_*``, the
first queue read pays for it, as for a changed shipped deny-list).

The rule (:func:`marks`): every case in a span shorter than ``minutes`` that holds at least
``cases`` cases of its network is flagged; flagged cases of a network less than ``minutes``
apart, with no unflagged case between them, form one burst.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Connection, Select, func, select, true, update

from openncii.cases.abuse import NETWORK_DAYS
from openncii.cases.bursts import BurstRule
from openncii.db.models import CaseNetwork
from openncii.review.scans import resync

__all__ = ["BURSTS", "burst_groups", "find_bursts", "groups", "marks", "sync_bursts"]

#: The ``review_scans`` row of the rule the flags were computed with.
BURSTS: Final = "bursts"
_CHUNK: Final = 10_000


def marks(cases: Sequence[tuple[datetime, int]], window: timedelta, least: int) -> list[bool]:
    """For ``cases`` (time, id) sorted by time: whether each is in a window of ``window`` that
    holds at least ``least`` cases."""
    marked = [False] * len(cases)
    end = 0
    for start in range(len(cases)):
        end = max(end, start)
        while end < len(cases) and cases[end][0] - cases[start][0] < window:
            end += 1
        if end - start >= least:
            for k in range(start, end):
                marked[k] = True
    return marked


def groups(
    cases: Sequence[tuple[datetime, int]], marked: Sequence[bool], window: timedelta
) -> Iterable[list[int]]:
    """The bursts of ``cases`` (sorted by time) given their flags: marked cases less than
    ``window`` apart form one burst. Yields lists of case ids."""
    current: list[int] = []
    last: datetime | None = None
    for (at, case_id), hit in zip(cases, marked, strict=True):
        if hit and (last is None or at - last < window):
            current.append(case_id)
            last = at
            continue
        if current:
            yield current
        current, last = ([case_id], at) if hit else ([], None)
    if current:
        yield current


def find_bursts(
    cases: Sequence[tuple[datetime, int]], window: timedelta, least: int
) -> Iterable[list[int]]:
    """The bursts among ``cases`` (sorted by time), from their times alone."""
    return groups(cases, marks(cases, window, least), window)


def _seconds_apart(connection: Connection, later: Any, earlier: Any) -> Any:
    """Seconds from ``earlier`` to ``later`` (``UTCDateTime`` columns), in SQL."""
    if connection.dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _kept_cases(
    connection: Connection, busy: Select[Any], since: datetime
) -> Iterable[tuple[str, list[tuple[datetime, int]], list[bool]]]:
    """The kept cases of the networks ``busy``: (network, its cases (time, id) sorted by time,
    their stored flags)."""
    rows = connection.execute(
        select(CaseNetwork.network, CaseNetwork.created_at, CaseNetwork.case_id, CaseNetwork.burst)
        .where(CaseNetwork.network.in_(busy), CaseNetwork.created_at >= since)
        .order_by(CaseNetwork.network, CaseNetwork.created_at, CaseNetwork.case_id)
    ).all()
    by_network: dict[str, tuple[list[tuple[datetime, int]], list[bool]]] = defaultdict(
        lambda: ([], [])
    )
    for network, created_at, case_id, flag in rows:
        cases, flags = by_network[network]
        cases.append((created_at, int(case_id)))
        flags.append(bool(flag))
    return [(network, cases, flags) for network, (cases, flags) in by_network.items()]


def _flag_all(connection: Connection, rule: BurstRule, now: datetime) -> int:
    """Compute every flag of the kept cases again (the caller's transaction); how many are
    set."""
    connection.execute(update(CaseNetwork).where(CaseNetwork.burst == true()).values(burst=False))
    since = now - timedelta(days=NETWORK_DAYS)
    # A network has a burst when some case and the one ``cases - 1`` later (by time) are less
    # than ``minutes`` apart: one pass in the order of the index on (network, created_at).
    earlier = (
        func.lag(CaseNetwork.created_at, rule.cases - 1)
        .over(partition_by=CaseNetwork.network, order_by=CaseNetwork.created_at)
        .label("earlier")
    )
    ordered = (
        select(CaseNetwork.network, CaseNetwork.created_at, earlier)
        .where(CaseNetwork.created_at >= since)
        .subquery()
    )
    apart = _seconds_apart(connection, ordered.c.created_at, ordered.c.earlier)
    busy = (
        select(ordered.c.network)
        .where(ordered.c.earlier.is_not(None), apart < rule.minutes * 60)
        .distinct()
    )
    flagged = [
        case_id
        for _, cases, _ in _kept_cases(connection, busy, since)
        for (_, case_id), hit in zip(cases, marks(cases, rule.window, rule.cases), strict=True)
        if hit
    ]
    for start in range(0, len(flagged), _CHUNK):
        chunk = flagged[start : start + _CHUNK]
        connection.execute(
            update(CaseNetwork).where(CaseNetwork.case_id.in_(chunk)).values(burst=True)
        )
    return len(flagged)


def sync_bursts(connection: Connection, rule: BurstRule, now: datetime) -> bool:
    """Flag the bursts again if the stored flags are of another rule (in the caller's
    transaction; the scan row is locked on PostgreSQL, so one server computes them). Returns
    whether it computed them."""
    return resync(connection, BURSTS, rule.fingerprint, lambda: _flag_all(connection, rule, now))


def burst_groups(
    connection: Connection, rule: BurstRule, now: datetime
) -> Iterable[tuple[str, list[int]]]:
    """The bursts of the kept cases: (network, case ids), from the stored flags (the flagged
    rows by their partial index, then every kept case of those networks, whose unflagged
    cases split bursts)."""
    since = now - timedelta(days=NETWORK_DAYS)
    busy = (
        select(CaseNetwork.network)
        .where(CaseNetwork.burst == true(), CaseNetwork.created_at >= since)
        .distinct()
    )
    for network, cases, flags in _kept_cases(connection, busy, since):
        for burst in groups(cases, flags, rule.window):
            yield network, burst

"""Figures of the helpline console's overview, read from rollups (no HTTP here).

The database keeps the rollups in the transactions that change cases, hashes and feedback
(triggers, :mod:`openncii.stats.rollups`), so a page reads a few hundred rows whatever the size
of the bank; every figure equals the direct count over the tables, in UTC:

- cases opened and withdrawn per day or week (``cases.created_at``, ``cases.withdrawn_at``);
- hashes in the bank by signal type and state;
- partner outcomes over time: the partners' latest feedback (``PendingReview``, ``Blocked``,
  ``NotBlocked``) by the day it was given;
- removal rate: hashes with a ``Blocked`` outcome from any partner ÷ hashes with any of those
  three outcomes;
- time from a case's creation to the first partner outcome on any of its hashes (median and
  90th percentile). A partner keeps only its latest outcome per hash, so "first" is the earliest
  outcome still on record.

:func:`table_csv` turns any of them into CSV for the console's downloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from openncii.audit import csv_text
from openncii.db.models import STATS_CHANGES, StatsCaseOutcome, StatsCount
from openncii.stats.rollups import OUTCOMES, compact

__all__ = [
    "OUTCOMES",
    "Overview",
    "Period",
    "TimeToOutcome",
    "cases_per_period",
    "compact_figures",
    "feedback_by_partner",
    "hashes_by_type",
    "matching_histogram",
    "outcomes_per_period",
    "overview",
    "periods_between",
    "removal_rate",
    "table_csv",
    "time_to_first_outcome",
]

Period = Literal["day", "week"]
#: The longest range the overview covers.
MAX_DAYS: Final = 730


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _period_of(day: date, period: Period) -> date:
    return _monday(day) if period == "week" else day


def _figure(
    session: Session, figure: str, since: date | None = None
) -> list[tuple[date, str, str, int]]:
    """``(day, key_a, key_b, count)`` of one rollup figure (its counts plus the changes not yet
    compacted: one statement, so one snapshot), from ``since`` on; zero counts left out."""
    parts = []
    for table in (StatsCount.__table__, STATS_CHANGES):
        columns = table.c
        query = select(
            columns.day.label("day"),
            columns.key_a.label("key_a"),
            columns.key_b.label("key_b"),
            columns["count"].label("n"),
        ).where(columns.figure == figure)
        if since is not None:
            query = query.where(columns.day >= since)
        parts.append(query)
    both = union_all(*parts).subquery()
    total = func.sum(both.c.n)
    rows = session.execute(
        select(both.c.day, both.c.key_a, both.c.key_b, total)
        .group_by(both.c.day, both.c.key_a, both.c.key_b)
        .having(total != 0)
    )
    return [(_day(d), str(a), str(b), int(n)) for d, a, b, n in rows]


def matching_histogram(session: Session) -> list[tuple[int, int]]:
    """(partners reporting a match, how many hashes have that many), by partners, from the
    rollups (:mod:`openncii.stats.rollups`, figure ``matching``), in the caller's
    transaction."""
    return sorted((int(a), n) for _, a, _, n in _figure(session, "matching"))


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def compact_figures(session: Session) -> None:
    """Move the rollups' changes into their counts (:func:`openncii.stats.rollups.compact`), in
    a transaction of its own; reading stays exact without it, only slower as changes pile up."""
    with session.begin():
        compact(session.connection())


def cases_per_period(
    session: Session, since: datetime, period: Period = "day"
) -> list[tuple[date, int, int]]:
    """``(day or Monday, cases opened, cases withdrawn)`` from ``since`` (a UTC midnight) on,
    oldest first."""
    counted: dict[date, list[int]] = {}
    with session.begin():
        for column, figure in enumerate(("opened", "withdrawn")):
            for day, _a, _b, n in _figure(session, figure, since.date()):
                counted.setdefault(_period_of(day, period), [0, 0])[column] += n
    return [(d, *counted[d]) for d in sorted(counted)]  # type: ignore[misc]


def hashes_by_type(session: Session) -> list[tuple[str, str, int]]:
    """``(signal type key, state, hashes)`` of the whole bank."""
    with session.begin():
        rows = _figure(session, "hashes")
    return sorted((kind, state, n) for _d, kind, state, n in rows)


def outcomes_per_period(
    session: Session, since: datetime, period: Period = "day"
) -> list[tuple[date, str, int]]:
    """``(day or Monday, outcome, count)`` of the partners' outcomes given from ``since`` (a UTC
    midnight) on."""
    counted: dict[tuple[date, str], int] = {}
    with session.begin():
        for day, _partner, value, n in _figure(session, "outcomes", since.date()):
            if value in OUTCOMES:
                key = (_period_of(day, period), value)
                counted[key] = counted.get(key, 0) + n
    return [(d, v, n) for (d, v), n in sorted(counted.items()) if n]


def feedback_by_partner(session: Session) -> dict[int, dict[str, int]]:
    """Each partner's feedback by value, over the whole bank (``{partner id: {"Blocked": 12,
    ...}}``)."""
    found: dict[int, dict[str, int]] = {}
    with session.begin():
        for _when, partner, value, n in _figure(session, "outcomes"):
            values = found.setdefault(int(partner), {})
            values[value] = values.get(value, 0) + n
    return {p: {v: n for v, n in values.items() if n} for p, values in found.items()}


def removal_rate(session: Session) -> tuple[int, int]:
    """``(hashes with a Blocked outcome, hashes with any outcome)``."""
    with session.begin():
        blocked = sum(n for *_k, n in _figure(session, "blocked"))
        any_outcome = sum(n for *_k, n in _figure(session, "with_outcome"))
    return blocked, any_outcome


@dataclass(frozen=True, slots=True)
class TimeToOutcome:
    """Seconds from case creation to its first partner outcome (``None`` without any)."""

    cases: int
    median_seconds: float | None
    p90_seconds: float | None


def _percentile(sorted_values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (PostgreSQL's ``percentile_cont``)."""
    position = fraction * (len(sorted_values) - 1)
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _nth_seconds(session: Session, buckets: list[tuple[int, int]], since: date, rank: int) -> float:
    """The ``rank``-th smallest duration (from 0) of the cases created from ``since`` on, given
    their counts per bucket (in bucket order): the bucket holding it, then the value by the
    index on ``(bucket, seconds, day)``."""
    for bucket, count in buckets:
        if rank < count:
            value = session.scalar(
                select(StatsCaseOutcome.seconds)
                .where(StatsCaseOutcome.bucket == bucket, StatsCaseOutcome.day >= since)
                .order_by(StatsCaseOutcome.seconds)
                .offset(rank)
                .limit(1)
            )
            assert value is not None
            return float(value)
        rank -= count
    raise IndexError(rank)


def _percentile_of(
    session: Session, buckets: list[tuple[int, int]], since: date, total: int, fraction: float
) -> float:
    """As :func:`_percentile`, reading only the one or two values it needs."""
    position = fraction * (total - 1)
    low = int(position)
    value = _nth_seconds(session, buckets, since, low)
    if position == low:
        return value
    high = _nth_seconds(session, buckets, since, low + 1)
    return value + (high - value) * (position - low)


def time_to_first_outcome(session: Session, since: datetime) -> TimeToOutcome:
    """Median and 90th percentile over the cases opened from ``since`` (a UTC midnight) on
    that have an outcome."""
    counted: dict[int, int] = {}
    with session.begin():
        for _when, bucket, _b, n in _figure(session, "first_outcome", since.date()):
            counted[int(bucket)] = counted.get(int(bucket), 0) + n
        buckets = sorted((b, n) for b, n in counted.items() if n)
        total = sum(n for _b, n in buckets)
        if not total:
            return TimeToOutcome(0, None, None)
        return TimeToOutcome(
            total,
            _percentile_of(session, buckets, since.date(), total, 0.5),
            _percentile_of(session, buckets, since.date(), total, 0.9),
        )


def periods_between(start: date, end: date, period: Period) -> list[date]:
    """Every day (or Monday) from the one holding ``start`` to the one holding ``end``."""
    if period == "week":
        start -= timedelta(days=start.weekday())
    step = timedelta(days=7 if period == "week" else 1)
    found = []
    while start <= end:
        found.append(start)
        start += step
    return found


@dataclass(frozen=True, slots=True)
class Overview:
    since: datetime
    period: Period
    #: Every period of the range, oldest first (``cases`` has a row for each).
    periods: list[date]
    cases: list[tuple[date, int, int]]
    hashes: list[tuple[str, str, int]]
    outcomes: list[tuple[date, str, int]]
    blocked: int
    with_outcome: int
    time_to_outcome: TimeToOutcome
    #: When the figures were computed.
    computed_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def overview(session: Session, now: datetime, days: int, period: Period) -> Overview:
    """Every figure of the overview for the last ``days`` days."""
    days = max(1, min(days, MAX_DAYS))
    start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    compact_figures(session)
    blocked, with_outcome = removal_rate(session)
    periods = periods_between(start.date(), now.date(), period)
    counted = {d: (o, w) for d, o, w in cases_per_period(session, start, period)}
    return Overview(
        start,
        period,
        periods,
        [(d, *counted.get(d, (0, 0))) for d in periods],
        hashes_by_type(session),
        outcomes_per_period(session, start, period),
        blocked,
        with_outcome,
        time_to_first_outcome(session, start),
        now,
    )


def table_csv(figures: Overview, name: str) -> str:
    """One of the overview's tables as CSV: ``cases``, ``hashes``, ``outcomes``, ``summary``.
    Raises :class:`KeyError` for another name."""
    if name == "cases":
        return csv_text(
            (figures.period, "opened", "withdrawn"),
            ((d.isoformat(), o, w) for d, o, w in figures.cases),
        )
    if name == "hashes":
        return csv_text(("signal_type", "state", "hashes"), figures.hashes)
    if name == "outcomes":
        return csv_text(
            (figures.period, "outcome", "count"),
            ((d.isoformat(), v, n) for d, v, n in figures.outcomes),
        )
    if name == "summary":
        t = figures.time_to_outcome
        return csv_text(
            ("figure", "value"),
            (
                ("since", figures.since.date().isoformat()),
                ("hashes_blocked", figures.blocked),
                ("hashes_with_outcome", figures.with_outcome),
                ("cases_with_outcome", t.cases),
                (
                    "median_seconds_to_first_outcome",
                    "" if t.median_seconds is None else round(t.median_seconds),
                ),
                (
                    "p90_seconds_to_first_outcome",
                    "" if t.p90_seconds is None else round(t.p90_seconds),
                ),
            ),
        )
    raise KeyError(name)

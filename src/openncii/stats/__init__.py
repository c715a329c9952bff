"""Figures of the helpline console's overview, aggregated in SQL (no HTTP here).

Every figure is one query over indexed columns, in UTC:

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

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final, Literal, TypeVar

from sqlalchemy import Date, cast, distinct, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from openncii.audit import csv_text
from openncii.db.models import Case, CaseHash, Feedback, HashRecord

__all__ = [
    "OUTCOMES",
    "KeptFigures",
    "Overview",
    "Period",
    "TimeToOutcome",
    "cases_per_period",
    "hashes_by_type",
    "outcomes_per_period",
    "overview",
    "periods_between",
    "removal_rate",
    "table_csv",
    "time_to_first_outcome",
]

Period = Literal["day", "week"]
_T = TypeVar("_T")
#: The partner outcomes the overview counts (StopNCII feedback values).
OUTCOMES: Final = ("PendingReview", "Blocked", "NotBlocked")
#: The longest range the overview covers.
MAX_DAYS: Final = 730


def _bucket(column: Any, period: Period, dialect: str) -> ColumnElement[Any]:
    """The UTC day (or the Monday of the week) of a timestamp column, as a date."""
    if dialect == "postgresql":
        utc = func.timezone("UTC", column)
        return cast(func.date_trunc(period, utc), Date)
    if period == "day":
        return func.date(column)
    return func.date(column, "weekday 0", "-6 days")


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def cases_per_period(
    session: Session, since: datetime, period: Period = "day"
) -> list[tuple[date, int, int]]:
    """``(day or Monday, cases opened, cases withdrawn)`` from ``since`` on, oldest first."""
    dialect = _dialect(session)
    opened_bucket = _bucket(Case.created_at, period, dialect)
    withdrawn_bucket = _bucket(Case.withdrawn_at, period, dialect)
    with session.begin():
        opened = {
            _day(d): int(n)
            for d, n in session.execute(
                select(opened_bucket, func.count())
                .where(Case.created_at >= since)
                .group_by(opened_bucket)
            )
        }
        withdrawn = {
            _day(d): int(n)
            for d, n in session.execute(
                select(withdrawn_bucket, func.count())
                .where(Case.withdrawn_at >= since)
                .group_by(withdrawn_bucket)
            )
        }
    return [
        (d, opened.get(d, 0), withdrawn.get(d, 0)) for d in sorted(opened.keys() | withdrawn.keys())
    ]


def hashes_by_type(session: Session) -> list[tuple[str, str, int]]:
    """``(signal type key, state, hashes)`` of the whole bank."""
    with session.begin():
        rows = session.execute(
            select(HashRecord.signal_type, HashRecord.status, func.count())
            .group_by(HashRecord.signal_type, HashRecord.status)
            .order_by(HashRecord.signal_type, HashRecord.status)
        )
        return [(str(t), str(s), int(n)) for t, s, n in rows]


def outcomes_per_period(
    session: Session, since: datetime, period: Period = "day"
) -> list[tuple[date, str, int]]:
    """``(day or Monday, outcome, count)`` of the partners' outcomes given from ``since`` on."""
    bucket = _bucket(Feedback.updated_at, period, _dialect(session))
    with session.begin():
        rows = session.execute(
            select(bucket, Feedback.value, func.count())
            .where(Feedback.updated_at >= since, Feedback.value.in_(OUTCOMES))
            .group_by(bucket, Feedback.value)
            .order_by(bucket, Feedback.value)
        )
        return [(_day(d), str(v), int(n)) for d, v, n in rows]


def removal_rate(session: Session) -> tuple[int, int]:
    """``(hashes with a Blocked outcome, hashes with any outcome)``."""
    with session.begin():
        blocked = session.scalar(
            select(func.count(distinct(Feedback.hash_id))).where(Feedback.value == "Blocked")
        )
        any_outcome = session.scalar(
            select(func.count(distinct(Feedback.hash_id))).where(Feedback.value.in_(OUTCOMES))
        )
    return int(blocked or 0), int(any_outcome or 0)


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


def time_to_first_outcome(session: Session, since: datetime) -> TimeToOutcome:
    """Median and 90th percentile over the cases opened from ``since`` on that have an outcome."""
    first = (
        select(
            Case.id.label("case_id"),
            Case.created_at.label("created_at"),
            func.min(Feedback.updated_at).label("first_at"),
        )
        .join(CaseHash, CaseHash.case_id == Case.id)
        .join(Feedback, Feedback.hash_id == CaseHash.hash_id)
        .where(Case.created_at >= since, Feedback.value.in_(OUTCOMES))
        .group_by(Case.id, Case.created_at)
        .subquery()
    )
    postgres = _dialect(session) == "postgresql"
    with session.begin():
        if postgres:
            seconds = func.extract("epoch", first.c.first_at - first.c.created_at)
            row = session.execute(
                select(
                    func.count(),
                    func.percentile_cont(0.5).within_group(seconds),
                    func.percentile_cont(0.9).within_group(seconds),
                ).select_from(first)
            ).one()
            count = int(row[0])
            if not count:
                return TimeToOutcome(0, None, None)
            return TimeToOutcome(count, float(row[1]), float(row[2]))
        durations = sorted(
            (first_at - created).total_seconds()
            for first_at, created in session.execute(select(first.c.first_at, first.c.created_at))
        )
    if not durations:
        return TimeToOutcome(0, None, None)
    return TimeToOutcome(len(durations), _percentile(durations, 0.5), _percentile(durations, 0.9))


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


class KeptFigures:
    """Figures computed in the last ``seconds``, by key, shared by the requests of one server
    process: on a bank of millions of hashes some take seconds to aggregate, and staff open
    the console's pages many times a day. ``seconds`` 0 keeps nothing."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[object, ...], tuple[float, Any]] = {}

    def get(self, key: tuple[object, ...], compute: Callable[[], _T]) -> _T:
        """The kept figures of ``key``, or ``compute()`` (outside the lock: two requests that
        miss together both compute, which is harmless)."""
        with self._lock:
            found = self._entries.get(key)
        if found is not None and time.monotonic() - found[0] < self.seconds:
            kept: _T = found[1]
            return kept
        figures = compute()
        if self.seconds > 0:
            with self._lock:
                self._entries[key] = (time.monotonic(), figures)
        return figures


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

"""``/admin/api/stats``: the overview's figures (everyone signed in), as JSON or CSV."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from openncii import audit
from openncii.api.console import ADMIN_API_PREFIX, SignedInDep
from openncii.api.deps import NetworkDep, NowDep, SessionDep
from openncii.errors import StaffError
from openncii.stats import MAX_DAYS, Overview, overview, table_csv

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/stats", tags=["console"], include_in_schema=False)

_Days = Annotated[int, Query(ge=1, le=MAX_DAYS)]
_Period = Annotated[Literal["day", "week"], Query()]


class CasesRowOut(BaseModel):
    start: date
    opened: int
    withdrawn: int


class HashesRowOut(BaseModel):
    signal_type: str
    state: str
    hashes: int


class OutcomesRowOut(BaseModel):
    start: date
    outcome: str
    count: int


class StatsOut(BaseModel):
    since: datetime
    #: When the figures were read.
    computed_at: datetime
    period: str
    periods: list[date]
    cases: list[CasesRowOut]
    hashes: list[HashesRowOut]
    outcomes: list[OutcomesRowOut]
    hashes_blocked: int
    hashes_with_outcome: int
    cases_with_outcome: int
    median_seconds_to_first_outcome: float | None
    p90_seconds_to_first_outcome: float | None


def _out(figures: Overview) -> StatsOut:
    t = figures.time_to_outcome
    return StatsOut(
        since=figures.since,
        computed_at=figures.computed_at,
        period=figures.period,
        periods=figures.periods,
        cases=[CasesRowOut(start=d, opened=o, withdrawn=w) for d, o, w in figures.cases],
        hashes=[HashesRowOut(signal_type=k, state=s, hashes=n) for k, s, n in figures.hashes],
        outcomes=[OutcomesRowOut(start=d, outcome=v, count=n) for d, v, n in figures.outcomes],
        hashes_blocked=figures.blocked,
        hashes_with_outcome=figures.with_outcome,
        cases_with_outcome=t.cases,
        median_seconds_to_first_outcome=t.median_seconds,
        p90_seconds_to_first_outcome=t.p90_seconds,
    )


@router.get("")
def get_stats(
    _staff: SignedInDep,
    session: SessionDep,
    now: NowDep,
    days: _Days = 90,
    period: _Period = "day",
) -> StatsOut:
    """Every figure of the overview for the last ``days`` days, per day or per week (read from
    the rollups the database keeps: nothing is cached here)."""
    return _out(overview(session, now, days, period))


@router.get("/{name}.csv")
def get_stats_csv(
    name: str,
    staff: SignedInDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
    days: _Days = 90,
    period: _Period = "day",
) -> Response:
    """One table of the overview as CSV: ``cases``, ``hashes``, ``outcomes`` or ``summary``."""
    figures = overview(session, now, days, period)
    try:
        text = table_csv(figures, name)
    except KeyError:
        raise StaffError("There is no such table: cases, hashes, outcomes or summary.") from None
    with session.begin():
        audit.record(
            session, "stats.export", now, actor=staff.staff.email, network=network, target=name
        )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="openncii-{name}.csv"'},
    )

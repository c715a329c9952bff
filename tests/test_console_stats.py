"""The console's overview figures equal direct SQL counts on a seeded bank (a few thousand
cases over two months), on SQLite and PostgreSQL; the API serves them as JSON and CSV."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from console_helpers import signed_in_client
from openncii.db import make_engine, migrate
from openncii.db.migrate import downgrade
from openncii.db.models import Case, CaseHash, Feedback, HashRecord, Partner
from openncii.feed.retention import purge_withdrawn
from openncii.partners import record_feedback
from openncii.stats import OUTCOMES, feedback_by_partner, matching_histogram, overview
from openncii.stats.rollups import rebuild
from openncii.testing import FakeClock

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
VALUES = ("PendingReview", "Blocked", "NotBlocked", "QualityUnknown")


def seed(sessions: Any, cases: int = 3000, seed_value: int = 7) -> None:
    """Cases over the last 70 days, 1-3 hashes each, a fifth withdrawn, outcomes from three
    partners on about half the hashes, some days or hours after the case."""
    rng = random.Random(seed_value)
    case_rows, hash_rows, links, feedback = [], [], [], []
    hash_id = 0
    for case_id in range(1, cases + 1):
        created = NOW - timedelta(seconds=rng.randrange(70 * 86400))
        withdrawn = created + timedelta(hours=rng.randrange(1, 400)) if rng.random() < 0.2 else None
        case_rows.append(
            {
                "id": case_id,
                "number": f"N{case_id:011d}",
                "pin_hash": "x",
                "partner_ref": f"ref{case_id}",
                "status": "withdrawn" if withdrawn else "active",
                "created_at": created,
                "withdrawn_at": withdrawn if withdrawn and withdrawn <= NOW else None,
            }
        )
        for position in range(rng.randrange(1, 4)):
            hash_id += 1
            kind = rng.choice(("pdq", "pdq", "md5", "vpdq"))
            hash_rows.append(
                {
                    "id": hash_id,
                    "signal_type": kind,
                    "value": f"{hash_id:064x}",
                    "status": "withdrawn" if withdrawn else "active",
                    "feed_seq": hash_id,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            links.append({"case_id": case_id, "hash_id": hash_id, "position": position})
            for partner_id in (1, 2, 3):
                if rng.random() < 0.25:
                    when = created + timedelta(minutes=rng.randrange(1, 20000))
                    feedback.append(
                        {
                            "hash_id": hash_id,
                            "partner_id": partner_id,
                            "value": rng.choice(VALUES),
                            "tags": "[]",
                            "updated_at": min(when, NOW),
                        }
                    )
    with sessions() as session, session.begin():
        session.execute(
            insert(Partner),
            [
                {
                    "id": i,
                    "name": f"P{i}",
                    "key_digest": f"{i:064x}",
                    "can_submit": False,
                    "created_at": NOW - timedelta(days=100),
                }
                for i in (1, 2, 3)
            ],
        )
        session.execute(insert(Case), case_rows)
        session.execute(insert(HashRecord), hash_rows)
        session.execute(insert(CaseHash), links)
        session.execute(insert(Feedback), feedback)


def _scalar(sessions: Any, sql: str, **params: Any) -> int:
    with sessions() as session:
        return int(session.execute(text(sql), params).scalar_one())


def test_the_figures_equal_direct_counts(db_sessions: Any) -> None:
    seed(db_sessions)
    _check_figures(db_sessions, NOW)


def test_the_rollups_follow_later_changes(db_sessions: Any) -> None:
    """After the figures were read (and the rollups compacted): withdrawals, new and changed
    partner outcomes, a new case holding hashes that partners judged before, hashes that change
    state, then the retention purge (cascades to outcomes and case memberships). The figures
    still equal the direct counts, and a rebuild from the tables gives the same rollups."""
    seed(db_sessions, cases=600, seed_value=11)
    _check_figures(db_sessions, NOW)
    later = NOW + timedelta(hours=30)
    with db_sessions() as session, session.begin():
        session.execute(
            text(
                "UPDATE cases SET status = 'withdrawn', withdrawn_at = :t "
                "WHERE withdrawn_at IS NULL AND id % 7 = 0"
            ),
            {"t": later - timedelta(hours=2)},
        )
        session.execute(
            text("UPDATE hashes SET status = 'withdrawn', withdrawn_at = :t WHERE id % 9 = 0"),
            {"t": NOW - timedelta(days=40)},
        )
    hashes = {
        int(i): (str(k), str(v))
        for i, k, v in _rows(db_sessions, "SELECT id, signal_type, value FROM hashes")
    }
    rng = random.Random(3)
    for hash_id in rng.sample(sorted(hashes), 150):
        kind, value = hashes[hash_id]
        with db_sessions() as session:
            assert record_feedback(
                session,
                rng.choice((1, 2, 3)),
                kind,
                value,
                rng.choice(VALUES),
                [],
                later - timedelta(minutes=rng.randrange(3000)),
            )
    judged = [
        int(h)
        for (h,) in _rows(db_sessions, "SELECT DISTINCT hash_id FROM feedback ORDER BY hash_id")
    ][:3]
    with db_sessions() as session, session.begin():
        session.execute(insert(Case), [_case_row(5000, later - timedelta(hours=1))])
        session.execute(
            insert(CaseHash),
            [{"case_id": 5000, "hash_id": h, "position": i} for i, h in enumerate(judged)],
        )
        session.execute(text("DELETE FROM feedback WHERE partner_id = 3 AND hash_id % 5 = 0"))
    _check_figures(db_sessions, later)
    with db_sessions() as session:
        assert purge_withdrawn(session, later, timedelta(days=30)) > 0
    _check_figures(db_sessions, later)

    with db_sessions() as session:
        kept = overview(session, later, 120, "day")
        with session.begin():
            rebuild(session.connection())
        rebuilt = overview(session, later, 120, "day")
    assert replace(kept, computed_at=NOW) == replace(rebuilt, computed_at=NOW)


def _case_row(case_id: int, created: datetime) -> dict[str, Any]:
    return {
        "id": case_id,
        "number": f"N{case_id:011d}",
        "pin_hash": "x",
        "partner_ref": f"ref{case_id}",
        "status": "active",
        "created_at": created,
    }


def _rows(sessions: Any, sql: str) -> list[Any]:
    with sessions() as session:
        return list(session.execute(text(sql)).all())


def _check_matching(db_sessions: Any) -> None:
    """The review queue's rollup (partners reporting a match per hash, and how many hashes have
    each count) equals direct counts over ``feedback``."""
    direct = {
        int(h): int(n)
        for h, n in _rows(
            db_sessions,
            "SELECT hash_id, count(*) FROM feedback "
            "WHERE value IN ('PendingReview', 'Blocked') GROUP BY hash_id",
        )
    }
    held = {
        int(h): int(n)
        for h, n in _rows(
            db_sessions, "SELECT hash_id, matching FROM stats_hash_outcomes WHERE matching > 0"
        )
    }
    assert held == direct
    assert direct  # the seed has matches
    with db_sessions() as session:
        histogram = matching_histogram(session)
    assert histogram == sorted(Counter(direct.values()).items())


def _check_figures(db_sessions: Any, now: datetime) -> None:
    """Every figure of the overview of the 60 days up to ``now`` equals a direct count (and so
    does the review queue's rollup of matches)."""
    _check_matching(db_sessions)
    with db_sessions() as session:
        figures = overview(session, now, 60, "day")
    start = (now - timedelta(days=59)).replace(hour=0, minute=0, second=0, microsecond=0)
    assert figures.since == start
    days = [start + timedelta(days=i) for i in range(60)]
    assert [d for d, _, _ in figures.cases] == figures.periods == [d.date() for d in days]
    by_day = {d: (o, w) for d, o, w in figures.cases}
    for day in days:
        end = day + timedelta(days=1)
        opened = _scalar(
            db_sessions,
            "SELECT count(*) FROM cases WHERE created_at >= :a AND created_at < :b",
            a=day,
            b=end,
        )
        withdrawn = _scalar(
            db_sessions,
            "SELECT count(*) FROM cases WHERE withdrawn_at >= :a AND withdrawn_at < :b",
            a=day,
            b=end,
        )
        assert by_day.get(day.date(), (0, 0)) == (opened, withdrawn), day
    assert sum(o for _, o, _ in figures.cases) == _scalar(
        db_sessions, "SELECT count(*) FROM cases WHERE created_at >= :a", a=start
    )
    # Weeks start on Monday and add up to the days.
    with db_sessions() as session:
        weekly = overview(session, now, 60, "week")
    assert all(d.weekday() == 0 for d, _, _ in weekly.cases)
    mondays = {d for d, _, _ in weekly.cases}
    assert sum(o for _, o, _ in weekly.cases) >= sum(o for _, o, _ in figures.cases)
    assert min(mondays) <= start.date()

    for kind, state, count in figures.hashes:
        assert count == _scalar(
            db_sessions,
            "SELECT count(*) FROM hashes WHERE signal_type = :k AND status = :s",
            k=kind,
            s=state,
        )
    assert sum(n for _, _, n in figures.hashes) == _scalar(
        db_sessions, "SELECT count(*) FROM hashes"
    )

    for day, value, count in figures.outcomes:
        moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        assert value in OUTCOMES
        assert count == _scalar(
            db_sessions,
            "SELECT count(*) FROM feedback WHERE value = :v AND updated_at >= :a "
            "AND updated_at < :b",
            v=value,
            a=moment,
            b=moment + timedelta(days=1),
        )
    assert sum(n for _, _, n in figures.outcomes) == _scalar(
        db_sessions,
        "SELECT count(*) FROM feedback WHERE updated_at >= :a AND value IN "
        "('PendingReview', 'Blocked', 'NotBlocked')",
        a=start,
    )

    assert figures.blocked == _scalar(
        db_sessions, "SELECT count(DISTINCT hash_id) FROM feedback WHERE value = 'Blocked'"
    )
    assert figures.with_outcome == _scalar(
        db_sessions,
        "SELECT count(DISTINCT hash_id) FROM feedback WHERE value IN "
        "('PendingReview', 'Blocked', 'NotBlocked')",
    )
    assert 0 < figures.blocked < figures.with_outcome
    with db_sessions() as session:
        by_partner = feedback_by_partner(session)
    direct: dict[int, dict[str, int]] = {}
    for partner, value, count in _rows(
        db_sessions, "SELECT partner_id, value, count(*) FROM feedback GROUP BY partner_id, value"
    ):
        direct.setdefault(int(partner), {})[str(value)] = int(count)
    assert by_partner == direct

    # Time to first outcome, from the raw rows.
    with db_sessions() as session:
        rows = session.execute(
            text(
                "SELECT c.id, c.created_at, f.updated_at FROM cases c "
                "JOIN case_hashes ch ON ch.case_id = c.id "
                "JOIN feedback f ON f.hash_id = ch.hash_id "
                "WHERE f.value IN ('PendingReview', 'Blocked', 'NotBlocked') AND c.created_at >= :a"
            ),
            {"a": start},
        ).all()
    first: dict[int, float] = {}
    for case_id, created, given in rows:
        created, given = (_aware(created), _aware(given))
        seconds = (given - created).total_seconds()
        first[case_id] = min(first.get(case_id, seconds), seconds)
    values = sorted(first.values())
    t = figures.time_to_outcome
    assert t.cases == len(values) > 100
    assert t.median_seconds is not None and abs(t.median_seconds - statistics.median(values)) < 1
    p90 = statistics.quantiles(values, n=10, method="inclusive")[-1]
    assert t.p90_seconds is not None and abs(t.p90_seconds - p90) < 1


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def test_an_empty_bank_has_no_figures(db_sessions: Any) -> None:
    with db_sessions() as session:
        figures = overview(session, NOW, 90, "week")
    assert figures.hashes == figures.outcomes == []
    assert len(figures.cases) == len(figures.periods) == 13  # 90 days: 13 or 14 Mondays
    assert all(o == w == 0 for _, o, w in figures.cases)
    assert (figures.blocked, figures.with_outcome, figures.time_to_outcome.cases) == (0, 0, 0)


def test_the_api_serves_json_and_csv(api_client: Callable[..., Any], db_sessions: Any) -> None:
    clock = FakeClock(NOW)
    seed(db_sessions, cases=200)
    client, staff = signed_in_client(
        api_client, db_sessions, clock, email="an@example.org", role="analyst"
    )
    answer = client.get("/admin/api/stats", params={"days": 30, "period": "week"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["period"] == "week" and body["hashes_with_outcome"] > 0
    assert all(date.fromisoformat(r["start"]).weekday() == 0 for r in body["cases"])
    csv = client.get("/admin/api/stats/cases.csv", params={"days": 30, "period": "week"})
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "week,opened,withdrawn" and len(lines) == len(body["cases"]) + 1
    assert lines[1] == "{start},{opened},{withdrawn}".format(**body["cases"][0])
    summary = client.get("/admin/api/stats/summary.csv").text
    assert "hashes_blocked," in summary
    assert client.get("/admin/api/stats/nothing.csv").status_code == 400
    assert client.get("/admin/api/stats", params={"days": 0}).status_code == 422
    client.cookies.clear()
    assert client.get("/admin/api/stats").status_code == 401
    assert staff.email == "an@example.org"


def test_the_feed_purge_compacts_the_rollups(
    api_client: Callable[..., Any], db_sessions: Any
) -> None:
    seed(db_sessions, cases=100)
    with db_sessions() as session:
        overview(session, NOW, 90, "day")  # compacts
    assert _scalar(db_sessions, "SELECT count(*) FROM stats_changes") == 0
    with db_sessions() as session, session.begin():
        session.execute(text("UPDATE cases SET withdrawn_at = :t WHERE id <= 10"), {"t": NOW})
    assert _scalar(db_sessions, "SELECT count(*) FROM stats_changes") > 0
    api_client(clock=FakeClock(NOW)).app.state.runtime.purge_feed()
    assert _scalar(db_sessions, "SELECT count(*) FROM stats_changes") == 0
    with db_sessions() as session:
        after = overview(session, NOW, 90, "day")
    withdrawn = {d: w for d, _, w in after.cases}
    start = NOW.replace(hour=0, minute=0, second=0, microsecond=0)
    assert (
        withdrawn[NOW.date()]
        == _scalar(db_sessions, "SELECT count(*) FROM cases WHERE withdrawn_at >= :a", a=start)
        >= 10
    )


def test_the_migration_fills_the_rollups_of_an_existing_bank(
    database_url: str, db_sessions: Any
) -> None:
    seed(db_sessions, cases=400, seed_value=5)
    engine = make_engine(database_url)
    try:
        downgrade(engine, "0011")  # 0012 goes down to 0011's rollups
        downgrade(engine, "0010")  # before the rollups: the bank stays
        migrate(engine)
    finally:
        engine.dispose()
    assert _scalar(db_sessions, "SELECT count(*) FROM stats_changes") == 0
    assert _scalar(db_sessions, "SELECT count(*) FROM stats_counts") > 0
    _check_figures(db_sessions, NOW)

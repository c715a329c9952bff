"""Helpline console benchmark: every console page and CSV export on a large bank in PostgreSQL.

    .venv/bin/python bench/admin.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

1. Builds a bank in a schema of its own with ``generate_series`` (not through the API):
   ``--cases`` cases (default 1,000,000) over the last year, a fifth withdrawn, 3 hashes each
   (3,000,000: PDQ, MD5 and vPDQ), ``--feedback`` partner outcomes (default 1,000,000: five
   partners, a day or so after the case), partner activity per hour and 10,000 audit entries.
   The rows are loaded with the triggers off, then the console's rollups are computed once
   (:func:`openncii.stats.rollups.rebuild`, as migration 0011 does); then ``VACUUM ANALYZE``.
2. Serves the app in this process (uvicorn, a thread), signs a staff member in through the API
   (password + TOTP) and times ``--rounds`` requests of every console API the pages call and of
   every CSV export, one after the other on a keep-alive connection: the first request, then
   the median and max of the rest (the console keeps nothing between requests: every one reads
   the rollups). Then the overview's figures read in this process (no HTTP), and the peer: the
   same figures counted over the tables with SQL, as the console did before the rollups.

Prints a Markdown table (median and max per page, the direct SQL median) with the load average
before and after. The schema is dropped at the end (``--keep`` keeps it; ``--schema NAME`` times
a kept bank again). ``--writes N`` instead times what the rollup triggers cost the writers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import httpx
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from openncii.api import create_app
from openncii.db import make_engine, make_session_factory, migrate
from openncii.partners import record_feedback
from openncii.settings import Settings
from openncii.staff import StaffPolicy, add_staff
from openncii.staff.totp import time_step, totp_code
from openncii.stats import overview
from openncii.stats.rollups import rebuild
from openncii.testing import create_schema, drop_schema, serve_in_thread, with_search_path

PASSWORD = "benchmark staple horse 42"

_SEED = (
    """INSERT INTO partners (id, name, key_digest, can_submit, created_at)
       SELECT i, 'Partner ' || i, md5('key' || i) || md5('k' || i), false,
              now() - interval '2 years'
       FROM generate_series(1, 5) i""",
    """INSERT INTO cases (id, number, pin_hash, partner_ref, status, language, created_at,
                          withdrawn_at)
       SELECT i, lpad(i::text, 12, '0'), 'x', 'r' || i,
              CASE WHEN i % 5 = 0 THEN 'withdrawn' ELSE 'active' END, 'en',
              now() - (i % 365) * interval '1 day' - (i % 86400) * interval '1 second',
              CASE WHEN i % 5 = 0 THEN now() - (i % 365) * interval '1 day'
                   + interval '3 hours' END
       FROM generate_series(1, :cases) i""",
    """INSERT INTO hashes (id, signal_type, value, status, feed_seq, created_at, updated_at)
       SELECT i, (ARRAY['pdq', 'md5', 'vpdq'])[1 + i % 3], md5('h' || i) || md5('v' || i),
              CASE WHEN ((i + 2) / 3) % 5 = 0 THEN 'withdrawn' ELSE 'active' END, i, now(), now()
       FROM generate_series(1, 3 * :cases) i""",
    """INSERT INTO case_hashes (case_id, hash_id, position)
       SELECT (i + 2) / 3, i, i % 3 FROM generate_series(1, 3 * :cases) i""",
    """INSERT INTO feedback (hash_id, partner_id, value, tags, updated_at)
       SELECT 1 + (i::bigint * 7919) % (3 * :cases), 1 + i % 5,
              (ARRAY['PendingReview', 'Blocked', 'NotBlocked', 'Blocked'])[1 + i % 4], '[]',
              now() - ((1 + (i::bigint * 7919) % (3 * :cases) + 2) / 3 % 365) * interval '1 day'
              + interval '20 hours'
       FROM generate_series(1, :feedback) i
       ON CONFLICT DO NOTHING""",
    """INSERT INTO partner_activity (partner_id, hour, pages, records, unauthorized)
       SELECT 1 + i % 5, (extract(epoch FROM now())::bigint / 3600 - i / 5) * 3600, 10, 8000, 1
       FROM generate_series(0, 5 * 24 * 30 - 1) i""",
    """INSERT INTO audit_log (at, actor, action, target, network)
       SELECT now() - i * interval '1 minute', 'someone@example.org', 'signin.success', NULL,
              '192.0.2.0/24'
       FROM generate_series(1, 10000) i""",
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), :cases)",
)


#: The overview's figures (90 days per week) counted over the tables, as the console did before
#: the rollups of migration 0011: what a page would cost without them.
_DIRECT: Final = (
    """SELECT date_trunc('week', created_at AT TIME ZONE 'UTC'), count(*) FROM cases
       WHERE created_at >= now() - interval '90 days' GROUP BY 1""",
    """SELECT date_trunc('week', withdrawn_at AT TIME ZONE 'UTC'), count(*) FROM cases
       WHERE withdrawn_at >= now() - interval '90 days' GROUP BY 1""",
    "SELECT signal_type, status, count(*) FROM hashes GROUP BY 1, 2",
    """SELECT date_trunc('week', updated_at AT TIME ZONE 'UTC'), value, count(*) FROM feedback
       WHERE updated_at >= now() - interval '90 days'
       AND value IN ('PendingReview', 'Blocked', 'NotBlocked') GROUP BY 1, 2""",
    "SELECT count(DISTINCT hash_id) FROM feedback WHERE value = 'Blocked'",
    """SELECT count(DISTINCT hash_id) FROM feedback
       WHERE value IN ('PendingReview', 'Blocked', 'NotBlocked')""",
    """SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
              percentile_cont(0.9) WITHIN GROUP (ORDER BY s)
       FROM (SELECT extract(epoch FROM min(f.updated_at) - c.created_at) AS s
             FROM cases c JOIN case_hashes ch ON ch.case_id = c.id
             JOIN feedback f ON f.hash_id = ch.hash_id
             WHERE c.created_at >= now() - interval '90 days'
             AND f.value IN ('PendingReview', 'Blocked', 'NotBlocked')
             GROUP BY c.id, c.created_at) x""",
)


def build(url: str, cases: int, feedback: int) -> None:
    """The bank, loaded without triggers (``session_replication_role``: no foreign-key checks
    and no rollup changes row by row), then the rollups computed once from the tables."""
    engine = make_engine(url)
    try:
        migrate(engine)
        with engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in _SEED:
                connection.execute(text(statement), {"cases": cases, "feedback": feedback})
            connection.execute(text("SET LOCAL session_replication_role = origin"))
            started = time.perf_counter()
            rebuild(connection)
            print(f"rollups rebuilt in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM ANALYZE")
            )
    finally:
        engine.dispose()


def write_cost(database_url: str, transactions: int) -> None:
    """What the rollup triggers cost the writers: ``transactions`` case creations (a case, 3
    hashes, their links, the feed stamp) then as many partner outcomes
    (:func:`openncii.partners.record_feedback`), each its own transaction, in a fresh schema with
    the triggers on, then off (``session_replication_role = replica``), twice."""
    now = datetime.now(UTC)
    for role in ("origin", "replica", "origin", "replica"):
        schema = f"bench_writes_{uuid.uuid4().hex[:8]}"
        url = create_schema(database_url, schema)
        engine = make_engine(url)
        try:
            migrate(engine)
            engine.dispose()

            @event.listens_for(engine, "connect")
            def _role(connection: Any, _record: Any, role: str = role) -> None:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET session_replication_role = {role}")

            sessions = make_session_factory(engine)
            with sessions() as session, session.begin():
                session.execute(text(_SEED[0]))
            started = time.perf_counter()
            for i in range(1, transactions + 1):
                ids = {"i": i, "n": f"n{i}", "a": 3 * i, "b": 3 * i + 1, "c": 3 * i + 2}
                with sessions() as session, session.begin():
                    for statement in _ONE_CASE:
                        session.execute(text(statement), ids)
            per_case = (time.perf_counter() - started) / transactions * 1000
            started = time.perf_counter()
            for i in range(1, transactions + 1):
                with sessions() as session:
                    value = ("Blocked", "NotBlocked")[i % 2]
                    record_feedback(session, 1, "pdq", f"{3 * i:064x}", value, [], now)
            per_outcome = (time.perf_counter() - started) / transactions * 1000
            print(
                f"| triggers {'on' if role == 'origin' else 'off'} | {per_case:.1f} | "
                f"{per_outcome:.1f} |"
            )
        finally:
            engine.dispose()
            drop_schema(database_url, schema)


#: One case with three PDQ hashes, stamped at a new feed position (as a case creation writes).
_ONE_CASE: Final = (
    """INSERT INTO cases (id, number, pin_hash, partner_ref, status, created_at)
       VALUES (:i, :n, 'x', :n, 'active', now())""",
    *(
        f"""INSERT INTO hashes (id, signal_type, value, status, feed_seq, created_at, updated_at)
            VALUES (:{k}, 'pdq', lpad(to_hex(CAST(:{k} AS bigint)), 64, '0'), 'active', :{k},
                    now(), now())"""
        for k in "abc"
    ),
    *(
        f"INSERT INTO case_hashes (case_id, hash_id, position) VALUES (:i, :{k}, {p})"
        for p, k in enumerate("abc")
    ),
    "UPDATE hashes SET feed_seq = feed_seq + 1 WHERE id IN (:a, :b, :c)",
)


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _time(call: Any, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--feedback", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=10.0,
        help="a page whose first request takes longer is not requested again",
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    parser.add_argument(
        "--schema", help="time the bank of this schema (kept by an earlier --keep) instead"
    )
    parser.add_argument(
        "--writes",
        type=int,
        default=0,
        help="instead: time this many case creations and partner outcomes with the rollup "
        "triggers on and off",
    )
    args = parser.parse_args()
    if args.writes:
        print(f"load average (1 min): {_load()}", file=sys.stderr)
        print("| | ms per case (3 hashes) | ms per partner outcome |\n|---|---|---|")
        write_cost(args.database_url, args.writes)
        print(f"load average (1 min): {_load()}", file=sys.stderr)
        return

    schema = args.schema or f"bench_admin_{uuid.uuid4().hex[:8]}"
    if args.schema:
        url = with_search_path(args.database_url, schema)
    else:
        url = create_schema(args.database_url, schema)
    try:
        if not args.schema:
            started = time.perf_counter()
            build(url, args.cases, args.feedback)
            print(
                f"bank: {args.cases:,} cases, {3 * args.cases:,} hashes, {args.feedback:,} "
                f"feedback rows built in {time.perf_counter() - started:.0f} s in {schema}",
                file=sys.stderr,
            )
        settings = Settings(
            database_url=url,
            argon2_time_cost=1,
            argon2_memory_kib=64,
        )
        sessions = make_session_factory(make_engine(url))
        now = datetime.now(UTC)
        email = f"bench-{uuid.uuid4().hex[:8]}@example.org"  # a fresh one on a kept bank
        with sessions() as session:
            link = add_staff(
                session,
                email,
                "admin",
                now,
                StaffPolicy(),
                actor=None,
                network="shell",
            )
        app = create_app(settings)
        with serve_in_thread(app) as base, httpx.Client(base_url=base, timeout=900) as http:
            view = http.post("/admin/api/setup/view", json={"token": link.token}).json()
            secret = view["totp_secret"]
            clock = datetime.now(UTC)
            code = totp_code(secret, time_step(clock))
            done = http.post(
                "/admin/api/setup", json={"token": link.token, "password": PASSWORD, "code": code}
            )
            assert done.status_code == 200, done.text
            time.sleep(max(0.0, 30 - clock.timestamp() % 30) + 0.5)  # a fresh code
            code = totp_code(secret, time_step(datetime.now(UTC)))
            signed = http.post(
                "/admin/api/session",
                json={"email": email, "password": PASSWORD, "code": code},
            )
            assert signed.status_code == 200, signed.text
            pages = {
                "overview, 90 days per week": "/admin/api/stats?days=90&period=week",
                "overview, 30 days per day": "/admin/api/stats?days=30&period=day",
                "overview, 365 days per week": "/admin/api/stats?days=365&period=week",
                "partners (GET /admin/api/partners)": "/admin/api/partners",
                "audit log, newest 500": "/admin/api/audit?limit=500",
                "hash review queue": "/admin/api/review",
                "disabled hashes": "/admin/api/review/disabled",
                "deny-list": "/admin/api/denylist",
                "settings": "/admin/api/settings",
                "helplines": "/admin/api/helplines",
                "staff": "/admin/api/staff",
                "session": "/admin/api/session",
                "CSV: cases per week, 365 days": "/admin/api/stats/cases.csv?days=365&period=week",
                "CSV: outcomes per day, 90 days": "/admin/api/stats/outcomes.csv?days=90",
                "CSV: summary": "/admin/api/stats/summary.csv",
                "CSV: audit log (all 10,000+)": "/admin/api/audit/export.csv",
            }
            load_before = _load()
            print("| page | first request ms | median ms | max ms |\n|---|---|---|---|")
            for name, path in pages.items():
                first = time.perf_counter()
                answer = http.get(path)
                first_ms = (time.perf_counter() - first) * 1000
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:200])
                if first_ms > args.slow_seconds * 1000:
                    print(f"| {name} | {first_ms:,.0f} | (not repeated) | |")
                    continue
                times = _time(lambda p=path: http.get(p).raise_for_status(), args.rounds)
                median, worst = statistics.median(times), max(times)
                print(f"| {name} | {first_ms:.0f} | {median:.0f} | {worst:.0f} |")

            def from_rollups() -> None:
                with sessions() as session:
                    overview(session, datetime.now(UTC), 90, "week")

            def direct() -> None:
                with sessions() as session, session.begin():
                    for statement in _DIRECT:
                        session.execute(text(statement)).all()

            for name, call in (
                (
                    "the overview's figures from the rollups, no HTTP (90 days per week)",
                    from_rollups,
                ),
                ("peer: the same figures counted over the tables (90 days per week)", direct),
            ):
                times = _time(call, args.rounds)
                print(
                    f"| {name} | {times[0]:.0f} | {statistics.median(times):.0f} | "
                    f"{max(times):.0f} |"
                )
            print(f"\nload average (1 min): {load_before} before, {_load()} after", file=sys.stderr)
    finally:
        if not (args.keep or args.schema):
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()

"""Hash-review queue benchmark: the console's queue on a bank in PostgreSQL.

    .venv/bin/python bench/review.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Builds the bank of ``bench/admin.py`` (``--cases`` cases, 3 hashes each, as many partner
outcomes) in a schema of its own, gives the PDQ hashes random values (that bank's are all near
zero: every one would be near the shipped deny-list's all-zeros entry), keeps a network for the
cases of the last 30 days, as the service does (``--networks``: by default the share of a bank
spread over a year, ``cases * 30 / 365``, from 5,000 networks, and one burst of 12 cases in 12
minutes) and
one entry in the helpline's deny-list. Then times the scans that store the ``near_denied`` flags
(:mod:`openncii.review.near`: a deny-list entry added, whole and in the two parts ``deny_value``
runs, the search before the deny-list's lock and what it does under the lock; the shipped list
at the first read after it changed), the flagging of the ``network_burst`` cases
(:mod:`openncii.review.bursts`: all of them at the first read after migration 0013 or a change
of the rule, as for the networks written here; a case's own count when it is stored,
:mod:`openncii.cases.bursts`), each reason's query (3 rounds) and the whole queue (``--rounds``
rounds, each in a new session: a server keeps nothing between requests, so every round is what a
freshly started server answers). Prints milliseconds and the load average; the schema is dropped
at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent))

from admin import build
from openncii.cases import DenyList
from openncii.cases.bursts import flag_burst
from openncii.db import make_engine, make_session_factory
from openncii.review import ReviewRules, review_queue
from openncii.review import queue as review
from openncii.review.bursts import sync_bursts
from openncii.review.near import flag_entries, flag_prescanned, prescan_entries, sync_shipped
from openncii.testing import create_schema, drop_schema

_SHAPE = (
    "UPDATE hashes SET value = md5(id::text) || md5((id * 7)::text) WHERE signal_type = 'pdq'",
    """INSERT INTO case_networks (case_id, network, created_at)
       SELECT i, md5((i % 5000)::text) || md5('x'),
              now() - (i % 720) * interval '1 hour' - (i % 3600) * interval '1 second'
       FROM generate_series(1, :networks) i""",
    """UPDATE case_networks SET network = 'burst',
              created_at = now() - (case_id % 12) * interval '1 minute'
       WHERE case_id BETWEEN 1000 AND 1011""",
    """INSERT INTO denied_hashes (signal_type, value, reason, created_at)
       VALUES ('pdq', md5('3') || md5('21'), 'a logo', now())""",
    "UPDATE feed_clock SET value = (SELECT max(feed_seq) FROM hashes)",
    "ANALYZE",
)


#: The network with the most cases in the last hour (what a stored case of it counts).
_BUSIEST = """SELECT network FROM case_networks WHERE created_at > now() - interval '1 hour'
              GROUP BY network ORDER BY count(*) DESC, network LIMIT 1"""


def _ms(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL URL")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--networks",
        type=int,
        default=None,
        help="case networks kept (the cases of the last 30 days; default cases * 30 / 365)",
    )
    args = parser.parse_args()
    if args.networks is None:
        args.networks = args.cases * 30 // 365
    schema = f"bench_review_{os.getpid()}"
    url = create_schema(args.database_url, schema)
    try:
        print(f"load before: {os.getloadavg()[0]:.1f}")
        build(url, args.cases, args.cases)
        engine = make_engine(url)
        with engine.begin() as connection:
            for statement in _SHAPE:
                connection.execute(text(statement), {"networks": args.networks})
        sessions = make_session_factory(engine)
        shipped = DenyList.load()
        with engine.begin() as connection:
            entry = connection.scalar(text("SELECT value FROM denied_hashes"))
            ms, flagged = _ms(lambda: flag_entries(connection, [entry]))
        print(f"deny-list entry added (scan of every PDQ hash): {flagged} flags, {ms:.0f} ms")
        with engine.begin() as connection:
            ms, prescan = _ms(lambda: prescan_entries(connection, [entry]))
            locked, _ = _ms(lambda: flag_prescanned(connection, [entry], prescan))
        print(
            f"  as deny_value does it: search before the lock {ms:.0f} ms, "
            f"under the lock (the hashes stamped since) {locked:.0f} ms"
        )
        with engine.begin() as connection:
            connection.execute(text("UPDATE review_scans SET fingerprint = ''"))
            ms, _ = _ms(lambda: sync_shipped(connection, shipped))
        print(f"shipped list changed (scan at the first read): {ms:.0f} ms")
        rules = ReviewRules()
        now = datetime.now(UTC)
        with engine.begin() as connection:
            ms, _ = _ms(lambda: sync_bursts(connection, rules.bursts, now))
        print(f"burst flags of every kept case (rule changed): {ms:.0f} ms")
        with engine.connect() as connection:
            network = connection.scalar(text(_BUSIEST))
            connection.rollback()
            times = []
            for _ in range(5):
                with connection.begin() as transaction:
                    ms, _ = _ms(lambda: flag_burst(connection, network, now, rules.bursts))
                    transaction.rollback()
                times.append(ms)
        shown = ", ".join(f"{t:.1f}" for t in times)
        print(f"a case stored: its network's count and flags: {shown} ms")
        parts: dict[str, Callable[[Any], Any]] = {
            "not_blocked": lambda s: list(review._not_blocked(s, rules)),
            "frequent_match": lambda s: list(review._frequent_match(s, rules)),
            "near_denied (stored)": lambda s: review._near_denied(s, shipped),
            "network_burst": lambda s: list(review._network_bursts(s, rules, now)),
        }
        for name, part in parts.items():
            times = []
            for _ in range(3):
                with sessions() as session, session.begin():
                    ms, found = _ms(lambda: part(session))  # noqa: B023
                times.append(ms)
            print(f"{name}: {len(found)} hashes, {', '.join(f'{t:.0f}' for t in times)} ms")
        times = []
        for _ in range(args.rounds):
            with sessions() as session:
                ms, queue = _ms(lambda: review_queue(session, rules, shipped, now))
            times.append(ms)
        print(f"queue: {len(queue.items)} items, {', '.join(f'{t:.0f}' for t in times)} ms")
        print(f"load after: {os.getloadavg()[0]:.1f}")
        engine.dispose()
    finally:
        drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()

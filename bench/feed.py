"""Partner feed benchmark: full sync of a large bank over HTTP, and visibility delay.

    .venv/bin/python bench/feed.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

1. Builds a bank of ``--records`` hashes (default 1,000,000) in a schema of its own with COPY
   (cases of 5 hashes, each case its own feed position, 1% of hashes with a partner's feedback):
   not through the API. COPY goes around the record cache that every write through OpenNCII
   keeps current (migration 0004), so the cache is then rebuilt in one statement
   (``openncii.feed.rebuild_record_cache``).
2. Starts ``openncii serve`` on a free loopback port and times ``--syncs`` full syncs with raw
   httpx (FetchHashes in pages of ``--page-size``, default 1000, following nextPageToken; one
   keep-alive connection; pages parsed with orjson, with the cyclic garbage collector paused
   during the sync as a bulk client would: it otherwise re-scans each page's thousands of new
   dicts and costs more than the parsing), then with our partner client ``FeedClient``: pages
   only (``iter_pages``, no store) and into its local SQLite store (``sync``).
   With ``--variants`` the bank is made of photos enrolled for robust matching instead (8 rows
   per photo, as ``openncii.enroll_file`` gives for most: ``pdq``, 5 ``pdq_square``, 2
   ``pdq_strip``), and each raw-HTTP sync is timed twice: as a stock client (no ``variants``
   parameter: the feed skips the variant rows, 1 record in 8) and with ``variants=1`` (all).
3. Visibility: opens cases through the victim API and polls FetchHashes from the saved checkpoint
   until the new hash shows; reports the delay from the 201 answer.

Each line shows the load average (1 min) before and after: the figures are only as good as the
machine is quiet.

The schema is dropped at the end (``--keep`` keeps it).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from openncii.db import make_engine, make_session_factory, migrate
from openncii.feed import rebuild_record_cache
from openncii.partner import FeedClient, PartnerStore
from openncii.partners import add_partner
from openncii.testing import ServerProcess, create_schema, drop_schema, start_server

HASHES_PER_CASE = 5
#: With --variants: the signal types of one enrolled photo's rows, in order.
PHOTO_TYPES = ("pdq", *["pdq_square"] * 5, *["pdq_strip"] * 2)
CHUNK = 50_000
ELIGIBLE = {
    "in_image": True,
    "adult_when_taken": True,
    "adult_now": True,
    "has_content": True,
    "intimate": True,
}


def row_type(row: int, variants: bool) -> str:
    """The signal type of bank row ``row`` (1-based)."""
    if variants:
        return PHOTO_TYPES[(row - 1) % len(PHOTO_TYPES)]
    return "md5" if row % 10 == 0 else "pdq"


def build_bank(url: str, records: int, seed: int = 1, variants: bool = False) -> str:
    """Migrate and fill the schema behind ``url``; return a partner key."""
    rng = random.Random(seed)
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions() as session:
        reader_key = add_partner(session, "Bench reader", now).key
        add_partner(session, "Bench reviewer", now)
    cases = (records + HASHES_PER_CASE - 1) // HASHES_PER_CASE
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        stamp = now.isoformat()
        with cursor.copy(
            "COPY cases (id, number, pin_hash, partner_ref, status, created_at) FROM STDIN"
        ) as copy:
            refs = rng.randbytes(16 * cases).hex()
            for chunk in range(1, cases + 1, CHUNK):
                copy.write(
                    "".join(
                        f"{c}\tB{c:011d}\t!bench\t{refs[(c - 1) * 32 : c * 32]}\tactive\t{stamp}\n"
                        for c in range(chunk, min(chunk + CHUNK, cases + 1))
                    )
                )
        with cursor.copy(
            "COPY hashes (id, signal_type, value, status, feed_seq, created_at, updated_at) "
            "FROM STDIN"
        ) as copy:
            for chunk in range(1, records + 1, CHUNK):
                rows = range(chunk, min(chunk + CHUNK, records + 1))
                values = rng.randbytes(32 * len(rows)).hex()
                copy.write(
                    "".join(
                        f"{row}\t{kind}\t"
                        f"{values[i * 64 : i * 64 + (32 if kind == 'md5' else 64)]}\tactive\t"
                        f"{(row - 1) // HASHES_PER_CASE + 1}\t{stamp}\t{stamp}\n"
                        for i, row in enumerate(rows)
                        for kind in [row_type(row, variants)]
                    )
                )
        with cursor.copy("COPY case_hashes (case_id, hash_id, position) FROM STDIN") as copy:
            for chunk in range(1, records + 1, CHUNK):
                copy.write(
                    "".join(
                        f"{(row - 1) // HASHES_PER_CASE + 1}\t{row}\t{(row - 1) % 5}\n"
                        for row in range(chunk, min(chunk + CHUNK, records + 1))
                    )
                )
        with cursor.copy(
            "COPY feedback (hash_id, partner_id, value, tags, updated_at) FROM STDIN"
        ) as copy:
            for row in range(1, records + 1, 100):
                copy.write_row((row, 2, "Blocked", '["bench"]', now))
        cursor.execute("UPDATE feed_clock SET value = %s", (cases,))
        for table, column in (("cases", "id"), ("hashes", "id")):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                f"(SELECT max({column}) FROM {table}))"
            )
        raw.commit()
        cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    loaded = time.perf_counter()
    try:
        with sessions() as session:
            rebuild_record_cache(session)
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE feed_record_cache"
            )
    finally:
        engine.dispose()
    print(
        f"bank: {records:,} hashes in {cases:,} cases, {loaded - started:.1f} s; "
        f"record cache rebuilt in {time.perf_counter() - loaded:.1f} s"
    )
    return reader_key


def full_sync(
    base: str, key: str, page_size: int, variants: bool = False
) -> tuple[int, int, float]:
    headers = {"Ocp-Apim-Subscription-Key": key, "x-functions-key": key}
    records = pages = 0
    token = ""
    gc.disable()
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            started = time.perf_counter()
            while True:
                params: dict[str, Any] = {"startTimestamp": 0, "pageSize": page_size}
                if variants:
                    params["variants"] = 1
                if token:
                    params["nextPageToken"] = token
                response = client.get("/v1/FetchHashes", params=params)
                response.raise_for_status()
                page = orjson.loads(response.content)
                records += len(page["hashRecords"])
                pages += 1
                if not page["hasMoreRecords"]:
                    return records, page["nextSetTimestamp"], time.perf_counter() - started
                token = page["nextPageToken"]
    finally:
        gc.enable()


def client_pages(base: str, key: str) -> tuple[int, float]:
    """A full fetch with ``FeedClient.iter_pages`` (parsed and checked records, no store)."""
    records = 0
    with FeedClient(base, key) as client:
        started = time.perf_counter()
        for page in client.iter_pages(0):
            records += len(page.records) + page.skipped
        return records, time.perf_counter() - started


def client_store(base: str, key: str) -> tuple[int, float]:
    """A first ``FeedClient.sync`` into a new local store (a SQLite file)."""
    with tempfile.TemporaryDirectory() as folder, FeedClient(base, key) as client:
        store = PartnerStore.open(Path(folder) / "store.sqlite3")
        try:
            started = time.perf_counter()
            result = client.sync(store)
            return result.records, time.perf_counter() - started
        finally:
            store.close()


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def visibility(base: str, key: str, checkpoint: int, rounds: int) -> list[float]:
    headers = {"x-functions-key": key}
    delays = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for _ in range(rounds):
            value = f"{random.getrandbits(256):064x}"
            body = {
                "eligibility": ELIGIBLE,
                "hashes": [{"type": "pdq", "value": value, "quality": 90}],
            }
            response = client.post("/api/v1/cases", json=body)
            assert response.status_code == 201, response.text
            created = time.perf_counter()
            while True:
                page = client.get(
                    "/v1/FetchHashes",
                    params={"startTimestamp": checkpoint, "pageSize": 1000},
                    headers=headers,
                ).json()
                if any(r["hashValue"] == value for r in page["hashRecords"]):
                    delays.append(time.perf_counter() - created)
                    checkpoint = page["nextSetTimestamp"]
                    break
                if time.perf_counter() - created > 10:
                    raise SystemExit("a new case did not show within 10 s")
            time.sleep(0.05)
    return delays


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[attr-defined]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("OPENNCII_TEST_DATABASE_URL"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20, help="visibility measurements")
    parser.add_argument("--syncs", type=int, default=3, help="raw-HTTP full syncs")
    parser.add_argument(
        "--client-syncs", type=int, default=1, help="FeedClient full syncs (each kind)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the schema")
    parser.add_argument(
        "--variants",
        action="store_true",
        help="a bank of robust-matching photos (8 rows each); syncs with and without variants=1",
    )
    args = parser.parse_args()
    if not args.database_url or not args.database_url.startswith("postgresql"):
        raise SystemExit("--database-url postgresql+psycopg://... is required")
    schema = f"bench_feed_{uuid.uuid4().hex[:8]}"
    url = create_schema(args.database_url, schema)
    server: ServerProcess | None = None
    try:
        key = build_bank(url, args.records, variants=args.variants)
        # Production argon2, rate limits out of the way.
        server = start_server(url, fast=False, log_level="warning")
        base = server.base_url
        checkpoint = 0
        stock = sum(1 for row in range(1, args.records + 1) if row_type(row, True) == "pdq")
        modes = [(False, stock), (True, args.records)] if args.variants else [(False, args.records)]
        for with_variants, expected in modes:
            rates, times = [], []
            label = "variants=1" if with_variants else "stock" if args.variants else "raw HTTP"
            for run in range(args.syncs):
                before = _load()
                records, checkpoint, seconds = full_sync(base, key, args.page_size, with_variants)
                assert records == expected, records
                rates.append(records / seconds)
                times.append(seconds)
                print(
                    f"full sync {run + 1} ({label}): {records:,} records in {seconds:.2f} s = "
                    f"{records / seconds:,.0f} records/s (pages of {args.page_size}; "
                    f"load {before} -> {_load()})"
                )
            if rates:
                print(
                    f"{label} median: {statistics.median(rates):,.0f} records/s, "
                    f"{statistics.median(times):.2f} s per full sync"
                )
        if args.variants:
            return  # FeedClient and visibility: measured on the plain bank
        for label, sync in (("FeedClient pages", client_pages), ("FeedClient store", client_store)):
            for run in range(args.client_syncs):
                before = _load()
                records, seconds = sync(base, key)
                assert records == args.records, (label, records)
                print(
                    f"full sync {run + 1} ({label}): {records:,} records in {seconds:.2f} s = "
                    f"{records / seconds:,.0f} records/s (load {before} -> {_load()})"
                )
        delays = visibility(base, key, checkpoint, args.rounds)
        print(
            f"visibility after case creation ({len(delays)} cases): "
            f"median {statistics.median(delays) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )
    finally:
        if server is not None:
            server.stop()
        if not args.keep:
            drop_schema(args.database_url, schema)


if __name__ == "__main__":
    main()

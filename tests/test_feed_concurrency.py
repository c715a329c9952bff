"""No record is ever skipped: concurrent writers (cases opened and withdrawn, commits delayed at
random while the feed-clock lock is held) and readers paging in small pages on PostgreSQL. Every
reader must end holding exactly the final state of the bank."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from case_helpers import random_md5, random_pdq
from openncii.api.runtime import Runtime
from openncii.cases import Eligibility, Md5Submission, PdqSubmission, create_case, withdraw_case
from openncii.db import make_engine, migrate
from openncii.db.models import HASH_ACTIVE, HashRecord
from openncii.feed import fetch_page
from openncii.partners import add_partner, record_feedback
from openncii.partners.service import key_digest
from openncii.settings import Settings
from openncii.signals.registry import by_key
from openncii.testing import FAST_ARGON2

pytestmark = pytest.mark.postgres

SECRET = b"k" * 32
WRITERS = 6
CASES_PER_WRITER = 30
READERS = 4
REVIEWER_ID = 2
ELIGIBLE = Eligibility(True, True, True, True, True)


@pytest.fixture
def runtime(fresh_postgres_url: str) -> Iterator[Runtime]:
    engine = make_engine(fresh_postgres_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    settings = Settings(
        database_url=fresh_postgres_url,
        database_pool_size=16,
        denylist_extra_path=None,
        **FAST_ARGON2,
    )
    runtime = Runtime(settings)
    yield runtime
    runtime.close()


def _late_commits(session: Session, rng: random.Random) -> None:
    """Hold every transaction open a little longer (feed-clock lock included) before COMMIT."""

    @event.listens_for(session, "before_commit")
    def _delay(_session: Session) -> None:
        time.sleep(rng.random() * 0.03)


def _writer(runtime: Runtime, seed: int, shared: list[str], errors: list[BaseException]) -> None:
    rng = random.Random(seed)
    try:
        opened = []
        with runtime.sessions() as session:
            _late_commits(session, rng)
            for _ in range(CASES_PER_WRITER):
                hashes: list[Any] = [PdqSubmission(rng.choice(shared), 90)]
                hashes += [PdqSubmission(random_pdq(rng), 90) for _ in range(rng.randint(0, 2))]
                if rng.random() < 0.3:
                    hashes.append(Md5Submission(random_md5(rng)))
                created = create_case(
                    session,
                    runtime.rules,
                    eligibility=ELIGIBLE,
                    hashes=hashes,
                    language=None,
                    now=datetime.now(UTC),
                )
                opened.append(created)
                if rng.random() < 0.2:  # partner feedback changes records too
                    record_feedback(
                        session,
                        REVIEWER_ID,
                        "pdq",
                        rng.choice(shared),
                        rng.choice(("Blocked", "NotBlocked")),
                        [f"w{seed}"],
                        datetime.now(UTC),
                    )
                if rng.random() < 0.25:
                    gone = rng.choice(opened)
                    withdraw_case(
                        session,
                        runtime.rules,
                        runtime.secret(),
                        client=f"writer-{seed}",
                        case_number=gone.case_number,
                        pin=gone.pin,
                        now=datetime.now(UTC),
                    )
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


class _Reader:
    def __init__(self, runtime: Runtime, key: str, page_size: int) -> None:
        self.runtime = runtime
        self.key = key
        self.page_size = page_size
        self.checkpoint = 0
        self.records: dict[tuple[str, str], str] = {}
        self.checkpoints: list[int] = []
        self.pages = 0

    def fetch(self) -> None:
        token: str | None = None
        with self.runtime.sessions() as session:
            while True:
                page = fetch_page(
                    session,
                    secret=SECRET,
                    key_digests=[key_digest(self.key)],
                    start_timestamp=self.checkpoint,
                    page_size=self.page_size,
                    page_token=token,
                    now=datetime.now(UTC),
                    token_ttl_seconds=600,
                )
                assert page is not None
                self.pages += 1
                for record in orjson.loads(page.to_json())["hashRecords"]:
                    self.records[(record["signalType"], record["hashValue"])] = record["hashStatus"]
                self.checkpoints.append(page.next_set_timestamp)
                if not page.has_more:
                    self.checkpoint = page.next_set_timestamp
                    return
                token = page.next_page_token
                time.sleep(0.002)  # let writers commit between pages

    def run(self, done: threading.Event, errors: list[BaseException]) -> None:
        try:
            while not done.is_set():
                self.fetch()
            self.fetch()  # after the last commit
        except BaseException as exc:  # pragma: no cover - reported by the test
            errors.append(exc)


def test_readers_paging_during_concurrent_writes_end_with_the_final_set(
    runtime: Runtime,
) -> None:
    rng = random.Random(4)
    shared = [random_pdq(rng) for _ in range(15)]
    errors: list[BaseException] = []
    done = threading.Event()
    with runtime.sessions() as session:
        key = add_partner(session, "Reader", datetime.now(UTC)).key
        assert add_partner(session, "Reviewer", datetime.now(UTC)).partner.id == REVIEWER_ID
    readers = [_Reader(runtime, key, size) for size in (3, 5, 7, 11)[:READERS]]
    reader_threads = [
        threading.Thread(target=r.run, args=(done, errors), daemon=True) for r in readers
    ]
    writer_threads = [
        threading.Thread(target=_writer, args=(runtime, seed, shared, errors), daemon=True)
        for seed in range(WRITERS)
    ]
    for thread in reader_threads + writer_threads:
        thread.start()
    for thread in writer_threads:
        thread.join(timeout=120)
    done.set()
    for thread in reader_threads:
        thread.join(timeout=120)
    assert not errors, errors

    with runtime.sessions() as session:
        final = {
            (by_key(t).wire_name, v): ("Active" if s == HASH_ACTIVE else "Withdrawn")
            for t, v, s in session.execute(
                select(HashRecord.signal_type, HashRecord.value, HashRecord.status)
            )
        }
    assert len(final) > WRITERS * CASES_PER_WRITER  # shared and private hashes
    assert "Withdrawn" in final.values()
    for reader in readers:
        assert reader.records == final, f"page size {reader.page_size}"
        assert reader.checkpoints == sorted(reader.checkpoints)
        assert reader.pages > 20  # they really paged while writers wrote
    # Every cached record (written at each commit, migration 0004) is the fresh build.
    with runtime.sessions() as session, session.begin():
        stale = session.execute(
            text(
                "SELECT count(*) FROM hashes h LEFT JOIN feed_record_cache c ON c.hash_id = h.id "
                "WHERE c.feed_seq IS DISTINCT FROM h.feed_seq "
                "OR c.body IS DISTINCT FROM feed_record_body(h)"
            )
        ).scalar_one()
    assert stale == 0

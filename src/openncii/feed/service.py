"""The partner feed (domain layer): pages of hash records, partner feedback and submissions.

The wire format is StopNCII's (as python-threatexchange's ``StopNCIIAPI`` reads it), so records
are built here directly as the JSON objects partners receive: building pydantic models for
millions of records would cost more than the database. No FastAPI and no HTTP here.

Paging is keyset pagination on ``(hashes.feed_seq, hashes.id)`` (index ``ix_hashes_feed_position``)
bounded by the feed clock read at the start of each page, so a record stamped by a writer that
commits late always lands *after* anything a reader has passed (see :mod:`openncii.feed.cursor`).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import orjson
from sqlalchemy import (
    BigInteger,
    Connection,
    and_,
    case,
    cast,
    delete,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from openncii.cases.denylist import DenyList
from openncii.cases.numbers import new_case_number
from openncii.cases.service import _store_case
from openncii.cases.validation import (
    Md5Submission,
    PdqSubmission,
    Submission,
    ValidHash,
    validate_hashes,
)
from openncii.db.feed_clock import advance_feed_clock, stamp_hashes
from openncii.db.models import (
    CASE_ACTIVE,
    FEED_CLOCK_ID,
    HASH_ACTIVE,
    HASH_WITHDRAWN,
    SIGNAL_MD5,
    SIGNAL_PDQ,
    SIGNAL_VPDQ,
    Case,
    CaseHash,
    Feedback,
    FeedClock,
    FeedRecordCache,
    HashRecord,
    Partner,
)
from openncii.db.upsert import insert_for
from openncii.errors import FeedRequestError, ServiceError, SubmissionNotAllowedError
from openncii.feed.cursor import issue_checkpoint, purge_checkpoints, resolve_start
from openncii.feed.tokens import PageToken, decode_page_token, encode_page_token
from openncii.partners.service import FEEDBACK_VALUES, PartnerInfo

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_BATCH",
    "MAX_PAGE_SIZE",
    "SIGNAL_WIRE_NAMES",
    "FeedPage",
    "FeedbackItem",
    "FeedbackResult",
    "SubmittedHash",
    "fetch_page",
    "purge_withdrawn",
    "submit_feedback",
    "submit_hashes",
]

DEFAULT_PAGE_SIZE: Final = 800
#: Larger page sizes are clamped to this (documented in docs/partners.md).
MAX_PAGE_SIZE: Final = 1000
#: Most items one SubmitFeedback or SubmitHashes request may carry.
MAX_BATCH: Final = 1000
MAX_TAGS: Final = 20
MAX_TAG_CHARS: Final = 100

#: Storage key -> StopNCII ``signalType``. ``VideoPDQ`` is ours: python-threatexchange's client
#: does not know it and skips such records (logging them), without failing.
SIGNAL_WIRE_NAMES: Final = {SIGNAL_PDQ: "ImagePDQ", SIGNAL_MD5: "VideoMD5", SIGNAL_VPDQ: "VideoPDQ"}
_CASE_WIRE: Final = {CASE_ACTIVE: "Active"}
_HASH_WIRE: Final = {HASH_ACTIVE: "Active", HASH_WITHDRAWN: "Withdrawn"}
_WIRE_PREFIX: Final = "StopNCIISignalType."  # python-threatexchange's submit_hashes sends str(enum)
_HEX32: Final = re.compile(r"[0-9a-f]{32}")
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
#: A submitted PDQ hash has no quality on the wire; the partner's reviewers confirmed the content.
_PARTNER_PDQ_QUALITY: Final = 100
#: Cases opened by partner submissions have no PIN: this is not a valid argon2 hash.
_NO_PIN: Final = "!partner-submission"


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One answer of FetchHashes; each record already serialised (JSON bytes)."""

    records: list[bytes]
    next_page_token: str | None
    next_set_timestamp: int
    has_more: bool

    def to_json(self) -> bytes:
        head = orjson.dumps(
            {
                "count": len(self.records),
                "nextPageToken": self.next_page_token,
                "nextSetTimestamp": self.next_set_timestamp,
                "hasMoreRecords": self.has_more,
            }
        )
        return head[:-1] + b',"hashRecords":[' + b",".join(self.records) + b"]}"


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


def fetch_page(
    session: Session,
    *,
    secret: bytes,
    partner_id: int,
    start_timestamp: int,
    page_size: int,
    page_token: str | None,
    now: datetime,
    token_ttl_seconds: int,
) -> FeedPage:
    """One page of the feed for ``partner_id`` (see the module docstring)."""
    if page_size < 1:
        raise FeedRequestError("pageSize must be at least 1.")
    page_size = min(page_size, MAX_PAGE_SIZE)
    now_s = _unix(now)
    with session.begin():
        if page_token:
            token = decode_page_token(
                secret, page_token, partner_id=partner_id, start=start_timestamp, now=now_s
            )
            base, after = (
                token.base,
                tuple_(HashRecord.feed_seq, HashRecord.id) > tuple_(token.seq, token.row_id),
            )
        else:
            start = resolve_start(session, start_timestamp, now_s)
            base, after = start.base, HashRecord.feed_seq > start.seq
        # The clock first: every row stamped at or below it is committed and visible from here.
        # Core execution on the connection (no ORM loading): this is the hot path of a full sync.
        connection = session.connection()
        postgres = connection.dialect.name == "postgresql"
        clock_query = select(FeedClock.value).where(FeedClock.id == FEED_CLOCK_ID)
        clock = int(connection.execute(clock_query).scalar_one())
        columns = [
            HashRecord.id,
            HashRecord.feed_seq,
            HashRecord.signal_type,
            HashRecord.value,
            HashRecord.payload,
            HashRecord.status,
            _epoch_seconds(HashRecord.updated_at, postgres=postgres),
        ]
        query = select(*columns)
        if postgres:
            # Records cached at this exact position come ready; the others are built (cases and
            # feedback only computed for them) and cached below.
            cached = FeedRecordCache.body
            query = select(
                *columns,
                cached,
                *(case((cached.is_(None), c)) for c in _POSTGRES_JSON_COLUMNS),
            ).outerjoin(
                FeedRecordCache,
                and_(
                    FeedRecordCache.hash_id == HashRecord.id,
                    FeedRecordCache.feed_seq == HashRecord.feed_seq,
                ),
            )
        rows = connection.execute(
            query.where(after, HashRecord.feed_seq <= clock)
            .order_by(HashRecord.feed_seq, HashRecord.id)
            .limit(page_size + 1)
        ).all()
        has_more = len(rows) > page_size
        rows = rows[:page_size]
        if has_more:
            last_id, last_seq = rows[-1][0], rows[-1][1]
            next_token: str | None = encode_page_token(
                secret,
                PageToken(
                    partner_id=partner_id,
                    start=start_timestamp,
                    base=base,
                    seq=int(last_seq),
                    row_id=int(last_id),
                    expires=now_s + token_ttl_seconds,
                ),
            )
            next_set = base
        else:
            next_token = None
            next_set = issue_checkpoint(session, clock, base, now_s)
        if postgres:
            records = _records_postgres(connection, rows)
        else:
            records = [orjson.dumps(r) for r in _records(connection, rows)]
    return FeedPage(records, next_token, next_set, has_more)


def _epoch_seconds(column: Any, *, postgres: bool) -> Any:
    """``column`` (a UTC timestamp) as whole Unix seconds, computed by the database."""
    if postgres:
        return cast(func.floor(func.extract("epoch", column)), BigInteger)
    # SQLite keeps UTCDateTime as naive UTC text.
    return cast(func.strftime("%s", column), BigInteger)


#: PostgreSQL: each record's cases and feedback as JSON text, from correlated subqueries (index
#: probes per record; a join lets the planner hash whole tables), spliced into the answer as is.
_POSTGRES_JSON_COLUMNS: Final[tuple[Any, ...]] = (
    literal_column(
        "(SELECT coalesce(json_object_agg(c.partner_ref, CASE c.status WHEN 'active' "
        "THEN 'Active' ELSE 'Withdrawn' END), '{}')::text FROM case_hashes ch "
        "JOIN cases c ON c.id = ch.case_id WHERE ch.hash_id = hashes.id)"
    ),
    literal_column(
        "(SELECT coalesce(json_agg(json_build_object('feedbackValue', f.value, "
        "'tags', f.tags::json, 'source', p.name) ORDER BY p.name), '[]')::text "
        "FROM feedback f JOIN partners p ON p.id = f.partner_id WHERE f.hash_id = hashes.id)"
    ),
)


_CACHE_UPSERT: Final = (
    "INSERT INTO feed_record_cache (hash_id, feed_seq, body) "
    "SELECT * FROM unnest(%s::integer[], %s::bigint[], "
    "ARRAY(SELECT b FROM json_array_elements_text(%s::json) WITH ORDINALITY AS t(b, n) "
    "ORDER BY n)) "
    "ON CONFLICT (hash_id) DO UPDATE SET feed_seq = EXCLUDED.feed_seq, body = EXCLUDED.body "
    "WHERE feed_record_cache.feed_seq < EXCLUDED.feed_seq"
)


def _records_postgres(connection: Connection, rows: Sequence[Any]) -> list[bytes]:
    wire_types, wire_status, fragment = SIGNAL_WIRE_NAMES, _HASH_WIRE, orjson.Fragment
    bodies: list[bytes] = []
    missing: dict[int, tuple[int, str]] = {}
    for hash_id, seq, signal_type, value, payload, status, modified, body, cases, feedback in rows:
        if body is not None:
            bodies.append(body.encode())
            continue
        built = orjson.dumps(
            {
                "lastModtimestamp": modified,
                "signalType": wire_types.get(signal_type, signal_type),
                "hashValue": payload if payload and signal_type == SIGNAL_VPDQ else value,
                "hashStatus": wire_status.get(status, "Withdrawn"),
                "caseNumbers": fragment(cases),
                "CSPFeedbacks": fragment(feedback),
            }
        )
        bodies.append(built)
        missing[int(hash_id)] = (int(seq), built.decode())
    if missing:
        # Three array parameters instead of 3000 placeholders (much cheaper to build and parse).
        ordered = sorted(missing.items())
        connection.exec_driver_sql(
            _CACHE_UPSERT,
            (
                "{" + ",".join(str(hash_id) for hash_id, _ in ordered) + "}",
                "{" + ",".join(str(seq) for _, (seq, _) in ordered) + "}",
                orjson.dumps([body for _, (_, body) in ordered]).decode(),
            ),
        )
    return bodies


def _records(connection: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """SQLite: the cases and feedback of the page's records in three more queries."""
    if not rows:
        return []
    ids = [int(r[0]) for r in rows]
    memberships = connection.execute(
        select(CaseHash.hash_id, CaseHash.case_id).where(CaseHash.hash_id.in_(ids))
    ).all()
    case_ids = sorted({int(case_id) for _, case_id in memberships})
    refs: dict[int, tuple[str, str]] = {}
    if case_ids:
        refs = {
            int(case_id): (ref, _CASE_WIRE.get(status, "Withdrawn"))
            for case_id, ref, status in connection.execute(
                select(Case.id, Case.partner_ref, Case.status).where(Case.id.in_(case_ids))
            )
        }
    cases: dict[int, dict[str, str]] = defaultdict(dict)
    for hash_id, case_id in memberships:
        ref, status = refs[case_id]
        cases[hash_id][ref] = status
    feedback: dict[int, list[dict[str, Any]]] = defaultdict(list)
    feedback_query = select(Feedback.hash_id, Partner.name, Feedback.value, Feedback.tags).join(
        Partner, Partner.id == Feedback.partner_id
    )
    for hash_id, name, value, tags in connection.execute(
        feedback_query.where(Feedback.hash_id.in_(ids)).order_by(Feedback.hash_id, Partner.name)
    ):
        feedback[hash_id].append(
            {"feedbackValue": value, "tags": orjson.loads(tags), "source": name}
        )
    no_cases: dict[str, str] = {}
    no_feedback: list[dict[str, Any]] = []
    wire_types, wire_status = SIGNAL_WIRE_NAMES, _HASH_WIRE
    return [
        {
            "lastModtimestamp": modified,
            "signalType": wire_types.get(signal_type, signal_type),
            "hashValue": payload if payload and signal_type == SIGNAL_VPDQ else value,
            "hashStatus": wire_status.get(status, "Withdrawn"),
            "caseNumbers": cases.get(hash_id, no_cases),
            "CSPFeedbacks": feedback.get(hash_id, no_feedback),
        }
        for hash_id, _seq, signal_type, value, payload, status, modified in rows
    ]


# --------------------------------------------------------------------------------------------------
# Feedback and submissions
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One ``hashFeedbacks`` entry: a hash (no signal type on the wire), a value and tags."""

    hash_value: str
    feedback: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """How many items were recorded, and the positions of hashes not in the bank."""

    recorded: int
    unknown: tuple[int, ...] = field(default_factory=tuple)


def _check_tags(tags: Sequence[str], where: str) -> tuple[str, ...]:
    if len(tags) > MAX_TAGS:
        raise FeedRequestError(f"{where}: at most {MAX_TAGS} tags.")
    for tag in tags:
        if not 0 < len(tag) <= MAX_TAG_CHARS:
            raise FeedRequestError(f"{where}: a tag is 1 to {MAX_TAG_CHARS} characters.")
    return tuple(dict.fromkeys(tags))


def _check_feedback(value: str, where: str) -> str:
    if value not in FEEDBACK_VALUES:
        raise FeedRequestError(f"{where}: feedbackValue is one of {', '.join(FEEDBACK_VALUES)}.")
    return value


def _candidates(hash_value: str) -> list[tuple[str, str]]:
    """The stored keys a wire ``hashValue`` may stand for."""
    text = hash_value.strip()
    lower = text.lower()
    if _HEX32.fullmatch(lower):
        return [(SIGNAL_MD5, lower)]
    if _HEX64.fullmatch(lower):
        return [(SIGNAL_PDQ, lower), (SIGNAL_VPDQ, lower)]
    if "," in text:  # a vPDQ signature as the feed sends it
        return [(SIGNAL_VPDQ, hashlib.sha256(text.encode("utf-8")).hexdigest())]
    return []


def submit_feedback(
    session: Session, partner_id: int, items: Sequence[FeedbackItem], now: datetime
) -> FeedbackResult:
    """Record a partner's outcome for each hash, in one transaction.

    The records change (their ``CSPFeedbacks``), so they get one new feed position. Hashes not
    in the bank are reported by position, not stored.
    """
    if len(items) > MAX_BATCH:
        raise FeedRequestError(f"At most {MAX_BATCH} feedback items per request.")
    checked = [
        (
            i,
            _candidates(item.hash_value),
            _check_feedback(item.feedback, f"hashFeedbacks[{i}]"),
            _check_tags(item.tags, f"hashFeedbacks[{i}]"),
        )
        for i, item in enumerate(items)
    ]
    keys = {key for _, candidates, _, _ in checked for key in candidates}
    with session.begin():
        found: dict[tuple[str, str], int] = {}
        if keys:
            for hash_id, signal_type, value in session.execute(
                select(HashRecord.id, HashRecord.signal_type, HashRecord.value).where(
                    tuple_(HashRecord.signal_type, HashRecord.value).in_(sorted(keys))
                )
            ):
                found[(signal_type, value)] = int(hash_id)
        latest: dict[int, tuple[str, str]] = {}
        unknown: list[int] = []
        for i, candidates, value, tags in checked:
            match = next((found[k] for k in candidates if k in found), None)
            if match is None:
                unknown.append(i)
            else:
                latest[match] = (value, json.dumps(list(tags)))  # the last item for a hash wins
        if latest:
            _upsert_feedback(session, partner_id, latest, now)
            seq = advance_feed_clock(session)
            stamp_hashes(session, latest.keys(), seq, now)
    return FeedbackResult(len(items) - len(unknown), tuple(unknown))


def _upsert_feedback(
    session: Session, partner_id: int, values: dict[int, tuple[str, str]], now: datetime
) -> None:
    statement = insert_for(session, Feedback).values(
        [
            {
                "hash_id": hash_id,
                "partner_id": partner_id,
                "value": value,
                "tags": tags,
                "updated_at": now,
            }
            for hash_id, (value, tags) in sorted(values.items())
        ]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["hash_id", "partner_id"],
            set_={
                "value": statement.excluded.value,
                "tags": statement.excluded.tags,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )


@dataclass(frozen=True, slots=True)
class SubmittedHash:
    """One ``hashRecords`` entry of SubmitHashes: the partner's own confirmed hash."""

    signal_type: str
    hash_value: str
    feedback: str = "Blocked"
    tags: tuple[str, ...] = ()


def submit_hashes(
    session: Session,
    partner: PartnerInfo,
    items: Sequence[SubmittedHash],
    denylist: DenyList,
    now: datetime,
) -> int:
    """Add a contributing partner's hashes to the bank as one case of its own.

    The hashes pass the same checks as a person's (deny-list, degenerate values); the case has an
    opaque partner reference like any other and no PIN. The partner's feedback on each hash is
    recorded with them. Returns the number of distinct hashes stored.
    """
    if not partner.can_submit:
        raise SubmissionNotAllowedError(
            "This partner is not allowed to submit hashes. Ask the helpline to enable it."
        )
    if not items:
        raise FeedRequestError("hashRecords is empty.")
    if len(items) > MAX_BATCH:
        raise FeedRequestError(f"At most {MAX_BATCH} hash records per request.")
    chosen: dict[tuple[str, str], tuple[ValidHash, str, str]] = {}
    for i, item in enumerate(items):
        where = f"hashRecords[{i}]"
        signal = item.signal_type.removeprefix(_WIRE_PREFIX)
        submission: Submission
        if signal == SIGNAL_WIRE_NAMES[SIGNAL_PDQ]:
            submission = PdqSubmission(item.hash_value, _PARTNER_PDQ_QUALITY)
        elif signal == SIGNAL_WIRE_NAMES[SIGNAL_MD5]:
            submission = Md5Submission(item.hash_value)
        else:
            raise FeedRequestError(f"{where}: signalType is ImagePDQ or VideoMD5.")
        try:
            (valid,) = validate_hashes([submission], denylist, 1)
        except ServiceError as exc:
            raise FeedRequestError(f"{where}: {exc}") from None
        tags = json.dumps(list(_check_tags(item.tags, where)))
        chosen[valid.key] = (valid, _check_feedback(item.feedback, where), tags)  # last one wins
    with session.begin():
        hashes = [v for v, _, _ in chosen.values()]
        _store_case(session, new_case_number(), _NO_PIN, hashes, None, now)
        ids = {
            (signal_type, value): int(hash_id)
            for hash_id, signal_type, value in session.execute(
                select(HashRecord.id, HashRecord.signal_type, HashRecord.value).where(
                    tuple_(HashRecord.signal_type, HashRecord.value).in_(sorted(chosen))
                )
            )
        }
        _upsert_feedback(
            session, partner.id, {ids[k]: (fb, tags) for k, (_, fb, tags) in chosen.items()}, now
        )
    return len(chosen)


def purge_withdrawn(session: Session, now: datetime, retention: timedelta) -> int:
    """Delete withdrawn hashes whose withdrawal is older than ``retention`` (with their case
    memberships and feedback), and checkpoints older than that. Returns the hashes deleted.

    A hash that a new case holds again is active, so it is not touched.
    """
    cutoff = now - retention
    with session.begin():
        expired = (
            select(HashRecord.id)
            .where(HashRecord.status == HASH_WITHDRAWN, HashRecord.withdrawn_at < cutoff)
            .scalar_subquery()
        )
        session.execute(
            delete(FeedRecordCache)
            .where(FeedRecordCache.hash_id.in_(expired))
            .execution_options(synchronize_session=False)
        )
        result = session.execute(
            delete(HashRecord)
            .where(HashRecord.status == HASH_WITHDRAWN, HashRecord.withdrawn_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        purge_checkpoints(session, _unix(cutoff))
    return int(getattr(result, "rowcount", 0) or 0)

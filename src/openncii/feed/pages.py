"""Pages of the partner feed (``FetchHashes``): hash records as partners receive them.

The wire format is StopNCII's (as python-threatexchange's ``StopNCIIAPI`` reads it), so records
are built here directly as the JSON objects partners receive: building pydantic models for
millions of records would cost more than the database. No FastAPI and no HTTP here.

Paging is keyset pagination on ``(hashes.feed_seq, hashes.id)`` (index ``ix_hashes_feed_position``)
bounded by the feed clock read with each page, so a record stamped by a writer that commits late
always lands *after* anything a reader has passed (see :mod:`openncii.feed.cursor`).

On PostgreSQL each record's JSON text is kept in ``feed_record_cache``, rebuilt by the database
when a transaction that changed the record commits (trigger of migration 0004), and a page is
one statement whose answer is the page's records already joined by ``string_agg``: Python
handles one string per page, not a thousand rows. On SQLite records are built in Python
(:func:`build_records`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson
from sqlalchemy import BigInteger, Connection, cast, func, select, tuple_
from sqlalchemy.orm import Session

from openncii.db.models import (
    CASE_ACTIVE,
    FEED_CLOCK_ID,
    HASH_ACTIVE,
    HASH_DISABLED,
    HASH_WITHDRAWN,
    Case,
    CaseHash,
    Feedback,
    FeedClock,
    HashRecord,
    Partner,
)
from openncii.errors import PartnerRequestError
from openncii.feed.cursor import issue_checkpoint, resolve_start
from openncii.feed.tokens import (
    PageToken,
    check_token_owner,
    decode_page_token,
    encode_page_token,
)
from openncii.partners.service import key_accepted
from openncii.signals.registry import SIGNAL_TYPES, SignalType, feed_keys

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "FeedPage",
    "build_records",
    "fetch_page",
    "rebuild_record_cache",
]

DEFAULT_PAGE_SIZE: Final = 800
#: Larger page sizes are clamped to this (documented in docs/partners.md).
MAX_PAGE_SIZE: Final = 1000

_CASE_WIRE: Final = {CASE_ACTIVE: "Active"}
#: A hash the helpline disabled after review leaves every bank as ``Deleted`` (StopNCII's
#: status for a hash removed by the service rather than withdrawn by its owner).
_HASH_WIRE: Final = {HASH_ACTIVE: "Active", HASH_WITHDRAWN: "Withdrawn", HASH_DISABLED: "Deleted"}
#: Storage key -> signal type, for the records built in Python (unknown keys are sent as they
#: are, as the SQL of migration 0004 does).
_TYPES: Final[dict[str, SignalType]] = {t.key: t for t in SIGNAL_TYPES}


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One answer of FetchHashes: ``count`` records, already serialised and comma-separated."""

    count: int
    records_json: bytes
    next_page_token: str | None
    next_set_timestamp: int
    has_more: bool
    #: The partner the page was served to (not part of the answer).
    partner_id: int = 0

    def to_json(self) -> bytes:
        head = orjson.dumps(
            {
                "count": self.count,
                "nextPageToken": self.next_page_token,
                "nextSetTimestamp": self.next_set_timestamp,
                "hasMoreRecords": self.has_more,
            }
        )
        return b"".join((head[:-1], b',"hashRecords":[', self.records_json, b"]}"))


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())


#: Larger than any ``hashes.id`` (a 32-bit integer): ``(seq, _AFTER_ALL_IDS)`` is "after every
#: row stamped ``seq``", the keyset position of a fetch starting from a checkpoint.
_AFTER_ALL_IDS: Final = 2**31 - 1


def fetch_page(
    session: Session,
    *,
    secret: bytes,
    key_digests: Collection[str],
    start_timestamp: int,
    page_size: int,
    page_token: str | None,
    now: datetime,
    token_ttl_seconds: int,
    variants: bool = False,
) -> FeedPage | None:
    """One page of the feed (see the module docstring) for the partner whose API key has one of
    ``key_digests`` (:func:`openncii.partners.key_digest`).

    ``None`` when the digests do not name exactly one active partner. The partner is checked
    with every page, on PostgreSQL within the page's own statement: a revoked key gets no
    further page. Raises :class:`PartnerRequestError` (a :class:`PageTokenError` for the token)
    before checking the keys.

    Robust matching's variant records (the registry's ``variant`` types: PDQ hashes of squares,
    strips and trims of photos) are sent only with ``variants=True``: stock StopNCII clients do
    not know their ``signalType`` and would log each one, hash value included, as an error.
    Without them a page skips those rows; positions, tokens and checkpoints are the same.
    """
    if page_size < 1:
        raise PartnerRequestError("pageSize must be at least 1.")
    page_size = min(page_size, MAX_PAGE_SIZE)
    now_s = _unix(now)
    token = None
    if page_token:
        token = decode_page_token(
            secret, page_token, partner_id=None, start=start_timestamp, now=now_s
        )
    digests = sorted(set(key_digests))
    if not digests:
        return None
    postgres = session.get_bind().dialect.name == "postgresql"
    with session.begin():
        if postgres:
            # No transaction: a page is one statement (one snapshot, see _PAGE_POSTGRES), and
            # BEGIN and COMMIT would be two more round trips to the database per page.
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        if token is not None:
            base, after = token.base, (token.seq, token.row_id)
        else:
            start = resolve_start(session, start_timestamp, now_s)
            base, after = start.base, (start.seq, _AFTER_ALL_IDS)
        read = _page_postgres if postgres else _page_python
        owner = None if token is None else token.partner_id
        partners, clock, count, records, last = read(
            session.connection(), digests, owner, after, page_size, now, variants
        )
        if len(partners) != 1:
            return None
        (partner_id,) = partners
        if owner is not None:
            check_token_owner(owner, partner_id)
        if last is not None:
            next_token: str | None = encode_page_token(
                secret,
                PageToken(
                    partner_id=partner_id,
                    start=start_timestamp,
                    base=base,
                    seq=last[0],
                    row_id=last[1],
                    expires=now_s + token_ttl_seconds,
                ),
            )
            next_set = base
        else:
            next_token = None
            next_set = issue_checkpoint(session, clock, base, now_s)
    return FeedPage(count, records, next_token, next_set, next_token is not None, partner_id)


#: One page on PostgreSQL, in one statement:
#:
#: * ``auth``: the active partners holding one of the keys (or as the previous key of a rotation,
#:   in its grace period; the page is read only when there is
#:   exactly one, and it is the token's owner if a token was sent);
#: * ``clock``: the feed clock. One statement is one snapshot: a writer's clock bump and its
#:   stamps commit together, so every row stamped at or below the clock value read here is
#:   visible to this statement;
#: * ``page``: the records after the keyset position ``(seq, id)`` and stamped at or below the
#:   clock, each record's JSON text from the cache (valid while its ``feed_seq`` matches; written
#:   by the trigger of migration 0004 on every change) or built by ``feed_record_body`` if not
#:   (the hash's row is read only then: the scan of ``hashes`` stays in the index);
#:
#: answering (partner ids, clock, rows read (at most size + 1), the first ``size`` records joined
#: by commas, the keyset position of the last one). The page size is written into the text (one
#: prepared statement per size): with a parameter, PostgreSQL's generic plan guesses a large
#: LIMIT and starts parallel workers for every page (20 ms each).
_PAGE_POSTGRES: Final = """
WITH auth AS MATERIALIZED (
  SELECT coalesce(array_agg(DISTINCT id ORDER BY id), '{{}}') AS ids FROM partners
  WHERE revoked_at IS NULL AND (key_digest = ANY(%(keys)s)
    OR (previous_key_digest = ANY(%(keys)s) AND previous_key_expires_at > %(now)s))
),
clock AS MATERIALIZED (SELECT value FROM feed_clock WHERE id = 1),
page AS MATERIALIZED (
  SELECT h.id, h.feed_seq,
    CASE WHEN c.feed_seq = h.feed_seq THEN c.body
      ELSE (SELECT feed_record_body(x) FROM hashes x WHERE x.id = h.id) END AS body,
    row_number() OVER (ORDER BY h.feed_seq, h.id) AS n
  FROM hashes h LEFT JOIN feed_record_cache c ON c.hash_id = h.id
  WHERE (h.feed_seq, h.id) > (%(seq)s, %(id)s) AND h.feed_seq <= (SELECT value FROM clock)
    AND h.signal_type = ANY(%(types)s)
    AND (SELECT ids FROM auth) = ARRAY[coalesce(%(owner)s::integer, (SELECT ids[1] FROM auth))]
  ORDER BY h.feed_seq, h.id
  LIMIT {limit:d}
)
SELECT (SELECT ids FROM auth), (SELECT value FROM clock), count(*),
  coalesce(string_agg(body, ',' ORDER BY n) FILTER (WHERE n <= {size:d}), ''),
  max(feed_seq) FILTER (WHERE n = {size:d}), max(id) FILTER (WHERE n = {size:d})
FROM page
"""

#: (ids of the partners holding the keys, clock, records, their JSON, last position if more)
_Page = tuple[list[int], int, int, bytes, tuple[int, int] | None]


def _page_postgres(
    connection: Connection,
    digests: list[str],
    owner: int | None,
    after: tuple[int, int],
    size: int,
    now: datetime,
    variants: bool,
) -> _Page:
    statement = _PAGE_POSTGRES.format(size=size, limit=size + 1)
    parameters = {
        "keys": digests,
        "owner": owner,
        "seq": after[0],
        "id": after[1],
        "now": now,
        "types": list(feed_keys(variants)),
    }
    partners, clock, fetched, records, last_seq, last_id = connection.exec_driver_sql(
        statement, parameters
    ).one()
    more = int(fetched) > size
    last = (int(last_seq), int(last_id)) if more else None
    return list(partners), int(clock), min(int(fetched), size), str(records).encode(), last


def _page_python(
    connection: Connection,
    digests: list[str],
    owner: int | None,
    after: tuple[int, int],
    size: int,
    now: datetime,
    variants: bool,
) -> _Page:
    """SQLite: the partner, then the records built in Python (:func:`build_records`)."""
    partners = sorted(
        set(connection.execute(select(Partner.id).where(key_accepted(digests, now))).scalars())
    )
    if len(partners) != 1 or owner not in (None, partners[0]):
        return partners, 0, 0, b"", None
    clock_query = select(FeedClock.value).where(FeedClock.id == FEED_CLOCK_ID)
    clock = int(connection.execute(clock_query).scalar_one())
    rows = connection.execute(
        select(
            HashRecord.id,
            HashRecord.feed_seq,
            HashRecord.signal_type,
            HashRecord.value,
            HashRecord.payload,
            HashRecord.status,
            cast(func.strftime("%s", HashRecord.updated_at), BigInteger),
        )
        .where(
            tuple_(HashRecord.feed_seq, HashRecord.id) > tuple_(*after),
            HashRecord.feed_seq <= clock,
            HashRecord.signal_type.in_(feed_keys(variants)),
        )
        .order_by(HashRecord.feed_seq, HashRecord.id)
        .limit(size + 1)
    ).all()
    more = len(rows) > size
    rows = rows[:size]
    last = (int(rows[-1][1]), int(rows[-1][0])) if more else None
    records = b",".join(orjson.dumps(r) for r in build_records(connection, rows))
    return partners, clock, len(rows), records, last


def build_records(connection: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
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
    types, wire_status = _TYPES, _HASH_WIRE
    return [
        {
            "lastModtimestamp": modified,
            "signalType": kind.wire_name if kind else signal_type,
            "hashValue": kind.wire_value(value, payload) if kind else value,
            "hashStatus": wire_status.get(status, "Withdrawn"),
            "caseNumbers": cases.get(hash_id, no_cases),
            "CSPFeedbacks": feedback.get(hash_id, no_feedback),
        }
        for hash_id, _seq, signal_type, value, payload, status, modified in rows
        for kind in [types.get(signal_type)]
    ]


#: Every record's JSON text rebuilt in one set-based statement (migration 0004's functions).
#: An entry newer than the statement's snapshot (a writer committed meanwhile) is kept.
_REBUILD_POSTGRES: Final = """
INSERT INTO feed_record_cache (hash_id, feed_seq, body)
SELECT h.id, h.feed_seq,
  feed_record_json(h.signal_type, h.value, h.payload, h.status, h.updated_at, c.body, f.body)
FROM hashes h
LEFT JOIN (
  SELECT ch.hash_id, string_agg(feed_case_entry(c.partner_ref, c.status), ',' ORDER BY c.id)
  FROM case_hashes ch JOIN cases c ON c.id = ch.case_id GROUP BY ch.hash_id
) AS c (hash_id, body) ON c.hash_id = h.id
LEFT JOIN (
  SELECT f.hash_id, string_agg(feed_feedback_entry(f.value, f.tags, p.name), ',' ORDER BY p.name)
  FROM feedback f JOIN partners p ON p.id = f.partner_id GROUP BY f.hash_id
) AS f (hash_id, body) ON f.hash_id = h.id
ON CONFLICT (hash_id) DO UPDATE SET feed_seq = EXCLUDED.feed_seq, body = EXCLUDED.body
  WHERE feed_record_cache.feed_seq <= EXCLUDED.feed_seq
"""


def rebuild_record_cache(session: Session) -> int:
    """Rebuild every cached feed record (PostgreSQL; nothing to do on SQLite).

    Writes through OpenNCII keep the cache current by themselves; this is for rows written
    around it (bulk loads with ``COPY``). Records not cached are still served correctly, built
    on each read. Returns the number of entries written.
    """
    with session.begin():
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return 0
        result = connection.exec_driver_sql(_REBUILD_POSTGRES)
    return int(getattr(result, "rowcount", 0) or 0)

"""Partner management (helpline side) and the partners' feedback on hashes.

Partners are participating companies. Each has a public name and an API key that is shown once
and stored only as its SHA-256 digest (keys are 256-bit random strings, so a fast digest is
enough; nothing to brute-force). Revocation takes effect on the next request. Rotation makes a
new key that works at once; the old one keeps working for a grace period, then stops. Renaming
restamps every hash the partner gave feedback on, so that every partner's feed shows the new
name as the feedback's source. Each change is written to the audit log when ``network`` says
where it came from.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openncii import audit
from openncii.db.feed_clock import advance_feed_clock, stamp_hashes
from openncii.db.models import Feedback, HashRecord, Partner, PartnerActivity
from openncii.db.upsert import insert_for
from openncii.errors import PartnerExistsError, PartnerNotFoundError, ServiceError
from openncii.stats import feedback_by_partner
from openncii.stopncii import FEEDBACK_VALUES, PARTNER_FEEDBACK_VALUES

__all__ = [
    "FEEDBACK_VALUES",
    "KEY_PREFIX",
    "NO_PARTNERS_WARNING",
    "NewPartner",
    "PartnerInfo",
    "PartnerStats",
    "RotatedKey",
    "add_partner",
    "authenticate_partner",
    "feedback_counts",
    "key_accepted",
    "key_digest",
    "list_partners",
    "partner_stats",
    "public_partner_names",
    "record_feedback",
    "record_fetch",
    "record_refusal",
    "rename_partner",
    "revoke_partner",
    "rotate_partner_key",
    "set_can_submit",
]

#: What the operator is told (at ``openncii serve`` start and in ``/healthz``) while no company
#: takes part: the pages then tell people that nobody looks for copies yet.
NO_PARTNERS_WARNING: Final = (
    "no participating company: cases are kept, but nobody looks for copies until a partner is "
    "added (openncii partners add NAME)"
)

#: Prefix of every partner API key (helps secret scanners recognise leaked keys).
KEY_PREFIX: Final = "onp_"
_KEY_BYTES: Final = 32
_NAME_RE: Final = re.compile(r"[\w][\w .,&'()+-]{0,99}")


@dataclass(frozen=True, slots=True)
class PartnerInfo:
    id: int
    name: str
    can_submit: bool
    created_at: datetime
    revoked_at: datetime | None
    previous_key_expires_at: datetime | None = None
    last_fetch_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class NewPartner:
    """A partner just created, with its API key: shown once, never stored in clear."""

    partner: PartnerInfo
    key: str


def key_digest(key: str) -> str:
    """The stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """A partner's new key (shown once) and until when the old one still works."""

    partner: PartnerInfo
    key: str
    old_key_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class PartnerStats:
    """What the console shows of a partner: its feed use in the last 24 hours and its
    feedback by value (``{"Blocked": 12, ...}``)."""

    partner: PartnerInfo
    pages_24h: int
    records_24h: int
    unauthorized_24h: int
    feedback: dict[str, int]


def _info(row: Partner) -> PartnerInfo:
    return PartnerInfo(
        row.id,
        row.name,
        row.can_submit,
        row.created_at,
        row.revoked_at,
        row.previous_key_expires_at,
        row.last_fetch_at,
    )


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)


def _note(
    session: Session,
    action: str,
    now: datetime,
    actor: str | None,
    network: str | None,
    target: str,
    detail: str | None = None,
) -> None:
    if network is not None:
        audit.record(
            session, action, now, actor=actor, network=network, target=target, detail=detail
        )


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not _NAME_RE.fullmatch(cleaned):
        raise ServiceError(
            "A partner name is 1 to 100 letters, digits, spaces or . , & ' ( ) + - characters."
        )
    return cleaned


def add_partner(
    session: Session,
    name: str,
    now: datetime,
    *,
    can_submit: bool = False,
    actor: str | None = None,
    network: str | None = None,
) -> NewPartner:
    """Create a partner and its API key. Raises :class:`PartnerExistsError`."""
    cleaned = _clean_name(name)
    key = _new_key()
    row = Partner(name=cleaned, key_digest=key_digest(key), can_submit=can_submit, created_at=now)
    try:
        with session.begin():
            session.add(row)
            session.flush()
            detail = "may submit hashes" if can_submit else None
            _note(session, "partner.add", now, actor, network, cleaned, detail)
    except IntegrityError:
        raise PartnerExistsError(f"A partner called {cleaned!r} already exists.") from None
    return NewPartner(_info(row), key)


def list_partners(session: Session, *, include_revoked: bool = True) -> list[PartnerInfo]:
    """Every partner, by name."""
    with session.begin():
        query = select(Partner).order_by(Partner.name)
        if not include_revoked:
            query = query.where(Partner.revoked_at.is_(None))
        return [_info(row) for row in session.scalars(query)]


def public_partner_names(session: Session) -> list[str]:
    """Names of the participating (not revoked) companies, for people at risk."""
    return [p.name for p in list_partners(session, include_revoked=False)]


def _locked_partner(session: Session, name: str) -> Partner:
    cleaned = " ".join(name.split())
    row = session.scalars(
        select(Partner).where(Partner.name == cleaned).with_for_update()
    ).one_or_none()
    if row is None:
        raise PartnerNotFoundError(f"No partner is called {cleaned!r}.")
    return row


def revoke_partner(
    session: Session,
    name: str,
    now: datetime,
    *,
    actor: str | None = None,
    network: str | None = None,
) -> PartnerInfo:
    """Revoke a partner's keys at once (idempotent). Raises :class:`PartnerNotFoundError`."""
    with session.begin():
        row = _locked_partner(session, name)
        if row.revoked_at is None:
            row.revoked_at = now
            _note(session, "partner.revoke", now, actor, network, row.name)
    return _info(row)


def rotate_partner_key(
    session: Session,
    name: str,
    now: datetime,
    grace: timedelta,
    *,
    actor: str | None = None,
    network: str | None = None,
) -> RotatedKey:
    """A new key for the partner, working at once; the current one keeps working for
    ``grace`` (none: it stops at once). A key replaced earlier stops now. Raises
    :class:`PartnerNotFoundError`, or :class:`ServiceError` for a revoked partner."""
    if grace < timedelta(0):
        raise ServiceError("The grace period cannot be negative.")
    key = _new_key()
    with session.begin():
        row = _locked_partner(session, name)
        if row.revoked_at is not None:
            raise ServiceError(f"{row.name!r} is revoked: add it again instead.")
        expires = now + grace if grace > timedelta(0) else None
        row.previous_key_digest = row.key_digest if expires else None
        row.previous_key_expires_at = expires
        row.key_digest = key_digest(key)
        days = grace.total_seconds() / 86400
        _note(session, "partner.rotate", now, actor, network, row.name, f"old key: {days:g} days")
    return RotatedKey(_info(row), key, expires)


def rename_partner(
    session: Session,
    name: str,
    new_name: str,
    now: datetime,
    *,
    actor: str | None = None,
    network: str | None = None,
) -> PartnerInfo:
    """Give the partner a new public name; every hash it gave feedback on is restamped, so
    every feed shows the new name as the source. Raises :class:`PartnerExistsError`."""
    cleaned = _clean_name(new_name)
    try:
        with session.begin():
            row = _locked_partner(session, name)
            old = row.name
            if old == cleaned:
                return _info(row)
            row.name = cleaned
            session.flush()
            hash_ids = list(
                session.scalars(select(Feedback.hash_id).where(Feedback.partner_id == row.id))
            )
            if hash_ids:
                seq = advance_feed_clock(session)
                stamp_hashes(session, hash_ids, seq, now)
            _note(session, "partner.rename", now, actor, network, cleaned, f"was {old}")
    except IntegrityError:
        raise PartnerExistsError(f"A partner called {cleaned!r} already exists.") from None
    return _info(row)


def set_can_submit(
    session: Session,
    name: str,
    allowed: bool,
    now: datetime,
    *,
    actor: str | None = None,
    network: str | None = None,
) -> PartnerInfo:
    """Allow or deny the partner's hash submissions (SubmitHashes)."""
    with session.begin():
        row = _locked_partner(session, name)
        if row.can_submit != allowed:
            row.can_submit = allowed
            detail = "allowed" if allowed else "denied"
            _note(session, "partner.submission", now, actor, network, row.name, detail)
    return _info(row)


def key_accepted(digests: Sequence[str], now: datetime) -> ColumnElement[bool]:
    """The SQL condition: an active partner holding one of ``digests`` as its key, or as its
    previous key still in its grace period (shared by the feed's own query)."""
    return and_(
        Partner.revoked_at.is_(None),
        or_(
            Partner.key_digest.in_(digests),
            and_(
                Partner.previous_key_digest.in_(digests),
                Partner.previous_key_expires_at > now,
            ),
        ),
    )


def authenticate_partner(session: Session, key: str, now: datetime) -> PartnerInfo | None:
    """The active partner holding ``key`` (its key, or its previous key during the grace
    period), or ``None`` (unknown, expired or revoked key)."""
    with session.begin():
        row = session.scalars(
            select(Partner).where(key_accepted([key_digest(key)], now))
        ).one_or_none()
    return None if row is None else _info(row)


def _hour(now: datetime) -> int:
    return int(now.timestamp()) // 3600 * 3600


def record_fetch(session: Session, partner_id: int, records: int, now: datetime) -> None:
    """Count a feed page of ``records`` records served to the partner at ``now`` (in the row of
    that hour)."""
    hour = _hour(now)
    with session.begin():
        statement = insert_for(session, PartnerActivity).values(
            partner_id=partner_id,
            hour=hour,
            pages=1,
            records=records,
            unauthorized=0,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["partner_id", "hour"],
                set_={
                    "pages": PartnerActivity.pages + 1,
                    "records": PartnerActivity.records + records,
                },
            )
        )
        session.execute(update(Partner).where(Partner.id == partner_id).values(last_fetch_at=now))


def record_refusal(session: Session, digests: list[str], now: datetime) -> None:
    """Count a request refused 401 (a key of the partner that no longer works, e.g. after its
    grace period or a revocation) against the partner the key belonged to, if any. (The partner
    API limits no rate: it never answers 429.)"""
    with session.begin():
        partner_id = session.scalars(
            select(Partner.id)
            .where(or_(Partner.key_digest.in_(digests), Partner.previous_key_digest.in_(digests)))
            .limit(1)
        ).first()
        if partner_id is None:
            return
        statement = insert_for(session, PartnerActivity).values(
            partner_id=partner_id,
            hour=_hour(now),
            pages=0,
            records=0,
            unauthorized=1,
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["partner_id", "hour"],
                set_={"unauthorized": PartnerActivity.unauthorized + 1},
            )
        )


def feedback_counts(session: Session) -> dict[int, dict[str, int]]:
    """Each partner's feedback by value (``{partner id: {"Blocked": 12, ...}}``), from the
    rollups the database keeps (:func:`openncii.stats.feedback_by_partner`)."""
    return feedback_by_partner(session)


def partner_stats(
    session: Session, now: datetime, feedback: dict[int, dict[str, int]] | None = None
) -> list[PartnerStats]:
    """Every partner with its feed use in the last 24 hours and its feedback counts
    (``feedback``: :func:`feedback_counts` computed earlier, else now)."""
    if feedback is None:
        feedback = feedback_counts(session)
    since = _hour(now) - 23 * 3600
    with session.begin():
        partners = [_info(row) for row in session.scalars(select(Partner).order_by(Partner.name))]
        activity = {
            int(row[0]): tuple(int(v or 0) for v in row[1:])
            for row in session.execute(
                select(
                    PartnerActivity.partner_id,
                    func.sum(PartnerActivity.pages),
                    func.sum(PartnerActivity.records),
                    func.sum(PartnerActivity.unauthorized),
                )
                .where(PartnerActivity.hour >= since)
                .group_by(PartnerActivity.partner_id)
            )
        }
    stats = []
    for p in partners:
        pages, records, unauthorized = activity.get(p.id, (0, 0, 0))
        stats.append(PartnerStats(p, pages, records, unauthorized, feedback.get(p.id, {})))
    return stats


def record_feedback(
    session: Session,
    partner_id: int,
    signal_type: str,
    value: str,
    feedback: str,
    tags: Sequence[str],
    now: datetime,
) -> bool:
    """Record a partner's outcome for a hash; ``False`` if the hash is not in the bank.

    The hash's feed record changes (its feedback list), so it gets a new feed position.
    """
    if feedback not in PARTNER_FEEDBACK_VALUES:
        raise ServiceError(
            f"Unknown feedback value; use one of {', '.join(PARTNER_FEEDBACK_VALUES)}."
        )
    with session.begin():
        hash_id = session.scalars(
            select(HashRecord.id).where(
                HashRecord.signal_type == signal_type, HashRecord.value == value
            )
        ).one_or_none()
        if hash_id is None:
            return False
        tag_text = json.dumps(list(tags))
        statement = insert_for(session, Feedback).values(
            hash_id=hash_id, partner_id=partner_id, value=feedback, tags=tag_text, updated_at=now
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["hash_id", "partner_id"],
                set_={"value": feedback, "tags": tag_text, "updated_at": now},
            )
        )
        seq = advance_feed_clock(session)
        stamp_hashes(session, [hash_id], seq, now)
    return True

"""Partner management (helpline side) and the partners' feedback on hashes.

Partners are participating companies. Each has a public name and an API key that is shown once
and stored only as its SHA-256 digest (keys are 256-bit random strings, so a fast digest is
enough; nothing to brute-force). Revocation takes effect on the next request.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from openncii.db.feed_clock import advance_feed_clock, stamp_hashes
from openncii.db.models import Feedback, HashRecord, Partner
from openncii.db.upsert import insert_for
from openncii.errors import PartnerExistsError, PartnerNotFoundError, ServiceError
from openncii.stopncii import FEEDBACK_VALUES, PARTNER_FEEDBACK_VALUES

__all__ = [
    "FEEDBACK_VALUES",
    "KEY_PREFIX",
    "NO_PARTNERS_WARNING",
    "NewPartner",
    "PartnerInfo",
    "add_partner",
    "authenticate_partner",
    "key_digest",
    "list_partners",
    "public_partner_names",
    "record_feedback",
    "revoke_partner",
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


def _info(row: Partner) -> PartnerInfo:
    return PartnerInfo(row.id, row.name, row.can_submit, row.created_at, row.revoked_at)


def _clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not _NAME_RE.fullmatch(cleaned):
        raise ServiceError(
            "A partner name is 1 to 100 letters, digits, spaces or . , & ' ( ) + - characters."
        )
    return cleaned


def add_partner(
    session: Session, name: str, now: datetime, *, can_submit: bool = False
) -> NewPartner:
    """Create a partner and its API key. Raises :class:`PartnerExistsError`."""
    cleaned = _clean_name(name)
    key = KEY_PREFIX + secrets.token_urlsafe(_KEY_BYTES)
    row = Partner(name=cleaned, key_digest=key_digest(key), can_submit=can_submit, created_at=now)
    try:
        with session.begin():
            session.add(row)
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


def revoke_partner(session: Session, name: str, now: datetime) -> PartnerInfo:
    """Revoke a partner's key at once (idempotent). Raises :class:`PartnerNotFoundError`."""
    cleaned = " ".join(name.split())
    with session.begin():
        row = session.scalars(
            select(Partner).where(Partner.name == cleaned).with_for_update()
        ).one_or_none()
        if row is None:
            raise PartnerNotFoundError(f"No partner is called {cleaned!r}.")
        if row.revoked_at is None:
            row.revoked_at = now
    return _info(row)


def authenticate_partner(session: Session, key: str) -> PartnerInfo | None:
    """The active partner holding ``key``, or ``None`` (unknown or revoked key)."""
    with session.begin():
        row = session.scalars(
            select(Partner).where(
                Partner.key_digest == key_digest(key), Partner.revoked_at.is_(None)
            )
        ).one_or_none()
    return None if row is None else _info(row)


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

"""What staff do with a hash in review: open it (see the whole value), disable it (it leaves
every partner's bank: the feed sends it as ``Deleted``), re-enable it, and keep the helpline's
deny-list (``denied_hashes``, :mod:`openncii.cases.denied`).

Each action commits with its audit entry (:mod:`openncii.audit`; a hash appears there by its
first 8 hex digits). Disabling a hash of a photo disables every hash of that photo (its
whole-image hash and its variants, in every case that holds it), as a withdrawal removes them
all; re-enabling any of them brings them all back. Roles are checked by the caller (the console
API: disabling and the deny-list's additions for every reviewer, re-enabling and removing a
deny-list entry for admins).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from openncii.audit import record
from openncii.cases.denied import deny_key, lock_denied_for_adding
from openncii.db.feed_clock import advance_feed_clock, stamp_hashes
from openncii.db.models import (
    CASE_ACTIVE,
    HASH_ACTIVE,
    HASH_DISABLED,
    HASH_WITHDRAWN,
    Case,
    CaseHash,
    DeniedHash,
    DisabledHash,
    HashRecord,
)
from openncii.errors import HashNotFoundError, ReviewError
from openncii.review.near import (
    PreScan,
    flag_equal,
    flag_prescanned,
    prescan_entries,
    unflag_entries,
)
from openncii.signals.hexcode import short_hash
from openncii.signals.registry import MD5, PDQ, by_key

__all__ = [
    "MAX_REASON",
    "DeniedEntry",
    "DisabledEntry",
    "OpenedHash",
    "deny_value",
    "disable_hash",
    "enable_hash",
    "list_denied",
    "list_disabled",
    "open_hash",
    "remove_denied",
]

#: The longest reason a reviewer may give.
MAX_REASON: Final = 500
_NOT_FOUND: Final = "No hash has this id."
#: The types a value can be put on the deny-list as (a vPDQ signature: by disabling it).
_DENIABLE: Final = (PDQ.key, MD5.key)


@dataclass(frozen=True, slots=True)
class OpenedHash:
    hash_id: int
    signal_type: str
    value: str
    #: vPDQ only: the signature (one ``frame,quality,pdq,timestamp`` line per frame).
    payload: str | None
    status: str


@dataclass(frozen=True, slots=True)
class DisabledEntry:
    hash_id: int
    chosen_hash_id: int
    signal_type: str
    prefix: str
    reason: str
    disabled_by: str | None
    disabled_at: datetime


@dataclass(frozen=True, slots=True)
class DeniedEntry:
    id: int
    signal_type: str
    prefix: str
    reason: str
    added_by: str | None
    created_at: datetime


def _reason(text: str) -> str:
    cleaned = " ".join(text.split())
    if not cleaned:
        raise ReviewError("Give a reason: the audit log and the other reviewers read it.")
    if len(cleaned) > MAX_REASON:
        raise ReviewError(f"A reason has at most {MAX_REASON} characters.")
    return cleaned


def _hash(session: Session, hash_id: int, *, lock: bool = False) -> HashRecord:
    query = select(HashRecord).where(HashRecord.id == hash_id)
    row = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if row is None:
        raise HashNotFoundError(_NOT_FOUND)
    return row


def open_hash(
    session: Session, hash_id: int, now: datetime, *, actor: str | None, network: str | None
) -> OpenedHash:
    """The whole value of a hash, for a reviewer who needs it (the opening is audited)."""
    with session.begin():
        row = _hash(session, hash_id)
        record(
            session,
            "hash.open",
            now,
            actor=actor,
            network=network,
            target=short_hash(row.value),
            detail=row.signal_type,
        )
        return OpenedHash(row.id, row.signal_type, row.value, row.payload, row.status)


def _photo_group(session: Session, hash_id: int) -> set[int]:
    """The hash and every hash of the same photo in any case that holds it."""
    mine, other = aliased(CaseHash), aliased(CaseHash)
    group = set(
        session.scalars(
            select(other.hash_id)
            .join(mine, (mine.case_id == other.case_id) & (mine.photo == other.photo))
            .where(mine.hash_id == hash_id, mine.photo.is_not(None))
        )
    )
    return group | {hash_id}


def _members(session: Session, group: set[int]) -> list[tuple[str, str]]:
    """(signal type, value) of the hashes ``group``."""
    rows = session.execute(
        select(HashRecord.signal_type, HashRecord.value).where(HashRecord.id.in_(sorted(group)))
    )
    return [(signal_type, value) for signal_type, value in rows]


_INSERT_DENIED: Final = {
    name: dialect_insert(DeniedHash).on_conflict_do_nothing(index_elements=["signal_type", "value"])
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}


def _deniable_pdq(rows: list[tuple[str, str]]) -> list[str]:
    return [value for kind, value in rows if deny_key(kind) == PDQ.key]


def _deny(
    session: Session,
    rows: list[tuple[str, str]],
    reason: str,
    actor: str | None,
    now: datetime,
    prescan: PreScan,
) -> None:
    """Add the entries and flag the hashes stored before them (the review queue's
    ``near_denied``), under the deny-list's lock (:func:`lock_denied_for_adding`, taken by the
    caller): a case stored at the same moment is then either refused or flagged
    (:mod:`openncii.cases.denied`). The whole bank was searched before the lock (``prescan``,
    :func:`openncii.review.near.prescan_entries`): under it, only the hashes stamped since."""
    connection = session.connection()
    connection.execute(
        _INSERT_DENIED[connection.dialect.name],
        [
            {
                "signal_type": deny_key(signal_type),
                "value": value,
                "reason": reason,
                "added_by": actor,
                "created_at": now,
            }
            for signal_type, value in rows
        ],
    )
    # The hashes stored before the entries that are near them (or equal), for the review queue.
    flag_prescanned(connection, _deniable_pdq(rows), prescan)
    flag_equal(connection, [(kind, value) for kind, value in rows if deny_key(kind) != PDQ.key])


def disable_hash(
    session: Session,
    hash_id: int,
    reason: str,
    now: datetime,
    *,
    deny: bool = False,
    actor: str | None,
    network: str | None,
) -> int:
    """Disable a hash and the other hashes of its photo (every partner's feed sends them as
    ``Deleted`` from its next fetch); with ``deny``, also put them on the deny-list. Returns how
    many hashes were disabled now (0 if they all were already). Raises
    :class:`HashNotFoundError`, :class:`ReviewError` (no reason)."""
    cleaned = _reason(reason)
    with session.begin():
        prescan = None
        if deny:
            # The long search first, with no lock; then the deny-list's lock, before the hash's
            # row lock (a case holding the shared lock may be waiting for that row).
            seen = _members(session, _photo_group(session, hash_id))
            prescan = prescan_entries(session.connection(), _deniable_pdq(seen))
            lock_denied_for_adding(session)
        chosen = _hash(session, hash_id, lock=True)
        group = _photo_group(session, hash_id)
        already = set(
            session.scalars(select(DisabledHash.hash_id).where(DisabledHash.hash_id.in_(group)))
        )
        new = sorted(group - already)
        if new:
            session.add_all(
                DisabledHash(
                    hash_id=h,
                    chosen_hash_id=hash_id,
                    reason=cleaned,
                    disabled_by=actor,
                    disabled_at=now,
                )
                for h in new
            )
            session.flush()
        members = _members(session, group)
        target = short_hash(chosen.value)
        detail = f"{cleaned} ({len(new)} hashes of the photo)"
        record(
            session, "hash.disable", now, actor=actor, network=network, target=target, detail=detail
        )
        if prescan is not None:
            _deny(session, members, cleaned, actor, now, prescan)
            record(
                session,
                "hash.deny",
                now,
                actor=actor,
                network=network,
                target=target,
                detail=f"{cleaned} ({len(members)} hashes of the photo)",
            )
        if new:
            # Last: take the feed clock and stamp the rows (as a withdrawal does).
            seq = advance_feed_clock(session)
            stamp_hashes(session, new, seq, now, status=HASH_DISABLED)
    return len(new)


def enable_hash(
    session: Session, hash_id: int, now: datetime, *, actor: str | None, network: str | None
) -> int:
    """Re-enable a disabled hash and those disabled with it (active again where an active case
    holds them, withdrawn otherwise). Deny-list entries stay (:func:`remove_denied`). Returns
    how many hashes were re-enabled. Raises :class:`HashNotFoundError`, :class:`ReviewError`
    (the hash is not disabled)."""
    with session.begin():
        chosen = _hash(session, hash_id, lock=True)
        mark = session.get(DisabledHash, hash_id)
        if mark is None:
            raise ReviewError("This hash is not disabled.")
        group = sorted(
            session.scalars(
                select(DisabledHash.hash_id).where(
                    DisabledHash.chosen_hash_id == mark.chosen_hash_id
                )
            )
        )
        session.execute(delete(DisabledHash).where(DisabledHash.hash_id.in_(group)))
        held = set(
            session.scalars(
                select(CaseHash.hash_id)
                .join(Case, Case.id == CaseHash.case_id)
                .where(CaseHash.hash_id.in_(group), Case.status == CASE_ACTIVE)
                .distinct()
            )
        )
        record(
            session,
            "hash.enable",
            now,
            actor=actor,
            network=network,
            target=short_hash(chosen.value),
            detail=f"{len(group)} hashes of the photo",
        )
        seq = advance_feed_clock(session)
        stamp_hashes(session, held, seq, now, status=HASH_ACTIVE, withdrawn_at=None)
        stamp_hashes(session, set(group) - held, seq, now, status=HASH_WITHDRAWN)
        # A hash withdrawn before it was disabled keeps its withdrawal time (retention).
        session.execute(
            update(HashRecord)
            .where(HashRecord.id.in_(sorted(set(group) - held)), HashRecord.withdrawn_at.is_(None))
            .values(withdrawn_at=now)
        )
    return len(group)


def list_disabled(session: Session) -> list[DisabledEntry]:
    """Every disabled hash, newest first."""
    with session.begin():
        rows = session.execute(
            select(
                DisabledHash.hash_id,
                DisabledHash.chosen_hash_id,
                HashRecord.signal_type,
                HashRecord.value,
                DisabledHash.reason,
                DisabledHash.disabled_by,
                DisabledHash.disabled_at,
            )
            .join(HashRecord, HashRecord.id == DisabledHash.hash_id)
            .order_by(DisabledHash.disabled_at.desc(), DisabledHash.hash_id)
        ).all()
    return [DisabledEntry(r[0], r[1], r[2], short_hash(r[3]), r[4], r[5], r[6]) for r in rows]


def deny_value(
    session: Session,
    signal_type: str,
    value: str,
    reason: str,
    now: datetime,
    *,
    actor: str | None,
    network: str | None,
) -> None:
    """Put a PDQ (``pdq``: refused within the match threshold, of any kind) or MD5 (``md5``)
    value on the deny-list. Raises :class:`InvalidHashError` (not a valid value of the type),
    :class:`ReviewError`."""
    cleaned = _reason(reason)
    if signal_type not in _DENIABLE:
        raise ReviewError(f"A deny-list entry is a {' or '.join(_DENIABLE)} hash.")
    kind = by_key(signal_type)
    normalised = kind.normalize(value)
    with session.begin():
        rows = [(kind.key, normalised)]
        prescan = prescan_entries(session.connection(), _deniable_pdq(rows))
        lock_denied_for_adding(session)
        _deny(session, rows, cleaned, actor, now, prescan)
        record(
            session,
            "hash.deny",
            now,
            actor=actor,
            network=network,
            target=short_hash(normalised),
            detail=cleaned,
        )


def list_denied(session: Session) -> list[DeniedEntry]:
    """The helpline's deny-list, newest first."""
    with session.begin():
        rows = session.execute(
            select(
                DeniedHash.id,
                DeniedHash.signal_type,
                DeniedHash.value,
                DeniedHash.reason,
                DeniedHash.added_by,
                DeniedHash.created_at,
            ).order_by(DeniedHash.id.desc())
        ).all()
    return [DeniedEntry(r[0], r[1], short_hash(r[2]), r[3], r[4], r[5]) for r in rows]


def remove_denied(
    session: Session, entry_id: int, now: datetime, *, actor: str | None, network: str | None
) -> None:
    """Take an entry off the deny-list (the hash may be submitted again). Raises
    :class:`HashNotFoundError`."""
    with session.begin():
        row = session.get(DeniedHash, entry_id)
        if row is None:
            raise HashNotFoundError("No deny-list entry has this id.")
        target = short_hash(row.value)
        unflag_entries(session.connection(), [row.value])
        session.delete(row)
        session.flush()
        record(session, "hash.undeny", now, actor=actor, network=network, target=target)

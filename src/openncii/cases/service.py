"""The case service: open a case from hashes, check it, withdraw it.

Functions take a SQLAlchemy session (with no transaction open: each function commits its own
short transactions), plain values and the current time, and raise errors of
:mod:`openncii.errors`. argon2 work happens outside any transaction.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, TypeVar

from sqlalchemy import bindparam, case, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from openncii.cases.abuse import (
    NETWORK_DAYS,
    LockoutPolicy,
    count_pin_try,
    give_back_pin_try,
    throttle_key,
)
from openncii.cases.bursts import BurstRule, flag_burst, lock_network
from openncii.cases.denied import load_denied
from openncii.cases.denylist import DenyList
from openncii.cases.eligibility import Eligibility, check_eligibility
from openncii.cases.numbers import (
    LEGACY_PIN_DIGITS,
    format_case_number,
    format_pin,
    new_case_number,
    new_partner_ref,
    new_pin,
    normalize_case_number,
    normalize_pin,
)
from openncii.cases.pins import PinHasher
from openncii.cases.validation import Submission, ValidHash, count_files, validate_hashes
from openncii.db.feed_clock import (
    advance_feed_clock,
    stamp_hashes,
    stamp_hashes_at_new_position,
)
from openncii.db.models import (
    CASE_ACTIVE,
    CASE_WITHDRAWN,
    HASH_ACTIVE,
    HASH_DISABLED,
    HASH_WITHDRAWN,
    Case,
    CaseHash,
    CaseNetwork,
    Feedback,
    HashRecord,
    Partner,
)
from openncii.errors import AuthenticationError, HashRejectedError, ServiceError
from openncii.signals.hexcode import short_hash

__all__ = [
    "CaseRules",
    "CaseStatus",
    "CreatedCase",
    "HashOutcome",
    "HashStatus",
    "case_status",
    "create_case",
    "store_case",
    "withdraw_case",
]

_T = TypeVar("_T")
_NUMBER_ATTEMPTS: Final = 5
#: One case creation in this many also deletes the networks older than ``NETWORK_DAYS``.
_PRUNE_NETWORKS_ONE_IN: Final = 64
#: Refusals say how many tries are left from this many on.
_WARN_AT: Final = 2
_AUTH_FAILED: Final = (
    "This case number and PIN do not match a case. Please check both and try again."
)


@dataclass(frozen=True, slots=True)
class CaseRules:
    """Everything the service needs besides the session: made once per process."""

    pins: PinHasher
    denylist: DenyList
    max_hashes: int
    lockout: LockoutPolicy
    #: Photos and videos one case may hold (``validation.count_files``).
    max_files: int | None = None
    #: When cases from one network are a burst (flagged as they are stored).
    bursts: BurstRule = field(default_factory=BurstRule)


@dataclass(frozen=True, slots=True)
class CreatedCase:
    """What the person is shown once: the case number and the PIN (both grouped); how many
    hashes were stored and how many photos and videos they came from."""

    case_number: str
    pin: str
    hash_count: int
    file_count: int = 0


@dataclass(frozen=True, slots=True)
class HashOutcome:
    partner: str
    outcome: str
    at: datetime


@dataclass(frozen=True, slots=True)
class HashStatus:
    signal_type: str
    prefix: str
    outcomes: tuple[HashOutcome, ...]
    #: The photo the hash belongs to (its position among the entries sent), if a photo's.
    photo: int | None = None
    #: The helpline disabled it after review: no partner receives it any more.
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class CaseStatus:
    case_number: str
    status: str
    created_at: datetime
    withdrawn_at: datetime | None
    hashes: tuple[HashStatus, ...]


def create_case(
    session: Session,
    rules: CaseRules,
    *,
    eligibility: Eligibility,
    hashes: Sequence[Submission],
    language: str | None,
    now: datetime,
    network: str | None = None,
) -> CreatedCase:
    """Validate everything, then store the case and its hashes in one transaction.

    ``network`` is the keyed digest of the client's network (:func:`network_key
    <openncii.cases.abuse.network_key>`), kept for the console's hash review."""
    check_eligibility(eligibility)
    valid = validate_hashes(hashes, rules.denylist, rules.max_hashes, rules.max_files)
    refuse = _denied_refusal(rules, hashes)
    pin = new_pin()
    pin_hash = rules.pins.hash(pin)
    for attempt in range(_NUMBER_ATTEMPTS):
        number = new_case_number()
        try:
            with session.begin():
                store_case(
                    session,
                    number,
                    pin_hash,
                    valid,
                    language,
                    now,
                    network=network,
                    bursts=rules.bursts,
                    refuse=refuse,
                )
        except IntegrityError:
            # A random case number or partner reference collided (about 1 in 10**17): retry.
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
            continue
        return CreatedCase(
            format_case_number(number), format_pin(pin), len(valid), count_files(hashes)
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _denied_refusal(
    rules: CaseRules, hashes: Sequence[Submission]
) -> Callable[[ValidHash], HashRejectedError]:
    """The refusal of a hash on the helpline's own deny-list (:mod:`openncii.cases.denied`),
    naming the entry of ``hashes`` it came in."""

    def refuse(denied: ValidHash) -> HashRejectedError:
        index = next(
            i
            for i, submission in enumerate(hashes)
            if denied.key in {h.key for h in validate_hashes([submission], rules.denylist, 1 << 16)}
        )
        return HashRejectedError(
            f"Hash {index + 1}: the helpline has stopped this fingerprint from being shared with "
            "partners. If you think this is a mistake, please contact the helpline.",
            index=index,
        )

    return refuse


_INSERT_CASE: Final = insert(Case).returning(Case.id)
_INSERT_HASHES: Final = {
    name: dialect_insert(HashRecord).on_conflict_do_nothing(index_elements=["signal_type", "value"])
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_SELECT_HASH_IDS: Final = select(HashRecord.id, HashRecord.value).where(
    HashRecord.signal_type == bindparam("b_type"),
    HashRecord.value.in_(bindparam("b_values", expanding=True)),
)
_INSERT_LINKS: Final = insert(CaseHash)


def store_case(
    session: Session,
    number: str,
    pin_hash: str,
    valid: list[ValidHash],
    language: str | None,
    now: datetime,
    *,
    network: str | None = None,
    bursts: BurstRule | None = None,
    refuse: Callable[[ValidHash], ServiceError],
) -> None:
    """Store a case and its validated hashes in the transaction open on ``session`` (new
    hashes are added, shared ones linked, and every one stamped at a new feed position; a hash
    the helpline disabled stays disabled). ``network``: see :func:`create_case`; with it, the
    case is flagged with the other cases of its network if they are a burst by ``bursts``
    (:mod:`openncii.cases.bursts`).

    First, in this transaction, the helpline's deny-list is read and checked: the first hash
    it refuses raises ``refuse(hash)`` (the caller's words for it) and nothing is stored. Read
    here, not before the transaction, the check is ordered against an entry added at the same
    moment (:mod:`openncii.cases.denied`): either the case sees the entry, or the entry's scan
    sees the case.

    ``pin_hash`` is what is stored for the PIN (an argon2id hash). Raises ``IntegrityError``
    when the random case number or partner reference collides (the caller retries).
    """
    refused = load_denied(session).first_refused([h.key for h in valid])
    if refused is not None:
        raise refuse(valid[refused])
    connection = session.connection()
    if network is not None:
        if bursts is None:
            raise ValueError("a case stored with its network needs the burst rule")
        lock_network(connection, network)  # before the first write
    case_id = connection.execute(
        _INSERT_CASE,
        {
            "number": number,
            "pin_hash": pin_hash,
            "partner_ref": new_partner_ref(),
            "status": CASE_ACTIVE,
            "language": language,
            "created_at": now,
        },
    ).scalar_one()
    # Insert in a fixed order so that concurrent cases sharing hashes cannot deadlock.
    ordered = sorted(valid, key=lambda h: h.key)
    connection.execute(
        _INSERT_HASHES[connection.dialect.name],
        [
            {
                "signal_type": h.signal_type,
                "value": h.value,
                "payload": h.payload,
                "status": HASH_ACTIVE,
                "feed_seq": 0,
                "created_at": now,
                "updated_at": now,
                "withdrawn_at": None,
            }
            for h in ordered
        ],
    )
    by_type: dict[str, list[str]] = defaultdict(list)
    for h in ordered:
        by_type[h.signal_type].append(h.value)
    ids: dict[tuple[str, str], int] = {}
    for signal_type, values in by_type.items():
        rows = connection.execute(_SELECT_HASH_IDS, {"b_type": signal_type, "b_values": values})
        for hash_id, value in rows:
            ids[(signal_type, value)] = hash_id
    connection.execute(
        _INSERT_LINKS,
        [
            {
                "case_id": case_id,
                "hash_id": ids[h.key],
                "position": position,
                "quality": h.quality,
                "photo": h.photo,
            }
            for position, h in enumerate(valid)
        ],
    )
    if network is not None:
        connection.execute(
            insert(CaseNetwork), {"case_id": case_id, "network": network, "created_at": now}
        )
        assert bursts is not None
        flag_burst(connection, network, now, bursts)
        if secrets.randbelow(_PRUNE_NETWORKS_ONE_IN) == 0:
            oldest = now - timedelta(days=NETWORK_DAYS)
            connection.execute(delete(CaseNetwork).where(CaseNetwork.created_at < oldest))
    # Last: take the feed clock and stamp every hash of the case (new, reactivated or shared).
    stamp_hashes_at_new_position(
        session, list(ids.values()), now, status=_ACTIVE_UNLESS_DISABLED, withdrawn_at=None
    )


#: A hash's status when a case holds it: active, unless the helpline disabled it.
_ACTIVE_UNLESS_DISABLED: Final = case(
    (HashRecord.status == HASH_DISABLED, HASH_DISABLED), else_=HASH_ACTIVE
)
#: A hash's status when no active case holds it any more: withdrawn, unless disabled.
_WITHDRAWN_UNLESS_DISABLED: Final = case(
    (HashRecord.status == HASH_DISABLED, HASH_DISABLED), else_=HASH_WITHDRAWN
)


def _auth_failed(tries_left: int, policy: LockoutPolicy) -> AuthenticationError:
    """The one refusal of a wrong PIN or unknown case number, warning before the last tries."""
    message = _AUTH_FAILED
    if tries_left == 0:
        message += (
            " That was the last try for now: the next one can be made in "
            f"{policy.pause_seconds} seconds at most."
        )
    elif tries_left <= _WARN_AT:
        message += f" {tries_left} {'try' if tries_left == 1 else 'tries'} left before a pause."
    return AuthenticationError(message, tries_left=tries_left)


def _authenticated(
    session: Session,
    rules: CaseRules,
    secret: bytes,
    client: str,
    case_number: str,
    pin: str,
    now: datetime,
    then: Callable[[Session, int], _T],
) -> _T:
    """Check the PIN, then run ``then(session, case_id)`` in the transaction that gives the
    try back. Raises :class:`AuthenticationError` (the same work and answer for a wrong PIN and
    an unknown case number, with the tries left), :class:`CaseLockedError` when a budget of
    :mod:`openncii.cases.abuse` is used up. (The HTTP layer first admits the request into the
    bounded PIN pool: :meth:`openncii.cases.pins.PinSlots.admitted`.)"""
    typed = case_number.strip().upper()
    number = normalize_case_number(typed)
    case_key = throttle_key(secret, number if number is not None else typed)
    digits = normalize_pin(pin) or ""
    with session.begin():
        # Counted and committed before the PIN is checked: parallel tries cannot overrun.
        counted = count_pin_try(
            session,
            client=client,
            case_key=case_key,
            legacy=len(digits) == LEGACY_PIN_DIGITS,
            policy=rules.lockout,
            now=now,
        )
        row = session.execute(
            select(Case.id, Case.pin_hash).where(Case.number == (number or ""))
        ).one_or_none()
    if row is not None and digits:
        ok = rules.pins.verify(row.pin_hash, digits)
    else:
        ok = rules.pins.verify_nothing(digits or pin)
    if not ok:
        raise _auth_failed(counted.tries_left, rules.lockout)
    assert row is not None
    with session.begin():
        give_back_pin_try(session, counted)
        result = then(session, int(row.id))
    if rules.pins.needs_rehash(row.pin_hash):
        new_hash = rules.pins.hash(digits)
        with session.begin():
            session.execute(update(Case).where(Case.id == row.id).values(pin_hash=new_hash))
    return result


def case_status(
    session: Session,
    rules: CaseRules,
    secret: bytes,
    *,
    client: str,
    case_number: str,
    pin: str,
    now: datetime,
) -> CaseStatus:
    """The status of a case, its hashes (type and prefix) and the partners' outcomes.

    ``client`` is the key of the asking client (:func:`openncii.cases.abuse.client_key`)."""
    return _authenticated(session, rules, secret, client, case_number, pin, now, _read_status)


def withdraw_case(
    session: Session,
    rules: CaseRules,
    secret: bytes,
    *,
    client: str,
    case_number: str,
    pin: str,
    now: datetime,
) -> CaseStatus:
    """Withdraw a case (idempotent). Its hashes become withdrawn in the partner feed unless
    another active case holds them."""

    def withdraw(session: Session, case_id: int) -> CaseStatus:
        _withdraw(session, case_id, now)
        return _read_status(session, case_id)

    return _authenticated(session, rules, secret, client, case_number, pin, now, withdraw)


def _withdraw(session: Session, case_id: int, now: datetime) -> None:
    case = session.scalars(select(Case).where(Case.id == case_id).with_for_update()).one()
    if case.status == CASE_WITHDRAWN:
        return
    case.status = CASE_WITHDRAWN
    case.withdrawn_at = now
    session.flush()
    seq = advance_feed_clock(session)
    # Decided after taking the clock: a concurrent case that shares a hash has either
    # committed (and is seen here) or will stamp the hash active after us.
    all_ids = set(session.scalars(select(CaseHash.hash_id).where(CaseHash.case_id == case_id)))
    other = aliased(CaseHash)
    held_elsewhere = set(
        session.scalars(
            select(other.hash_id)
            .join(Case, Case.id == other.case_id)
            .where(
                other.hash_id.in_(all_ids),
                other.case_id != case_id,
                Case.status == CASE_ACTIVE,
            )
            .distinct()
        )
    )
    gone = all_ids - held_elsewhere
    stamp_hashes(session, gone, seq, now, status=_WITHDRAWN_UNLESS_DISABLED, withdrawn_at=now)
    # Still active through another case, but this case's reference changed status.
    stamp_hashes(session, all_ids & held_elsewhere, seq, now)


_SELECT_CASE: Final = select(Case.number, Case.status, Case.created_at, Case.withdrawn_at).where(
    Case.id == bindparam("b_case")
)
#: Every hash of a case with every partner's outcome (one row per hash and partner, or one row
#: with no partner), in the order the person sent them.
_SELECT_HASHES_AND_OUTCOMES: Final = (
    select(
        CaseHash.position,
        CaseHash.photo,
        HashRecord.signal_type,
        HashRecord.value,
        HashRecord.status,
        Partner.name,
        Feedback.value.label("outcome"),
        Feedback.updated_at,
    )
    .join(HashRecord, HashRecord.id == CaseHash.hash_id)
    .outerjoin(Feedback, Feedback.hash_id == HashRecord.id)
    .outerjoin(Partner, Partner.id == Feedback.partner_id)
    .where(CaseHash.case_id == bindparam("b_case"))
    .order_by(CaseHash.position, Partner.name)
)


def _read_status(session: Session, case_id: int) -> CaseStatus:
    connection = session.connection()
    case = connection.execute(_SELECT_CASE, {"b_case": case_id}).one()
    hashes: dict[int, tuple[str, str, int | None, bool]] = {}
    outcomes: dict[int, list[HashOutcome]] = defaultdict(list)
    for row in connection.execute(_SELECT_HASHES_AND_OUTCOMES, {"b_case": case_id}):
        disabled = row.status == HASH_DISABLED
        hashes.setdefault(row.position, (row.signal_type, row.value, row.photo, disabled))
        if row.name is not None:
            outcomes[row.position].append(
                HashOutcome(partner=row.name, outcome=row.outcome, at=row.updated_at)
            )
    return CaseStatus(
        case_number=format_case_number(case.number),
        status=case.status,
        created_at=case.created_at,
        withdrawn_at=case.withdrawn_at,
        hashes=tuple(
            HashStatus(
                signal_type=kind,
                prefix=short_hash(value),
                outcomes=tuple(outcomes[position]),
                photo=photo,
                disabled=disabled,
            )
            for position, (kind, value, photo, disabled) in hashes.items()
        ),
    )

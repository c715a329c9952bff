"""Abuse controls kept in the database, so that every worker shares them.

* Per-client rate limits: fixed windows counted in ``rate_counters`` under an HMAC of the client's
  address (the address itself is never stored).
* PIN lockout: failures are counted per *typed* case number (an HMAC of it), whether a case with
  that number exists or not, so the lockout itself reveals nothing. After
  ``LockoutPolicy.failures`` wrong PINs the number is locked for ``base_seconds``, doubling with
  every further lockout up to ``max_seconds``; while locked even the right PIN gets
  :class:`~openncii.errors.CaseLockedError`. An attempt is counted *before* the PIN is checked, so
  parallel guesses cannot overrun the budget.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Engine, bindparam, delete, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openncii.db.models import AuthThrottle, RateCounter
from openncii.errors import CaseLockedError, RateLimitedError

__all__ = [
    "BUCKET_CREATE",
    "BUCKET_STATUS",
    "LockoutPolicy",
    "RateLimit",
    "client_key",
    "count_attempt",
    "count_request",
    "settle_attempt",
    "throttle_key",
]

#: Rate-limit buckets (storage keys).
BUCKET_CREATE: Final = "create"
BUCKET_STATUS: Final = "status"
#: One request in this many also prunes expired counters.
_PRUNE_ONE_IN: Final = 64
_IPV6_PREFIX: Final = 64


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    failures: int = 5
    base_seconds: int = 15 * 60
    max_seconds: int = 7 * 24 * 3600

    def duration(self, previous_lockouts: int) -> timedelta:
        """Length of the next lockout after ``previous_lockouts`` earlier ones (doubling)."""
        seconds = self.base_seconds * (2 ** min(previous_lockouts, 32))
        return timedelta(seconds=min(seconds, self.max_seconds))


def _hmac(secret: bytes, label: str, text: str) -> str:
    return hmac.new(secret, f"{label}\0{text}".encode(), hashlib.sha256).hexdigest()


def client_key(secret: bytes, address: str) -> str:
    """The stored identity of a client: an HMAC of its address (IPv6: of its /64 network)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        canonical = address
    else:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if isinstance(ip, ipaddress.IPv6Address):
            canonical = str(ipaddress.ip_network(f"{ip}/{_IPV6_PREFIX}", strict=False))
        else:
            canonical = str(ip)
    return _hmac(secret, "client", canonical)


def throttle_key(secret: bytes, typed_case_number: str) -> str:
    """The key of the PIN-failure counter for a typed case number (normalised or not)."""
    return _hmac(secret, "case", typed_case_number)


#: One statement on both backends: count the request and read the new count.
_COUNT_SQL: Final = text(
    "INSERT INTO rate_counters (bucket, client, window_start, count) "
    "VALUES (:bucket, :client, :window_start, 1) "
    "ON CONFLICT (bucket, client, window_start) DO UPDATE SET count = rate_counters.count + 1 "
    "RETURNING count"
)


def count_request(
    session: Session, bucket: str, client: str, rule: RateLimit, now: datetime
) -> None:
    """Count one request of ``client`` in ``bucket``; raise :class:`RateLimitedError` if over.

    Commits its own transaction.
    """
    epoch = now.timestamp()
    window = int(epoch // rule.window_seconds) * rule.window_seconds
    params = {"bucket": bucket, "client": client, "window_start": window}
    engine = session.get_bind()
    if isinstance(engine, Engine) and engine.dialect.name == "postgresql":
        # One statement in autocommit: the counter row is locked only inside PostgreSQL, never
        # while a Python thread waits for the GIL to send COMMIT (clients behind one address
        # would otherwise queue on that row).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            count = int(connection.execute(_COUNT_SQL, params).scalar_one())
        if secrets.randbelow(_PRUNE_ONE_IN) == 0:
            with session.begin():
                _prune(session, window, now)
    else:
        with session.begin():
            count = int(session.connection().execute(_COUNT_SQL, params).scalar_one())
            if secrets.randbelow(_PRUNE_ONE_IN) == 0:
                _prune(session, window, now)
    if count > rule.limit:
        retry_after = math.ceil(window + rule.window_seconds - epoch)
        raise RateLimitedError(
            "Too many requests from this connection. Please wait a moment and try again.",
            retry_after=retry_after,
        )


def _prune(session: Session, current_window: int, now: datetime) -> None:
    session.execute(delete(RateCounter).where(RateCounter.window_start < current_window))
    stale = now - timedelta(days=30)
    session.execute(
        delete(AuthThrottle).where(
            AuthThrottle.updated_at < stale,
            or_(AuthThrottle.locked_until.is_(None), AuthThrottle.locked_until < now),
        )
    )


def _locked(message_now: datetime, until: datetime) -> CaseLockedError:
    seconds = math.ceil((until - message_now).total_seconds())
    minutes = max(1, math.ceil(seconds / 60))
    return CaseLockedError(
        "Too many wrong PINs were tried for this case number, so it is locked for now. "
        f"Please try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=seconds,
    )


_THROTTLE_INSERT: Final = {
    name: dialect_insert(AuthThrottle)
    .values(
        key=bindparam("b_key"),
        failures=0,
        lockouts=0,
        locked_until=None,
        updated_at=bindparam("b_now"),
    )
    .on_conflict_do_nothing(index_elements=["key"])
    for name, dialect_insert in (("sqlite", sqlite.insert), ("postgresql", postgresql.insert))
}
_THROTTLE_SELECT: Final = (
    select(AuthThrottle.failures, AuthThrottle.lockouts, AuthThrottle.locked_until)
    .where(AuthThrottle.key == bindparam("b_key"))
    .with_for_update()
)
_THROTTLE_UPDATE: Final = (
    update(AuthThrottle)
    .where(AuthThrottle.key == bindparam("b_key"))
    .values(
        failures=bindparam("b_failures"),
        lockouts=bindparam("b_lockouts"),
        locked_until=bindparam("b_locked_until"),
        updated_at=bindparam("b_now"),
    )
)


@dataclass(slots=True)
class _Throttle:
    failures: int
    lockouts: int
    locked_until: datetime | None


def _locked_row(session: Session, key: str, now: datetime) -> _Throttle:
    """The counter row of ``key`` (created if missing), locked until the transaction ends."""
    connection = session.connection()
    params = {"b_key": key, "b_now": now}
    connection.execute(_THROTTLE_INSERT[connection.dialect.name], params)
    row = connection.execute(_THROTTLE_SELECT, params).one()
    return _Throttle(row.failures, row.lockouts, row.locked_until)


def _save_row(session: Session, key: str, row: _Throttle, now: datetime) -> None:
    session.connection().execute(
        _THROTTLE_UPDATE,
        {
            "b_key": key,
            "b_failures": row.failures,
            "b_lockouts": row.lockouts,
            "b_locked_until": row.locked_until,
            "b_now": now,
        },
    )


def count_attempt(
    session: Session, key: str, policy: LockoutPolicy, now: datetime
) -> CaseLockedError | None:
    """Count a PIN attempt for ``key`` before it is checked, in the caller's transaction.

    Returns the :class:`CaseLockedError` to raise *after* committing (the lock it may have just
    set must be kept), or ``None`` when the attempt may go ahead.
    """
    row = _locked_row(session, key, now)
    if row.locked_until is not None and row.locked_until > now:
        return _locked(now, row.locked_until)
    error: CaseLockedError | None = None
    if row.locked_until is not None:  # an earlier lockout is over: a fresh budget
        row.locked_until = None
        row.failures = 0
    if row.failures >= policy.failures:
        # Earlier attempts still being checked have used up the budget: lock now.
        row.locked_until = now + policy.duration(row.lockouts)
        row.lockouts += 1
        error = _locked(now, row.locked_until)
    else:
        row.failures += 1
    _save_row(session, key, row, now)
    return error


def settle_attempt(
    session: Session, key: str, policy: LockoutPolicy, now: datetime, *, success: bool
) -> None:
    """Settle an attempt counted by :func:`count_attempt`, in the caller's transaction."""
    row = _locked_row(session, key, now)
    if success:
        row = _Throttle(failures=0, lockouts=0, locked_until=None)
    elif row.failures >= policy.failures and (row.locked_until is None or row.locked_until <= now):
        row.locked_until = now + policy.duration(row.lockouts)
        row.lockouts += 1
    _save_row(session, key, row, now)

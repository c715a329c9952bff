"""Abuse controls kept in the database, so that every worker shares them.

Everything is counted in fixed windows in ``rate_counters``, one ``INSERT ... ON CONFLICT DO
UPDATE ... RETURNING count`` per count: atomic on SQLite and PostgreSQL, so parallel requests
(threads or server processes) each get their own number and a budget holds exactly.

* Per-client rate limits: requests per client (an HMAC of its address; the address itself is
  never stored) and window.
* PIN tries (the design and its arithmetic are in ``docs/security.md``): a try is counted
  *before* its PIN is checked, under keys derived from the *typed* case number, whether a case
  with that number exists or not, so the answers reveal nothing.

  - Per client and case number: ``LockoutPolicy.tries`` tries per ``pause_seconds`` window.
    The pause that follows ends with the window, whatever anyone does meanwhile: nobody can
    lengthen it, and someone else's wrong tries (from another address) never touch it.
  - 8-digit PINs (cases opened before PINs had 16 digits): also ``legacy_tries`` tries per
    ``legacy_window_seconds`` for the case number, all clients together, which keeps guessing
    an 8-digit PIN beyond 100 years of expected work. A 16-digit PIN is never counted there,
    so it is not affected by that shared budget.
  - A right PIN gives its try back, so checking a case never uses up tries.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.orm import Session

from openncii.audit import client_ip, client_network
from openncii.cases.proof import new_challenge, proof_ok, valid_challenge
from openncii.db.models import RateCounter
from openncii.errors import CaseLockedError, RateLimitedError

__all__ = [
    "BUCKET_CREATE",
    "BUCKET_PIN_CASE",
    "BUCKET_PIN_CLIENT",
    "BUCKET_STATUS",
    "MAX_WINDOW_SECONDS",
    "NETWORK_DAYS",
    "LockoutPolicy",
    "PinTry",
    "RateLimit",
    "client_key",
    "count_creation",
    "count_pin_try",
    "count_request",
    "give_back_pin_try",
    "give_back_request",
    "network_key",
    "throttle_key",
]

#: Rate-limit buckets (storage keys).
BUCKET_CREATE: Final = "create"
BUCKET_STATUS: Final = "status"
#: PIN tries per client and case number.
BUCKET_PIN_CLIENT: Final = "pin-client"
#: Tries of 8-digit PINs per case number, all clients together.
BUCKET_PIN_CASE: Final = "pin-case"
#: Proofs of work used (each challenge lets one creation past the limit).
BUCKET_PROOF: Final = "proof"
#: The longest window any counter may have (settings are bounded by it); older rows are pruned.
MAX_WINDOW_SECONDS: Final = 24 * 3600
#: One request in this many also prunes expired counters.
_PRUNE_ONE_IN: Final = 64
_IPV6_PREFIX: Final = 64
#: How long the network of a case (:func:`network_key`) is kept, for the console's hash review.
NETWORK_DAYS: Final = 30


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit: int
    window_seconds: int


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """PIN tries: ``tries`` per client and case number in each ``pause_seconds`` window, and
    for 8-digit PINs ``legacy_tries`` per case number in each ``legacy_window_seconds``."""

    tries: int = 5
    pause_seconds: int = 60
    legacy_tries: int = 5
    legacy_window_seconds: int = 600


def _hmac(secret: bytes, label: str, text: str) -> str:
    return hmac.new(secret, f"{label}\0{text}".encode(), hashlib.sha256).hexdigest()


def client_key(secret: bytes, address: str) -> str:
    """The stored identity of a client: an HMAC of its address (IPv6: of its /64 network)."""
    ip = client_ip(address)
    if ip is None:
        canonical = address
    elif isinstance(ip, ipaddress.IPv6Address):
        canonical = str(ipaddress.ip_network(f"{ip}/{_IPV6_PREFIX}", strict=False))
    else:
        canonical = str(ip)
    return _hmac(secret, "client", canonical)


def network_key(secret: bytes, address: str) -> str:
    """The stored identity of a client's network (IPv4 /24, IPv6 /48, as the audit log shows
    staff networks), kept with each case for the console's hash review: an HMAC, never the
    address or the network itself."""
    return _hmac(secret, "network", client_network(address))


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


def _window(now: datetime, seconds: int) -> int:
    return int(now.timestamp() // seconds) * seconds


def _retry_after(now: datetime, window: int, seconds: int) -> int:
    return math.ceil(window + seconds - now.timestamp())


def _count(connection: Connection, bucket: str, key: str, window: int) -> int:
    params = {"bucket": bucket, "client": key, "window_start": window}
    return int(connection.execute(_COUNT_SQL, params).scalar_one())


def count_request(
    session: Session, bucket: str, client: str, rule: RateLimit, now: datetime
) -> None:
    """Count one request of ``client`` in ``bucket``; raise :class:`RateLimitedError` if over.

    Commits its own transaction.
    """
    window = _window(now, rule.window_seconds)
    engine = session.get_bind()
    if isinstance(engine, Engine) and engine.dialect.name == "postgresql":
        # One statement in autocommit: the counter row is locked only inside PostgreSQL, never
        # while a Python thread waits for the GIL to send COMMIT (clients behind one address
        # would otherwise queue on that row).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            count = _count(connection, bucket, client, window)
        if secrets.randbelow(_PRUNE_ONE_IN) == 0:
            with session.begin():
                _prune(session, now)
    else:
        with session.begin():
            count = _count(session.connection(), bucket, client, window)
            if secrets.randbelow(_PRUNE_ONE_IN) == 0:
                _prune(session, now)
    if count > rule.limit:
        raise RateLimitedError(
            "Too many requests from this connection. Please wait a moment and try again.",
            retry_after=_retry_after(now, window, rule.window_seconds),
        )


def count_creation(
    session: Session,
    client: str,
    rule: RateLimit,
    now: datetime,
    *,
    secret: bytes,
    proof: str | None,
    proof_bits: int,
) -> None:
    """Count a case creation of ``client``. Over the limit, a valid, unused proof of work
    (``challenge:nonce``, :mod:`openncii.cases.proof`) lets it through; otherwise
    :class:`RateLimitedError` carries a fresh challenge. Commits its own transactions."""
    try:
        count_request(session, BUCKET_CREATE, client, rule, now)
    except RateLimitedError as limited:
        if proof is not None and _proof_accepted(session, secret, proof, now, proof_bits):
            return
        raise RateLimitedError(
            "Many cases were opened from this connection (a shared network, perhaps) in the "
            "last minute. The web app and `openncii case create` get past this on their own "
            "with a few seconds of work on your device; otherwise please wait "
            f"{limited.retry_after} seconds and try again.",
            retry_after=limited.retry_after,
            challenge=new_challenge(secret, now, proof_bits),
        ) from None


def _proof_accepted(
    session: Session, secret: bytes, proof: str, now: datetime, min_bits: int
) -> bool:
    challenge, _, nonce = proof.rpartition(":")
    if not valid_challenge(secret, challenge, now, min_bits) or not proof_ok(challenge, nonce):
        return False
    expires = int(challenge.split(".", 1)[0])
    key = hashlib.sha256(challenge.encode()).hexdigest()
    with session.begin():
        return _count(session.connection(), BUCKET_PROOF, key, expires) == 1


def _prune(session: Session, now: datetime) -> None:
    """Delete counters of windows that ended (no window is longer than a day)."""
    oldest = int(now.timestamp()) - MAX_WINDOW_SECONDS
    session.execute(delete(RateCounter).where(RateCounter.window_start < oldest))


@dataclass(frozen=True, slots=True)
class PinTry:
    """A counted PIN try: its counters, and how many tries are left after it if it is wrong."""

    counters: tuple[tuple[str, str, int], ...]  # (bucket, key, window start)
    tries_left: int


def _pin_client_key(client: str, case_key: str) -> str:
    return hashlib.sha256(f"{client}\0{case_key}".encode()).hexdigest()


def _paused(seconds: int) -> CaseLockedError:
    return CaseLockedError(
        "Too many wrong PINs were tried for this case number from this connection. "
        f"Please wait {seconds} second{'s' if seconds != 1 else ''} and try again.",
        retry_after=seconds,
    )


def _case_budget_used(seconds: int) -> CaseLockedError:
    minutes = max(1, math.ceil(seconds / 60))
    return CaseLockedError(
        "Too many wrong 8-digit PINs were tried for this case number. Please try again in "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
        retry_after=seconds,
    )


def count_pin_try(
    session: Session,
    *,
    client: str,
    case_key: str,
    legacy: bool,
    policy: LockoutPolicy,
    now: datetime,
) -> PinTry:
    """Count a PIN try before it is checked, in the caller's transaction.

    ``client``: the client's key (:func:`client_key`); ``case_key``: the typed case number's key
    (:func:`throttle_key`); ``legacy``: the typed PIN has 8 digits. Raises
    :class:`CaseLockedError` when a budget is used up (the caller must still commit: a refused
    try is given back, so that it costs nothing).
    """
    connection = session.connection()
    if secrets.randbelow(_PRUNE_ONE_IN) == 0:
        _prune(session, now)
    client_window = _window(now, policy.pause_seconds)
    own = (BUCKET_PIN_CLIENT, _pin_client_key(client, case_key), client_window)
    used = _count(connection, *own)
    if used > policy.tries:
        _give_back(connection, own)
        raise _paused(_retry_after(now, client_window, policy.pause_seconds))
    left = policy.tries - used
    if not legacy:
        return PinTry((own,), left)
    case_window = _window(now, policy.legacy_window_seconds)
    shared = (BUCKET_PIN_CASE, case_key, case_window)
    shared_used = _count(connection, *shared)
    if shared_used > policy.legacy_tries:
        _give_back(connection, own)
        _give_back(connection, shared)
        raise _case_budget_used(_retry_after(now, case_window, policy.legacy_window_seconds))
    return PinTry((own, shared), min(left, policy.legacy_tries - shared_used))


_GIVE_BACK_SQL: Final = text(
    "UPDATE rate_counters SET count = count - 1 "
    "WHERE bucket = :bucket AND client = :client AND window_start = :window_start AND count > 0"
)


def _give_back(connection: Connection, counter: tuple[str, str, int]) -> None:
    bucket, key, window = counter
    connection.execute(_GIVE_BACK_SQL, {"bucket": bucket, "client": key, "window_start": window})


def give_back_pin_try(session: Session, counted: PinTry) -> None:
    """Give back a try whose PIN was right, in the caller's transaction (only its own count:
    the wrong tries counted meanwhile stay counted)."""
    connection = session.connection()
    for counter in counted.counters:
        _give_back(connection, counter)


def give_back_request(
    session: Session, bucket: str, client: str, rule: RateLimit, now: datetime
) -> None:
    """Give back a request that :func:`count_request` counted in the window of ``now`` (a
    console sign-in that succeeded: only failures stay counted). Commits its own transaction."""
    with session.begin():
        _give_back(session.connection(), (bucket, client, _window(now, rule.window_seconds)))

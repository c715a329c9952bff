"""A small proof of work that lets a person past a busy shared address.

Case creations are limited per client address (``OPENNCII_RATE_LIMIT_CREATE`` per window). A
shelter, a university or a mobile operator puts many people behind one address, and a person
there must not be refused a first case because others opened cases in the same minute. So a
creation over the limit is answered 429 ``rate_limited`` with a *challenge*; the person's device
(the web app's worker, or ``openncii case create``) finds a nonce such that
``md5(challenge + ":" + nonce)`` starts with ``bits`` zero bits, and sends the creation again
with ``X-Proof-Of-Work: challenge:nonce``. A valid, fresh, unused proof lets it past the limit.

The work (2**bits MD5 on average; at the default 18 bits about 0.5 s in a desktop browser, a
few seconds on a slow phone) costs a person once, and a flood of creations at least about what
the server spends on each (one argon2id hash, ~20-40 ms of CPU): native MD5 on one core does
2**18 in ~25 ms. It is a speed bump against floods from one address, not a wall: a GPU solves
it in microseconds. A challenge is signed (HMAC under the installation secret), expires after
:data:`CHALLENGE_SECONDS` and is good for one creation (counted in ``rate_counters``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime
from typing import Final

__all__ = [
    "CHALLENGE_SECONDS",
    "PROOF_HEADER",
    "leading_zero_bits",
    "new_challenge",
    "proof_digest",
    "proof_ok",
    "solve",
    "valid_challenge",
]

#: The header that carries ``challenge:nonce``.
PROOF_HEADER: Final = "X-Proof-Of-Work"
#: How long a challenge may be used.
CHALLENGE_SECONDS: Final = 600
_MAC_HEX: Final = 32
_NONCE_MAX_LEN: Final = 32


def _mac(secret: bytes, body: str) -> str:
    return hmac.new(secret, f"proof\0{body}".encode(), hashlib.sha256).hexdigest()[:_MAC_HEX]


def new_challenge(secret: bytes, now: datetime, bits: int) -> str:
    """A signed challenge ``expires.random.bits.mac`` (expires in Unix seconds)."""
    body = f"{int(now.timestamp()) + CHALLENGE_SECONDS}.{secrets.token_hex(12)}.{bits}"
    return f"{body}.{_mac(secret, body)}"


def valid_challenge(secret: bytes, challenge: str, now: datetime, min_bits: int) -> bool:
    """Whether ``challenge`` is ours, unexpired and asks at least ``min_bits``."""
    parts = challenge.split(".")
    if len(parts) != 4:
        return False
    expires, _random, bits, mac = parts
    body = ".".join(parts[:3])
    if not hmac.compare_digest(mac.encode(), _mac(secret, body).encode()):  # any text: bytes
        return False
    return expires.isdigit() and int(expires) > now.timestamp() and int(bits) >= min_bits


def proof_digest(challenge: str, nonce: str) -> bytes:
    return hashlib.md5(f"{challenge}:{nonce}".encode(), usedforsecurity=False).digest()


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def proof_ok(challenge: str, nonce: str) -> bool:
    """Whether ``nonce`` solves ``challenge`` (its number of bits is in the challenge)."""
    parts = challenge.split(".")
    if len(parts) != 4 or not parts[2].isdigit() or not 0 < len(nonce) <= _NONCE_MAX_LEN:
        return False
    return leading_zero_bits(proof_digest(challenge, nonce)) >= int(parts[2])


def solve(challenge: str) -> str:
    """Find a nonce for ``challenge`` (what a person's device does; 2**bits tries on average)."""
    nonce = 0
    while not proof_ok(challenge, str(nonce)):
        nonce += 1
    return str(nonce)

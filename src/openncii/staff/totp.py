"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): SHA-1, 6 digits, 30 s steps.

What every authenticator app accepts from an ``otpauth://totp/...`` URI. The QR code of that URI
is drawn here as SVG (``segno``), so enrolling an authenticator sends nothing to a third party.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import secrets
import struct
from datetime import datetime
from typing import Final
from urllib.parse import quote, urlencode

__all__ = [
    "TOTP_DIGITS",
    "TOTP_STEP_SECONDS",
    "matching_step",
    "new_totp_secret",
    "otpauth_uri",
    "qr_svg",
    "time_step",
    "totp_code",
]

TOTP_DIGITS: Final = 6
TOTP_STEP_SECONDS: Final = 30
#: Steps accepted on either side of the server's (clock drift, a code typed slowly).
_DRIFT_STEPS: Final = 1
_SECRET_BYTES: Final = 20  # 160 bits, RFC 4226's recommendation for HMAC-SHA-1


def new_totp_secret() -> str:
    """A random secret, base32 without padding (32 characters)."""
    return base64.b32encode(secrets.token_bytes(_SECRET_BYTES)).decode("ascii").rstrip("=")


def _key(secret: str) -> bytes:
    text = secret.strip().replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def totp_code(secret: str, step: int) -> str:
    """The code of time step ``step`` (RFC 4226 dynamic truncation)."""
    digest = hmac.new(_key(secret), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**TOTP_DIGITS).zfill(TOTP_DIGITS)


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time step whose code is ``code`` (within one step of ``now``) and later than
    ``after`` (the last step accepted: a code is never accepted twice), or ``None``."""
    typed = "".join(code.split())
    if len(typed) != TOTP_DIGITS or not typed.isascii() or not typed.isdigit():
        return None
    current = time_step(now)
    found = None
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        # Every candidate is computed and compared in constant time: no early exit.
        if hmac.compare_digest(totp_code(secret, step), typed) and (after is None or step > after):
            found = step
    return found


def otpauth_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": TOTP_DIGITS,
            "period": TOTP_STEP_SECONDS,
        }
    )
    return f"otpauth://totp/{label}?{query}"


def qr_svg(text: str, title: str) -> str:
    """An SVG QR code of ``text`` (drawn here, dark on light, with a quiet zone)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(
        out, kind="svg", scale=4, border=4, dark="#000", light="#fff", title=title, xmldecl=False
    )
    return out.getvalue().decode("utf-8")

"""Opaque, signed, expiring page tokens (``nextPageToken``) of the partner feed.

A token carries where the next page starts (a keyset position: feed sequence number and row id),
the ``nextSetTimestamp`` of the fetch it belongs to, the ``startTimestamp`` the partner sent, the
partner it was issued to and when it expires. It is ``base64url(payload || mac)`` where ``mac`` is
the first 16 bytes of HMAC-SHA256 over a domain tag and the payload, under a server secret. Any
change of a byte, another partner, another ``startTimestamp`` or a late use is refused with
:class:`~openncii.errors.PageTokenError` (the API answers 400).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass
from typing import Final

from openncii.errors import PageTokenError

__all__ = [
    "TOKEN_VERSION",
    "PageToken",
    "check_token_owner",
    "decode_page_token",
    "encode_page_token",
]

TOKEN_VERSION: Final = 1
_DOMAIN: Final = b"openncii/feed-page-token\x00"
_LAYOUT: Final = struct.Struct(">BIqqqqq")  # version, partner, start, base, seq, id, expires
_MAC_BYTES: Final = 16
_TOKEN_BYTES: Final = _LAYOUT.size + _MAC_BYTES
_TOKEN_CHARS: Final = (_TOKEN_BYTES * 4 + 2) // 3  # base64url without padding
_TOKEN_RE: Final = re.compile(rf"[A-Za-z0-9_-]{{{_TOKEN_CHARS}}}")
_BAD: Final = "The nextPageToken is not valid. Start the fetch again from your last checkpoint."
_EXPIRED: Final = "The nextPageToken has expired. Start the fetch again from your last checkpoint."


@dataclass(frozen=True, slots=True)
class PageToken:
    """Where the next page of one fetch starts.

    ``start`` is the ``startTimestamp`` the partner sent, ``base`` the ``nextSetTimestamp`` the
    fetch answers on every page but the last, ``seq``/``row_id`` the last record already sent
    and ``expires`` a Unix time in seconds.
    """

    partner_id: int
    start: int
    base: int
    seq: int
    row_id: int
    expires: int


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode_page_token(secret: bytes, token: PageToken) -> str:
    """The opaque text of ``token``, signed with ``secret``."""
    payload = _LAYOUT.pack(
        TOKEN_VERSION,
        token.partner_id,
        token.start,
        token.base,
        token.seq,
        token.row_id,
        token.expires,
    )
    return base64.urlsafe_b64encode(payload + _mac(secret, payload)).rstrip(b"=").decode("ascii")


def decode_page_token(
    secret: bytes, text: str, *, partner_id: int | None, start: int, now: int
) -> PageToken:
    """Check and open a token issued to ``partner_id`` for a fetch from ``start``.

    Raises :class:`PageTokenError` for anything but an intact, unexpired token of that fetch.
    With ``partner_id=None`` the caller checks the owner (:func:`check_token_owner`) once it
    knows who is asking.
    """
    if not isinstance(text, str) or not _TOKEN_RE.fullmatch(text):
        raise PageTokenError(_BAD)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise PageTokenError(_BAD) from None
    # One text per token: refuse non-canonical spellings (unused bits set in the last symbol).
    if len(raw) != _TOKEN_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=") != text.encode():
        raise PageTokenError(_BAD)
    payload, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise PageTokenError(_BAD)
    version, owner, token_start, base, seq, row_id, expires = _LAYOUT.unpack(payload)
    if version != TOKEN_VERSION or token_start != start:
        raise PageTokenError(_BAD)
    if partner_id is not None:
        check_token_owner(owner, partner_id)
    if now > expires:
        raise PageTokenError(_EXPIRED)
    return PageToken(owner, token_start, base, seq, row_id, expires)


def check_token_owner(owner: int, partner_id: int) -> None:
    """Raise :class:`PageTokenError` unless a token of ``owner`` is used by ``partner_id``."""
    if owner != partner_id:
        raise PageTokenError(_BAD)

"""Hashes written as hex: validation that normalises or raises, bit distance, and the short
form a hash is shown in.

Light on purpose (no numpy): the signal registry, the hash modules and the partner side all
read hex hashes, and each takes these rules from here.
"""

from __future__ import annotations

from typing import Final

from openncii.errors import InvalidHashError

__all__ = ["SHORT_HASH_DIGITS", "hex_hamming_distance", "normalize_hex", "short_hash"]

_HEX_DIGITS: Final = frozenset("0123456789abcdef")
#: Hex digits a hash is shown by, to the person (their case's status) and to the helpline's
#: staff (the console and its audit log): enough to tell hashes apart, not the hash.
SHORT_HASH_DIGITS: Final = 8


def normalize_hex(text: str, *, length: int, name: str) -> str:
    """``text`` in lowercase without surrounding spaces, when it is ``length`` hex digits;
    else :class:`InvalidHashError` naming the hash (``name``: "a PDQ hash", "an MD5 hash")."""
    value = text.strip().lower()
    if len(value) != length:
        raise InvalidHashError(f"{name} is {length} hex characters, this one has {len(value)}")
    if not _HEX_DIGITS.issuperset(value):
        raise InvalidHashError(f"{name} may contain only hex digits 0-9 and a-f")
    return value


def hex_hamming_distance(a: str, b: str) -> int:
    """Bits that differ between two hashes of equal length given in hex (not validated)."""
    return int.bit_count(int(a, 16) ^ int(b, 16))


def short_hash(value: str) -> str:
    """How a hash is shown: its first :data:`SHORT_HASH_DIGITS` hex digits."""
    return value[:SHORT_HASH_DIGITS]

"""Case numbers, PINs and partner references: random, unguessable, easy to copy by hand."""

from __future__ import annotations

import re
import secrets
from typing import Final

__all__ = [
    "CASE_NUMBER_ALPHABET",
    "CASE_NUMBER_GROUP",
    "CASE_NUMBER_LENGTH",
    "LEGACY_PIN_DIGITS",
    "PIN_DIGITS",
    "PIN_GROUP",
    "format_case_number",
    "format_pin",
    "new_case_number",
    "new_partner_ref",
    "new_pin",
    "normalize_case_number",
    "normalize_pin",
]

#: 30 symbols with no look-alikes: no 0/O, 1/I/L, and no U (no accidental words).
CASE_NUMBER_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
#: 12 symbols: 30**12 ~ 5.3e17 (59 bits) possible numbers.
CASE_NUMBER_LENGTH: Final = 12
#: Symbols per group in the displayed form ``XXXX-XXXX-XXXX``.
CASE_NUMBER_GROUP: Final = 4
#: PIN length of new cases (digits only, server-generated): 10**16 PINs (53 bits).
PIN_DIGITS: Final = 16
#: Digits per group in the displayed form ``1234-5678-9012-3456``.
PIN_GROUP: Final = 4
#: PIN length of cases opened before PINs had 16 digits (still accepted, on a shared budget).
LEGACY_PIN_DIGITS: Final = 8
_PARTNER_REF_BYTES: Final = 16
_SEPARATORS: Final = re.compile(r"[\s\-_.]+")
_CASE_NUMBER_RE: Final = re.compile(f"[{CASE_NUMBER_ALPHABET}]{{{CASE_NUMBER_LENGTH}}}")
_PIN_RE: Final = re.compile(f"[0-9]{{{PIN_DIGITS}}}|[0-9]{{{LEGACY_PIN_DIGITS}}}")


def new_case_number() -> str:
    """A fresh random case number (12 symbols, no separators: the stored form)."""
    return "".join(secrets.choice(CASE_NUMBER_ALPHABET) for _ in range(CASE_NUMBER_LENGTH))


def format_case_number(number: str) -> str:
    """The displayed form ``XXXX-XXXX-XXXX`` of a stored case number."""
    return "-".join(
        number[i : i + CASE_NUMBER_GROUP] for i in range(0, len(number), CASE_NUMBER_GROUP)
    )


def normalize_case_number(text: str) -> str | None:
    """The stored form of a typed case number, or ``None`` if it cannot be one.

    Case, spaces, dashes, dots and underscores do not matter.
    """
    candidate = _SEPARATORS.sub("", text).upper()
    return candidate if _CASE_NUMBER_RE.fullmatch(candidate) else None


def new_pin() -> str:
    """A fresh random PIN of :data:`PIN_DIGITS` digits (leading zeros kept; the stored form)."""
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def format_pin(digits: str) -> str:
    """The displayed form of a PIN: groups of :data:`PIN_GROUP` digits, ``1234-5678-9012-3456``."""
    return "-".join(digits[i : i + PIN_GROUP] for i in range(0, len(digits), PIN_GROUP))


def normalize_pin(text: str) -> str | None:
    """The digits of a typed PIN, 16 (or 8, an older case's) once spaces, dashes, dots and
    underscores are taken out; ``None`` if it cannot be a PIN."""
    candidate = _SEPARATORS.sub("", text)
    return candidate if _PIN_RE.fullmatch(candidate) else None


def new_partner_ref() -> str:
    """An opaque per-case reference for the partner feed: random, unrelated to the case number."""
    return secrets.token_hex(_PARTNER_REF_BYTES)

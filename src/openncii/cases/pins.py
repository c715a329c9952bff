"""PIN hashing with argon2id. The PIN itself is never stored or logged."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from openncii.settings import (
    ARGON2_OWASP_MIN_MEMORY_KIB,
    ARGON2_OWASP_MIN_TIME_COST,
    Settings,
)

__all__ = ["Argon2Parameters", "PinHasher"]

_HASH_LEN: Final = 32
_SALT_LEN: Final = 16


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    """argon2id cost: ``memory_kib`` KiB of memory, ``time_cost`` passes, ``parallelism`` lanes."""

    time_cost: int
    memory_kib: int
    parallelism: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Argon2Parameters:
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )

    @property
    def meets_owasp_minimum(self) -> bool:
        """At least OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 degree of parallelism."""
        return (
            self.memory_kib >= ARGON2_OWASP_MIN_MEMORY_KIB
            and self.time_cost >= ARGON2_OWASP_MIN_TIME_COST
            and self.parallelism >= 1
        )

    def describe(self) -> str:
        return (
            f"argon2id m={self.memory_kib} KiB ({self.memory_kib / 1024:g} MiB), "
            f"t={self.time_cost}, p={self.parallelism}, {_HASH_LEN}-byte hash, "
            f"{_SALT_LEN}-byte salt"
        )


class PinHasher:
    """Hash and verify PINs; also burns the same time for an unknown case (no enumeration)."""

    def __init__(self, parameters: Argon2Parameters) -> None:
        self.parameters = parameters
        self._hasher = PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_kib,
            parallelism=parameters.parallelism,
            hash_len=_HASH_LEN,
            salt_len=_SALT_LEN,
            type=Type.ID,
        )
        # A hash of a random PIN nobody knows, verified when the case number is unknown.
        self._dummy = self._hasher.hash(secrets.token_hex(16))

    def hash(self, pin: str) -> str:
        """The argon2id PHC string of ``pin`` (random salt)."""
        return self._hasher.hash(pin)

    def verify(self, stored: str, pin: str) -> bool:
        """Whether ``pin`` matches the stored hash (never raises on a mismatch)."""
        try:
            return self._hasher.verify(stored, pin)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_nothing(self, pin: str) -> bool:
        """Spend the time of one verification and return ``False`` (unknown case number)."""
        self.verify(self._dummy, pin)
        return False

    def needs_rehash(self, stored: str) -> bool:
        """Whether ``stored`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

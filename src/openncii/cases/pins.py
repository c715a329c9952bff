"""PIN hashing with argon2id. The PIN itself is never stored or logged.

argon2id is slow and takes memory on purpose, so it gets its own bounded pool
(:class:`PinSlots`): at most ``workers`` hashes run at once, at most ``queue`` more requests
wait for a turn, and any request beyond that is refused at once with
:class:`~openncii.errors.ServiceBusyError` (503 + ``Retry-After``) *before* anything is
counted or read. Requests waiting for PIN work therefore hold at most ``workers + queue`` of
the server's threads, and health checks and static pages never queue behind them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from openncii.errors import ServiceBusyError
from openncii.settings import (
    ARGON2_OWASP_MIN_MEMORY_KIB,
    ARGON2_OWASP_MIN_TIME_COST,
    Settings,
)

__all__ = ["BUSY_RETRY_AFTER", "Argon2Parameters", "PinHasher", "PinSlots", "busy_error"]

_HASH_LEN: Final = 32
_SALT_LEN: Final = 16
#: Seconds a refused request is told to wait (a queue of PIN work drains in well under that).
BUSY_RETRY_AFTER: Final = 1
_BUSY: Final = "The service is very busy right now. Please try again in a moment."


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


def busy_error() -> ServiceBusyError:
    """The refusal of a request that finds the PIN pool's queue full."""
    return ServiceBusyError(_BUSY, retry_after=BUSY_RETRY_AFTER)


class PinSlots:
    """The bounded pool of PIN work: ``workers`` argon2 computations at once, ``queue`` more
    requests admitted to wait for one, the rest refused at once (per server process)."""

    def __init__(self, workers: int | None = None, queue: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.queue = self.workers * 4 if queue is None else queue
        self._running = threading.BoundedSemaphore(self.workers)
        self._admitted = threading.BoundedSemaphore(self.workers + self.queue)

    def try_admit(self) -> bool:
        """Admit one request that will do PIN work (never waits); :meth:`release` it after."""
        return self._admitted.acquire(blocking=False)

    def release(self) -> None:
        self._admitted.release()

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """Admit one request that will do PIN work, or raise :class:`ServiceBusyError`."""
        if not self.try_admit():
            raise busy_error()
        try:
            yield
        finally:
            self.release()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Wait for a turn to compute (bounded: at most ``queue`` requests wait)."""
        with self._running:
            yield


class PinHasher:
    """Hash and verify PINs; also burns the same time for an unknown case (no enumeration).

    Every hash and verification runs in a turn of ``slots``; the HTTP layer admits a whole
    request first (:class:`openncii.api.middleware.PinAdmissionMiddleware`) so that an
    overloaded server refuses it before doing anything else.
    """

    def __init__(self, parameters: Argon2Parameters, slots: PinSlots | None = None) -> None:
        self.parameters = parameters
        self.slots = slots or PinSlots()
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
        #: Told the seconds of every hash and verification (the service's metrics).
        self.on_time: Callable[[float], None] | None = None

    def _timed(self, started: float) -> None:
        if self.on_time is not None:
            self.on_time(time.perf_counter() - started)

    def hash(self, pin: str) -> str:
        """The argon2id PHC string of ``pin`` (random salt)."""
        with self.slots.running():
            started = time.perf_counter()
            try:
                return self._hasher.hash(pin)
            finally:
                self._timed(started)

    def verify(self, stored: str, pin: str) -> bool:
        """Whether ``pin`` matches the stored hash (never raises on a mismatch)."""
        with self.slots.running():
            started = time.perf_counter()
            try:
                return self._hasher.verify(stored, pin)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
            finally:
                self._timed(started)

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

"""How many uploads the matcher service hashes at once.

Hashing one file takes up to about 300 MB of memory and a core for seconds (the bound is
measured in ``tests/test_media_memory.py``, see ``docs/security.md``). Without a limit, 50
uploads at once would take 15 GB. :class:`HashSlots` is an asyncio semaphore sized by the
machine: one slot per core, and no more slots than half the memory allows at
:data:`HASH_MEMORY_BYTES` each. A request that finds every slot taken waits up to
``wait_seconds`` for one, then is refused with :class:`OverloadedError`, which the service
answers with 503 and ``Retry-After``: the load is shed, memory never grows without bound,
and waiting requests hold no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import functools
import math
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Final

__all__ = [
    "HASH_MEMORY_BYTES",
    "HashSlots",
    "OverloadedError",
    "default_hash_slots",
    "release_free_memory",
]

#: Memory one hashing may take (the measured bound is 300 MB above a resting process).
HASH_MEMORY_BYTES: Final = 320 * 1024 * 1024
#: Share of the machine's (or the container's) memory the slots may take together.
MEMORY_SHARE: Final = 0.5


class OverloadedError(Exception):
    """Every hashing slot stayed busy for the whole wait; ``retry_after`` in seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("every hashing slot is busy")
        self.retry_after = retry_after


def _memory_bytes() -> int | None:
    """Physical memory, or the cgroup's limit when that is lower (containers)."""
    sizes: list[int] = []
    with contextlib.suppress(OSError, ValueError, AttributeError):
        sizes.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    for limit_file in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        with contextlib.suppress(OSError, ValueError):
            text = Path(limit_file).read_text().strip()
            if text.isdigit() and int(text) < 1 << 60:
                sizes.append(int(text))
    return min(sizes) if sizes else None


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


def release_free_memory() -> None:
    """Give the memory a finished hashing freed back to the system (glibc's ``malloc_trim``).

    Without it, glibc keeps freed strip buffers in the arena of the thread that hashed, and
    the next hashing on another thread takes fresh memory: the service would creep up by one
    hashing per worker thread. A no-op where the C library has no ``malloc_trim``.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def default_hash_slots(cpus: int | None = None, memory_bytes: int | None = None) -> int:
    """Slots for this machine: one per core, at most half its memory at 320 MB each, >= 1."""
    cores = cpus if cpus is not None else (os.cpu_count() or 1)
    memory = memory_bytes if memory_bytes is not None else _memory_bytes()
    slots = max(1, cores)
    if memory is not None:
        slots = min(slots, int(memory * MEMORY_SHARE // HASH_MEMORY_BYTES))
    return max(1, slots)


class HashSlots:
    """At most ``slots`` hashings at once; others wait up to ``wait_seconds``, then
    :class:`OverloadedError` (whose ``retry_after`` is ``retry_after`` seconds)."""

    def __init__(self, slots: int, wait_seconds: float, retry_after: int | None = None) -> None:
        if slots < 1:
            raise ValueError("at least one hashing slot")
        if wait_seconds < 0:
            raise ValueError("wait_seconds must be >= 0")
        self.slots = slots
        self.wait_seconds = wait_seconds
        self.retry_after = retry_after or max(1, math.ceil(wait_seconds))
        self._semaphore = asyncio.Semaphore(slots)
        self._in_use = 0
        self._waiting = 0

    @property
    def in_use(self) -> int:
        """Hashings running now."""
        return self._in_use

    @property
    def waiting(self) -> int:
        """Requests waiting for a slot now."""
        return self._waiting

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the body of the ``async with``."""
        if self._semaphore.locked():
            self._waiting += 1
            try:
                async with asyncio.timeout(self.wait_seconds):
                    await self._semaphore.acquire()
            except TimeoutError:
                raise OverloadedError(self.retry_after) from None
            finally:
                self._waiting -= 1
        else:
            await self._semaphore.acquire()  # free: returns at once
        self._in_use += 1
        try:
            yield
        finally:
            self._in_use -= 1
            self._semaphore.release()

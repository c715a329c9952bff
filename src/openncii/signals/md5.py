"""MD5 of a file's bytes, streamed in chunks (a 2 GB video is never held in memory)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO, Final

from openncii.signals.hexcode import normalize_hex

__all__ = ["MD5_HEX_LENGTH", "md5_file", "md5_stream", "normalize_md5"]

MD5_HEX_LENGTH: Final = 32
_CHUNK: Final = 1 << 20


def md5_stream(stream: BinaryIO, chunk_size: int = _CHUNK) -> str:
    """MD5 of everything left in ``stream``, as 32 lowercase hex characters."""
    digest = hashlib.md5(usedforsecurity=False)
    while chunk := stream.read(chunk_size):
        digest.update(chunk)
    return digest.hexdigest()


def md5_file(path: str | Path) -> str:
    """MD5 of the file at ``path``, as 32 lowercase hex characters."""
    with Path(path).open("rb") as stream:
        return md5_stream(stream)


def normalize_md5(value: str) -> str:
    """Validate an MD5 hex string and return it in lowercase; raise :class:`InvalidHashError`."""
    return normalize_hex(value, length=MD5_HEX_LENGTH, name="an MD5 hash")

"""OpenNCII: an open system for stopping non-consensual intimate image abuse.

The core library hashes media on the person's own device::

    import openncii
    result = openncii.hash_file("photo.jpg", dihedral=True)
    result.pdq, result.quality, result.md5

Only the hashes ever leave the device.

``import openncii`` is light: the hashing code (numpy, Pillow, PyAV) is imported when
:func:`hash_file`, :class:`FileHashes` or :class:`VideoFrameHash` is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Final

from openncii._version import __version__
from openncii.errors import (
    CorruptMediaError,
    InvalidHashError,
    LowQualityError,
    MediaError,
    MediaTooLargeError,
    OpenNCIIError,
    SignalError,
    UnsupportedMediaError,
)

if TYPE_CHECKING:
    from openncii.hashing import FileHashes, VideoFrameHash, hash_file

__all__ = [
    "CorruptMediaError",
    "FileHashes",
    "InvalidHashError",
    "LowQualityError",
    "MediaError",
    "MediaTooLargeError",
    "OpenNCIIError",
    "SignalError",
    "UnsupportedMediaError",
    "VideoFrameHash",
    "__version__",
    "hash_file",
]

#: Public names imported on first use (PEP 562), and the module that defines each.
_LAZY: Final = {
    "FileHashes": "openncii.hashing",
    "VideoFrameHash": "openncii.hashing",
    "hash_file": "openncii.hashing",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'openncii' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})

"""OpenNCII: an open system for stopping non-consensual intimate image abuse.

The core library hashes media on the person's own device::

    import openncii
    result = openncii.hash_file("photo.jpg", dihedral=True)
    result.pdq, result.quality, result.md5

Only the hashes ever leave the device.

``import openncii`` is light: the hashing code (numpy, Pillow, PyAV) is imported when
:func:`hash_file`, :func:`hash_bytes`, :class:`FileHashes`, :class:`VideoFrameHash` or one of
the robust-matching names (:func:`enroll_file`, :func:`query_file`, :func:`match_variants`,
:class:`PdqVariant`, :class:`VariantMatch`, :class:`Kind`) is first used.
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
    from openncii.hashing import FileHashes, VideoFrameHash, hash_bytes, hash_file
    from openncii.robust import enroll_file, query_file
    from openncii.signals.variants import Kind, PdqVariant, VariantMatch, match_variants

__all__ = [
    "CorruptMediaError",
    "FileHashes",
    "InvalidHashError",
    "Kind",
    "LowQualityError",
    "MediaError",
    "MediaTooLargeError",
    "OpenNCIIError",
    "PdqVariant",
    "SignalError",
    "UnsupportedMediaError",
    "VariantMatch",
    "VideoFrameHash",
    "__version__",
    "enroll_file",
    "hash_bytes",
    "hash_file",
    "match_variants",
    "query_file",
]

#: Public names imported on first use (PEP 562), and the module that defines each.
_LAZY: Final = {
    "FileHashes": "openncii.hashing",
    "VideoFrameHash": "openncii.hashing",
    "hash_file": "openncii.hashing",
    "hash_bytes": "openncii.hashing",
    "enroll_file": "openncii.robust",
    "query_file": "openncii.robust",
    "Kind": "openncii.signals.variants",
    "PdqVariant": "openncii.signals.variants",
    "VariantMatch": "openncii.signals.variants",
    "match_variants": "openncii.signals.variants",
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

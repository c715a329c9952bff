"""OpenNCII: an open system for stopping non-consensual intimate image abuse.

The core library hashes media on the person's own device::

    import openncii
    result = openncii.hash_file("photo.jpg", dihedral=True)
    result.pdq, result.quality, result.md5

Only the hashes ever leave the device.
"""

from __future__ import annotations

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

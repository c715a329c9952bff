"""Robust matching on files: ``openncii.enroll_file``, ``openncii.query_file``.

Joins ``media/`` (decoding to the working bitmap) and ``signals/`` (the variant hashes); the
scheme itself is described in ``openncii.signals.variants`` and ``docs/matching.md``.
"""

from __future__ import annotations

from pathlib import Path

from openncii.errors import UnsupportedMediaError
from openncii.media.bitmap import load_working_bitmap
from openncii.media.sniff import MediaKind, sniff_media
from openncii.signals.variants import (
    Kind,
    PdqVariant,
    VariantMatch,
    enrol_variants,
    match_variants,
    pair_threshold,
    query_variants,
)

__all__ = [
    "Kind",
    "PdqVariant",
    "VariantMatch",
    "enroll_file",
    "match_variants",
    "pair_threshold",
    "query_file",
]


def _image_path(path: str | Path) -> Path:
    p = Path(path)
    if not p.is_file():
        if not p.exists():
            raise FileNotFoundError(f"no such file: {p}")
        raise UnsupportedMediaError("not a regular file (a folder, device or pipe)")
    if sniff_media(p) is not MediaKind.IMAGE:
        raise UnsupportedMediaError("robust matching is for still images (videos use vPDQ)")
    return p


def enroll_file(path: str | Path) -> list[PdqVariant]:
    """The hashes a person's device submits for one photo (what the browser computes).

    An empty list means the photo has too little structure to be found reliably (PDQ quality
    below 50 everywhere). Raises :class:`openncii.MediaError` for files that cannot be decoded.
    """
    return enrol_variants(load_working_bitmap(_image_path(path)))


def query_file(path: str | Path) -> list[PdqVariant]:
    """The hashes a platform computes for one uploaded picture, to match against enrolled
    photos with :func:`match_variants`."""
    return query_variants(load_working_bitmap(_image_path(path)))

"""Robust matching on files: ``openncii.enroll_file``, ``openncii.query_file``.

Joins ``media/`` (decoding to the working bitmap) and ``signals/`` (the variant hashes); the
scheme itself is described in ``openncii.signals.variants`` and ``docs/matching.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from openncii.errors import UnsupportedMediaError
from openncii.hashing import FileHashes, hash_file
from openncii.media.bitmap import load_working_bitmap, working_bitmap
from openncii.media.images import load_image_for_hashing
from openncii.media.sniff import MediaKind, sniff_media
from openncii.signals.md5 import md5_file
from openncii.signals.pdq_strips import pdq_from_rgb_bounded
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
    "hash_and_query_file",
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


def hash_and_query_file(
    path: str | Path, *, on_frame: Callable[[float], None] | None = None
) -> tuple[FileHashes, list[PdqVariant]]:
    """What a platform's scan computes for one file, decoding it once: ``hash_file(path,
    dihedral=True)`` and, for an image, ``query_file(path)`` (a video's list is empty).

    ``on_frame`` is passed to :func:`openncii.hash_file` (progress within a video). Raises
    :class:`openncii.MediaError` for files that cannot be hashed.
    """
    p = Path(path)
    if not p.is_file() or sniff_media(p) is not MediaKind.IMAGE:
        return hash_file(p, dihedral=True, on_frame=on_frame), []
    # The decode hash_file does (reduced-scale JPEG, EXIF orientation), kept whole this once:
    # the working bitmap of the query variants is made from the same pixels.
    rgb = load_image_for_hashing(p, fast=True)
    pdq = pdq_from_rgb_bounded(rgb)
    hashes = FileHashes(
        path=str(path),
        media="image",
        md5=md5_file(p),
        pdq=pdq.hex,
        quality=pdq.quality,
        dihedral=tuple(h.hex for h in pdq.dihedral()),
    )
    return hashes, query_variants(working_bitmap(rgb))

"""Hash one media file as the person's device does: ``openncii.hash_file``.

This is the only place that joins ``media/`` (decoding) and ``signals/`` (fingerprints). The
result's attributes are the fields of ``openncii hash --json`` (see DESIGN.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from openncii.errors import UnsupportedMediaError
from openncii.media.images import open_image_strips
from openncii.media.sniff import MediaKind, sniff_bytes, sniff_media
from openncii.signals.md5 import md5_file
from openncii.signals.pdq import MIN_QUALITY, PdqHash
from openncii.signals.pdq_strips import PdqStrips, pdq_from_rgb_bounded, strip_rows

if TYPE_CHECKING:
    from openncii.signals.variants import PdqVariant

__all__ = [
    "DEFAULT_VIDEO_FPS",
    "FileHashes",
    "VideoFrameHash",
    "hash_and_query_file",
    "hash_bytes",
    "hash_file",
    "media_bytes_file",
]

#: Frames hashed per second of video by default (0 means every frame).
DEFAULT_VIDEO_FPS = 1.0


@dataclass(frozen=True, slots=True)
class VideoFrameHash:
    """The PDQ hash of one sampled video frame (a vPDQ feature)."""

    frame: int
    timestamp: float
    pdq: str
    quality: int

    def to_json(self) -> dict[str, Any]:
        return {
            "frame": self.frame,
            "timestamp": round(self.timestamp, 6),
            "pdq": self.pdq,
            "quality": self.quality,
        }


@dataclass(frozen=True, slots=True)
class FileHashes:
    """Every fingerprint of one file.

    Images carry ``pdq`` and ``quality`` (and ``dihedral``, or the robust-matching
    ``variants``, when asked for); videos carry ``vpdq``, one entry per sampled frame, and
    ``pdq``/``quality`` are ``None``. ``shareable`` is false when nothing in the file has PDQ
    quality >= 50: such a hash finds copies poorly and is not sent (the MD5 of a video is
    always usable).
    """

    path: str
    media: Literal["image", "video"]
    md5: str
    pdq: str | None
    quality: int | None
    dihedral: tuple[str, ...] | None = None
    vpdq: tuple[VideoFrameHash, ...] | None = field(default=None, repr=False)
    #: Robust matching: the photo's enrolled or query hashes with their kinds (when asked for).
    variants: tuple[PdqVariant, ...] | None = field(default=None, repr=False)

    @property
    def shareable(self) -> bool:
        if self.media == "image":
            whole = self.quality is not None and self.quality >= MIN_QUALITY
            return whole or bool(self.variants)
        return True

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``openncii hash --json`` for this file."""
        out: dict[str, Any] = {
            "path": self.path,
            "media": self.media,
            "md5": self.md5,
            "pdq": self.pdq,
            "quality": self.quality,
            "shareable": self.shareable,
        }
        if self.dihedral is not None:
            out["dihedral"] = list(self.dihedral)
        if self.vpdq is not None:
            out["vpdq"] = [frame.to_json() for frame in self.vpdq]
        if self.variants is not None:
            out["variants"] = [v.to_json() for v in self.variants]
        return out


def hash_file(
    path: str | Path,
    dihedral: bool = False,
    *,
    video_fps: float = DEFAULT_VIDEO_FPS,
    fast: bool = True,
    on_frame: Callable[[float], None] | None = None,
    variants: Literal["enrol", "query"] | None = None,
) -> FileHashes:
    """Hash one image or video file.

    ``variants`` (images only): also the robust-matching hashes of the photo, ``"enrol"`` what
    a person's device submits (``openncii.enroll_file``), ``"query"`` what a platform
    computes from an upload (``openncii.query_file``).

    Images are decoded with EXIF orientation applied and, with ``fast`` (the default), at a
    reduced scale where the format allows it (JPEG draft mode), which keeps the hash within a few
    bits of the full-resolution one at a fraction of the cost. Videos get the MD5 of the file and
    the PDQ of ``video_fps`` frames per second (``0``: every frame).

    ``on_frame`` is called with the time (in seconds) of each video frame hashed: how far
    into a long video the hashing is.

    Raises :class:`openncii.MediaError` (a subclass says what went wrong) for files that cannot
    be hashed.
    """
    p = Path(path)
    if not p.is_file():
        if not p.exists():
            raise FileNotFoundError(f"no such file: {p}")
        # A folder, device or pipe: reading it could block or never end.
        raise UnsupportedMediaError("not a regular file (a folder, device or pipe)")
    kind = sniff_media(p)
    if kind is MediaKind.IMAGE:
        # hashlib and Pillow's decoders release the GIL: the MD5 runs beside the decode.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="openncii-md5") as pool:
            md5_future = pool.submit(md5_file, p)
            # The variants' working bitmap comes from the same decode when it is the one they
            # use (enroll_file and query_file decode with ``fast``).
            pdq, bitmap = _image_pdq(p, fast, bitmap=variants is not None and fast)
            md5 = md5_future.result()
        turned = tuple(h.hex for h in pdq.dihedral()) if dihedral else None
        regions: tuple[PdqVariant, ...] | None = None
        if variants is not None:
            from openncii.robust import enroll_file, query_file
            from openncii.signals.variants import enrol_variants, query_variants

            if bitmap is not None:
                found = enrol_variants(bitmap) if variants == "enrol" else query_variants(bitmap)
            else:
                found = enroll_file(p) if variants == "enrol" else query_file(p)
            regions = tuple(found)
        return FileHashes(
            path=str(path),
            media="image",
            md5=md5,
            pdq=pdq.hex,
            quality=pdq.quality,
            dihedral=turned,
            variants=regions,
        )
    # A video: PyAV is imported only when one is met.
    from openncii.media.video import iter_video_frames

    hashed: list[VideoFrameHash] = []
    for frame in iter_video_frames(p, fps=video_fps):
        hashed.append(_frame_hash(frame.index, frame.timestamp, frame.rgb))
        if on_frame is not None:
            on_frame(frame.timestamp)
        # Let go of this frame's pixels before the next one is decoded (a frame of 8K video
        # is 100 MB of RGB: two at once would double the peak).
        del frame
    frames = tuple(hashed)
    md5 = md5_file(p)
    return FileHashes(path=str(path), media="video", md5=md5, pdq=None, quality=None, vpdq=frames)


def hash_bytes(
    data: bytes | bytearray | memoryview,
    dihedral: bool = False,
    *,
    name: str = "<bytes>",
    video_fps: float = DEFAULT_VIDEO_FPS,
    fast: bool = True,
    variants: Literal["enrol", "query"] | None = None,
) -> FileHashes:
    """Hash one image or video given as its bytes (read from an object store, say): the same
    result as :func:`hash_file` on a file holding them, with ``name`` as its ``path``.

    Bytes that are no image or video are refused before anything is written; the others go to
    a private temporary file first, so that the decoders, their memory limits and video
    containers that need to seek behave exactly as for a file. Raises
    :class:`openncii.MediaError` like :func:`hash_file`.
    """
    with media_bytes_file(data) as path:
        hashed = hash_file(path, dihedral, video_fps=video_fps, fast=fast, variants=variants)
    return dataclasses.replace(hashed, path=name)


@contextlib.contextmanager
def media_bytes_file(data: bytes | bytearray | memoryview) -> Iterator[Path]:
    """The bytes of an image or video in a private temporary file, deleted on exit.

    Raises :class:`openncii.MediaError` before writing anything when the bytes are no image
    or video (:func:`openncii.media.sniff.sniff_bytes`).
    """
    view = memoryview(data)
    sniff_bytes(bytes(view[:256]))
    handle, temporary = tempfile.mkstemp(prefix="openncii-", suffix=".media")
    path = Path(temporary)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(view)
        yield path
    finally:
        path.unlink(missing_ok=True)


def _image_pdq(
    path: Path, fast: bool, *, bitmap: bool = False
) -> tuple[PdqHash, npt.NDArray[np.uint8] | None]:
    """PDQ of an image file in bounded memory: decoded within the budget, hashed in strips;
    with ``bitmap``, also the working bitmap of its robust-matching variants, read from the
    same decode in strips (:func:`openncii.media.bitmap.working_bitmap_from_strips`)."""
    from openncii.media.bitmap import working_bitmap_from_strips

    working = None
    with open_image_strips(path, fast=fast) as image:
        hasher = PdqStrips(image.height, image.width)
        rows = strip_rows(image.width)
        for strip in image.strips(rows, grey=True):
            hasher.add(strip)
        if bitmap:
            working = working_bitmap_from_strips(image.width, image.height, image.strips(rows))
    return hasher.hash(), working


def _frame_hash(index: int, timestamp: float, rgb: npt.NDArray[np.uint8]) -> VideoFrameHash:
    pdq = pdq_from_rgb_bounded(rgb)
    return VideoFrameHash(frame=index, timestamp=timestamp, pdq=pdq.hex, quality=pdq.quality)


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
    hashes = hash_file(p, dihedral=True, variants="query")
    return dataclasses.replace(hashes, variants=None), list(hashes.variants or ())

"""Tell images from videos by their first bytes, never by the file name."""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Final

from openncii.errors import CorruptMediaError, UnsupportedMediaError

__all__ = ["MEDIA_SUFFIXES", "MediaKind", "sniff_bytes", "sniff_media"]


class MediaKind(enum.Enum):
    IMAGE = "image"
    VIDEO = "video"


#: File endings of images and videos: what ``openncii hash`` picks up in a folder, and what
#: tells a scan that a file which fails to decode is broken media, not some other file.
MEDIA_SUFFIXES = frozenset(
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif",
        ".tiff", ".heic", ".heif", ".hif", ".avif", ".mp4", ".m4v", ".mov", ".3gp", ".3g2",
        ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".m2ts", ".ogv", ".flv", ".wmv",
    }
)  # fmt: skip
_HEAD: Final = 256
# ISO base media ("ftyp") brands that are still images (HEIF family, AVIF).
_IMAGE_BRANDS: Final = frozenset(
    {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif", b"avis"}
)


def sniff_bytes(head: bytes) -> MediaKind:
    """Classify a file from its first bytes; raise a :class:`MediaError` if we cannot decode it."""
    if not head:
        raise CorruptMediaError("the file is empty (0 bytes)")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind.IMAGE  # JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaKind.IMAGE
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return MediaKind.IMAGE
    if head.startswith(b"BM"):
        return MediaKind.IMAGE
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return MediaKind.IMAGE  # TIFF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return MediaKind.IMAGE
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return MediaKind.VIDEO
    if head[4:8] == b"ftyp":
        major = head[8:12]
        if major in _IMAGE_BRANDS:
            return MediaKind.IMAGE
        return MediaKind.VIDEO  # MP4, MOV, 3GP, M4V
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaKind.VIDEO  # Matroska / WebM
    if head.startswith(b"OggS"):
        return MediaKind.VIDEO
    if head[:4] == b"\x00\x00\x01\xba" or (len(head) > 188 and head[0] == 0x47 == head[188]):
        return MediaKind.VIDEO  # MPEG program / transport stream
    if head.startswith(b"FLV"):
        return MediaKind.VIDEO
    raise UnsupportedMediaError(
        "not a supported image or video format (JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC; "
        "MP4, MOV, WebM, MKV, AVI)"
    )


def sniff_media(path: Path) -> MediaKind:
    """Classify the file at ``path`` from its content."""
    with path.open("rb") as stream:
        head = stream.read(_HEAD)
    return sniff_bytes(head)

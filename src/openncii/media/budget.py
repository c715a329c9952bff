"""How much memory decoding an image takes, known from its header before any pixel is decoded.

Hashing one file must never take the machine: the goal is at most 300 MB of memory above the
process's resting size for any file the decoders accept (measured in ``tests/test_media_memory.py``,
figures in ``docs/security.md``). PDQ itself runs in strips
(:mod:`openncii.signals.pdq_strips`, about 80 MB at most); what remains is the decoded image,
which Pillow holds whole, and the decoders' own buffers. Both are known from the header:

- Pillow keeps 1 byte per pixel for grey and palette images, 2 for 16-bit grey, and 4 for
  everything else (RGB is stored as RGBX).
- JPEG is decoded at reduced scale (``draft``) when hashing fast, so the image Pillow keeps is
  small; but a progressive JPEG, or one whose first scan lacks a component, makes libjpeg keep
  every DCT coefficient of the full-size image (2 bytes per sample) until the end.
- WebP is decoded by libwebp into its own RGBA canvas, copied to bytes, then into Pillow's
  image; HEIC by libheif into YUV planes and an RGB buffer, then copied: an extra
  ``_DECODER_BYTES_PER_PIXEL`` per pixel for each format (measured, see ``docs/security.md``).

:func:`check_decode_budget` refuses a file whose estimate is over :data:`DECODE_BUDGET_BYTES`
with a message that states the real limit for that kind of image.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from PIL import Image, ImageMode

from openncii.errors import MediaTooLargeError

__all__ = [
    "DECODE_BUDGET_BYTES",
    "MAX_IMAGE_PIXELS",
    "DecodeCost",
    "check_decode_budget",
    "decode_cost",
    "jpeg_buffers_coefficients",
    "too_many_pixels_message",
]

#: Memory one image's decoded pixels and its decoder's buffers may take (bytes).
DECODE_BUDGET_BYTES: Final = 190 * 1024 * 1024
#: The most pixels an image may have in any case: Pillow's own decompression-bomb limit
#: (twice ``PIL.Image.MAX_IMAGE_PIXELS``), which it enforces while reading the header.
MAX_IMAGE_PIXELS: Final = 2 * 89_478_485

# Extra bytes per full-size pixel that a format's decoder holds beside Pillow's image.
_DECODER_BYTES_PER_PIXEL: Final[Mapping[str, float]] = {
    "WEBP": 10.0,  # libwebp's RGBA canvas, the bytes Pillow copies it to, YUV for lossy
    "HEIF": 2.0,  # libheif's YUV planes and its interleaved RGB buffer while Pillow copies it
    "AVIF": 2.0,
    "TIFF": 1.0,  # libtiff's strip or tile buffer
}
_MB: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class DecodeCost:
    """The estimate for one image: ``total`` bytes, and per pixel of the full-size image."""

    total: int
    per_pixel: float
    pixels: int


def _pillow_bytes_per_pixel(mode: str) -> int:
    """Bytes per pixel Pillow uses to store an image in ``mode``."""
    try:
        described = ImageMode.getmode(mode)
    except KeyError:
        return 4
    if len(described.bands) > 1:
        return 4
    return 2 if described.typestr[-1] == "2" else 1 if described.typestr[-1] == "1" else 4


def jpeg_buffers_coefficients(path: Path) -> bool:
    """Whether libjpeg must keep the whole coefficient array of this JPEG while decoding.

    True for progressive (and other multi-scan) frames and when the first scan does not hold
    every component; read from the markers before the first scan. Unknown layouts count as
    true (the safe side).
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(1 << 20)
    except OSError:
        return True
    components = 0
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return True
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(head[pos + 2 : pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if marker not in (0xC0, 0xC1):  # progressive, lossless, arithmetic, hierarchical
                return True
            if pos + 10 > len(head):
                return True
            components = head[pos + 9]
        elif marker == 0xDA:  # the first scan
            if pos + 5 > len(head):
                return True
            return components == 0 or head[pos + 4] < components
        pos += 2 + length
    return True


def _jpeg_coefficient_bytes(image: Image.Image, full_size: tuple[int, int]) -> int:
    """Bytes of libjpeg's whole-image coefficient array: 2 per sample, in 8 x 8 blocks."""
    layers: Sequence[tuple[int, int, int, int]] = getattr(image, "layer", ())
    if not layers:
        return 6 * full_size[0] * full_size[1]
    h_max = max(layer[1] for layer in layers) or 1
    v_max = max(layer[2] for layer in layers) or 1
    width, height = full_size
    total = 0
    for _, h, v, _q in layers:
        cols = -(-width * max(h, 1) // h_max)
        rows = -(-height * max(v, 1) // v_max)
        total += (-(-cols // 8) * 8) * (-(-rows // 8) * 8) * 2
    return total


def decode_cost(
    image: Image.Image, full_size: tuple[int, int], *, coefficients: bool = False
) -> DecodeCost:
    """Estimate the memory of decoding ``image`` (opened, maybe drafted, not loaded).

    ``full_size`` is the size in the file's header; ``image.size`` may be smaller after a JPEG
    draft. ``coefficients``: the JPEG keeps its whole coefficient array
    (:func:`jpeg_buffers_coefficients`).
    """
    width, height = image.size
    pixels = full_size[0] * full_size[1]
    total = width * height * _pillow_bytes_per_pixel(image.mode)
    total += int(pixels * _DECODER_BYTES_PER_PIXEL.get(str(image.format), 0.0))
    if image.format == "JPEG" and coefficients:
        total += _jpeg_coefficient_bytes(image, full_size)
    return DecodeCost(total=total, per_pixel=total / max(1, pixels), pixels=pixels)


def check_decode_budget(cost: DecodeCost, full_size: tuple[int, int], kind: str) -> None:
    """Raise :class:`MediaTooLargeError` when ``cost`` is over :data:`DECODE_BUDGET_BYTES`.

    The message states the size, and the largest image of this kind (format and colour mode,
    ``kind``) that we decode.
    """
    width, height = full_size
    if cost.pixels > MAX_IMAGE_PIXELS:
        raise MediaTooLargeError(too_many_pixels_message(cost.pixels, f"({width} x {height})"))
    if cost.total <= DECODE_BUDGET_BYTES:
        return
    limit = min(MAX_IMAGE_PIXELS, int(DECODE_BUDGET_BYTES / cost.per_pixel))
    raise MediaTooLargeError(
        f"the image is {width} x {height} pixels ({cost.pixels / 1e6:.1f} megapixels); "
        f"decoding it would take about {cost.total / _MB:.0f} MB, more than the "
        f"{DECODE_BUDGET_BYTES / _MB:.0f} MB we allow one image: we decode {kind} of up to "
        f"{limit / 1e6:.1f} megapixels"
    )


def too_many_pixels_message(pixels: int | None, size: str = "") -> str:
    """The message for an image above :data:`MAX_IMAGE_PIXELS` (``pixels`` if known)."""
    claimed = f"{pixels // 1_000_000} megapixels" if pixels is not None else "more pixels"
    size = f" {size}" if size else ""
    colour = DECODE_BUDGET_BYTES // 4
    return (
        f"the image claims {claimed}{size}, more than the {MAX_IMAGE_PIXELS / 1e6:.1f} "
        f"megapixels we decode at most (colour images: {colour / 1e6:.1f} megapixels)"
    )

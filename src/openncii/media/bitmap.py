"""The working bitmap: the one picture both the device and a platform hash for robust matching.

Robust matching compares many PDQ hashes of crops of a photo (see ``openncii.signals.variants``).
PDQ's box filter and sampling depend a little on the size of what they hash, so both sides hash
at the same working resolution, made the same way on the device (in JavaScript,
``web/static/js/variants.js``) and at the platform (here):

1. Decode upright (EXIF orientation applied, no ICC profile). A JPEG is decoded by the JPEG
   decoder itself at 1/2, 1/4 or 1/8 scale, the smallest scale that keeps at least 512 pixels
   on the short side (``openncii.media.images``, the browser's ``ImageDecoder``); other formats
   at full size.
2. If the short side is above :data:`WORKING_SIDE` (512), shrink by exact area averaging so
   that the short side is 512 and the long side is ``round(long * 512 / short)`` (halves up).
   Smaller images are used as they are (never enlarged).

The area average is computed in integers, so that Python and JavaScript give the same bytes
from the same decoded pixels: with source ``W`` pixels and ``w`` output pixels along an axis,
source pixel ``i`` covers ``[i w, (i + 1) w)`` and output pixel ``x`` covers
``[x W, (x + 1) W)``; the weight of ``i`` in ``x`` is the length of the overlap (the weights of
an output pixel add up to ``W``). Rows first, then columns, with no rounding in between; the
result is ``floor((sum + W H / 2) / (W H))`` (``W H / 2`` in integer division).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.media.images import load_image_for_hashing

__all__ = ["WORKING_SIDE", "area_resize", "load_working_bitmap", "working_bitmap", "working_size"]

#: The short side of the working bitmap (images with a shorter short side are kept as they are).
WORKING_SIDE: Final = 512

RGB = npt.NDArray[np.uint8]


def working_size(width: int, height: int) -> tuple[int, int]:
    """``(width, height)`` of the working bitmap of a ``width x height`` image."""
    if width <= 0 or height <= 0:
        raise ValueError("an image has at least one pixel on each side")
    short = min(width, height)
    if short <= WORKING_SIDE:
        return width, height
    long = max(width, height)
    # round(long * 512 / short), halves up, in integers.
    scaled = (2 * long * WORKING_SIDE + short) // (2 * short)
    return (WORKING_SIDE, scaled) if width <= height else (scaled, WORKING_SIDE)


@cache
def _taps(source: int, target: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64]]:
    """Source indices and integer weights of each output pixel, ``(target, taps)`` each."""
    taps = -(-source // target) + 1
    index = np.zeros((target, taps), dtype=np.intp)
    weight = np.zeros((target, taps), dtype=np.int64)
    for x in range(target):
        lo, hi = x * source, (x + 1) * source  # in units of 1 / target source pixels
        first = lo // target
        for t in range(taps):
            i = first + t
            if i >= source:
                break
            overlap = min((i + 1) * target, hi) - max(i * target, lo)
            if overlap > 0:
                index[x, t] = i
                weight[x, t] = overlap
    index.setflags(write=False)
    weight.setflags(write=False)
    return index, weight


def area_resize(rgb: RGB, width: int, height: int) -> RGB:
    """Shrink ``(H, W, 3)`` uint8 pixels to ``(height, width, 3)`` by exact area averaging.

    Integer arithmetic throughout (see the module's docstring), so the JavaScript port gives the
    same bytes. Only shrinking is supported.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    src_h, src_w = rgb.shape[:2]
    if not (0 < width <= src_w and 0 < height <= src_h):
        raise ValueError(f"cannot shrink {src_w} x {src_h} to {width} x {height}")
    if (width, height) == (src_w, src_h):
        return rgb
    area = src_w * src_h
    # Sums reach 255 * area: 32-bit integers hold them for pictures up to 8.4 megapixels.
    dtype = np.int32 if 255 * area + area < 2**31 else np.int64
    col_index, col_weight = _taps(src_w, width)
    rows = np.zeros((src_h, width, 3), dtype=dtype)
    for t in range(col_index.shape[1]):
        rows += rgb[:, col_index[:, t], :] * col_weight[None, :, t, None].astype(dtype)
    row_index, row_weight = _taps(src_h, height)
    total = np.zeros((height, width, 3), dtype=dtype)
    for t in range(row_index.shape[1]):
        total += rows[row_index[:, t], :, :] * row_weight[:, t, None, None].astype(dtype)
    total += area // 2
    total //= area
    return total.astype(np.uint8)


def working_bitmap(rgb: RGB) -> RGB:
    """The working bitmap of decoded ``(H, W, 3)`` uint8 pixels (see the module's docstring)."""
    height, width = rgb.shape[:2]
    target_w, target_h = working_size(width, height)
    return area_resize(rgb, target_w, target_h)


def load_working_bitmap(path: Path) -> RGB:
    """Decode an image file and make its working bitmap.

    Raises :class:`openncii.MediaError` (a subclass says what went wrong).
    """
    return working_bitmap(load_image_for_hashing(path, fast=True))

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

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.media.images import open_image_strips

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


#: Rows of source and of output handled at a time (bounds the memory of a resize).
_STRIP_ROWS: Final = 256
_BAND_ROWS: Final = 32


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
    columns = np.empty((src_h, width, 3), dtype=np.int32)
    for top in range(0, src_h, _STRIP_ROWS):
        _column_sums(rgb[top : top + _STRIP_ROWS], columns, top)
    return _row_sums(columns, src_w, height)


def working_bitmap_from_strips(width: int, height: int, strips: Iterable[RGB]) -> RGB:
    """The working bitmap of a ``width`` x ``height`` picture given as upright ``(s, width, 3)``
    uint8 strips, top to bottom (:meth:`openncii.media.images.ImageStrips.strips`): the same
    bytes as :func:`working_bitmap`, without the whole picture in memory."""
    target_w, target_h = working_size(width, height)
    columns = np.empty((height, target_w, 3), dtype=np.int32)
    top = 0
    for strip in strips:
        if strip.ndim != 3 or strip.shape[1:] != (width, 3) or top + len(strip) > height:
            raise ValueError(f"a strip of shape {strip.shape} does not fit {width} x {height}")
        _column_sums(strip, columns, top)
        top += len(strip)
    if top != height:
        raise ValueError(f"the strips held {top} rows of {height}")
    return _row_sums(columns, width, target_h)


def _column_sums(strip: RGB, columns: npt.NDArray[np.int32], top: int) -> None:
    """Weighted sums over the source columns of each output column (not yet divided) for the
    rows of ``strip``, written to ``columns[top:]``. They reach ``255 * source width``: 32-bit
    integers hold them for any picture we decode."""
    width = columns.shape[1]
    col_index, col_weight = _taps(strip.shape[1], width)
    sums = np.zeros((len(strip), width, 3), dtype=np.int32)
    for t in range(col_index.shape[1]):
        sums += strip[:, col_index[:, t], :] * col_weight[None, :, t, None].astype(np.int32)
    columns[top : top + len(strip)] = sums


def _row_sums(columns: npt.NDArray[np.int32], src_w: int, height: int) -> RGB:
    """Weighted sums over the rows of ``columns`` for each output row, divided by the area and
    rounded (once: the result is exact), a band of output rows at a time."""
    src_h, width = columns.shape[:2]
    area = src_w * src_h
    # Sums reach 255 * area: 32-bit integers hold them for pictures up to 8.4 megapixels.
    dtype = np.int32 if 255 * area + area < 2**31 else np.int64
    row_index, row_weight = _taps(src_h, height)
    out = np.empty((height, width, 3), dtype=np.uint8)
    for y0 in range(0, height, _BAND_ROWS):
        index, weight = row_index[y0 : y0 + _BAND_ROWS], row_weight[y0 : y0 + _BAND_ROWS]
        total = np.zeros((len(index), width, 3), dtype=dtype)
        for t in range(index.shape[1]):
            total += columns[index[:, t]].astype(dtype) * weight[:, t, None, None].astype(dtype)
        total += area // 2
        total //= area
        out[y0 : y0 + len(index)] = total
    return out


def working_bitmap(rgb: RGB) -> RGB:
    """The working bitmap of decoded ``(H, W, 3)`` uint8 pixels (see the module's docstring)."""
    height, width = rgb.shape[:2]
    target_w, target_h = working_size(width, height)
    return area_resize(rgb, target_w, target_h)


def load_working_bitmap(path: Path) -> RGB:
    """Decode an image file and make its working bitmap.

    Raises :class:`openncii.MediaError` (a subclass says what went wrong).
    """
    with open_image_strips(path, fast=True) as image:
        return working_bitmap_from_strips(image.width, image.height, image.strips(_STRIP_ROWS))

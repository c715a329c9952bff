"""PDQ over an image fed in horizontal strips, bit-exact with ``pdq_from_rgb``.

:func:`~openncii.signals.pdq.pdq_from_rgb` holds the whole image in 32-bit floats several times
over (luma, transposes, running sums): about 40 bytes per pixel, 4 GB for a 13,300 x 13,300
greyscale PNG that compresses to 172 KB. Here the image arrives as strips of rows (a decoder
or a video frame is read strip by strip) and the float working set stays near
``STRIP_PIXELS`` x 40 bytes, whatever the image size.

Why it gives the same bits: PDQ's blur is separable and every float32 operation of the
reference is elementwise across the axis it does not run along.

- Luma and the box filter *along rows* (horizontal) treat every row on its own: a strip gets
  exactly the values the whole image would (the same :func:`~openncii.signals.pdq._box_1d`).
- The box filter *along columns* (vertical) is a running sum down each column: each output
  row is ``(previous sum + entering row) - leaving row``, in that order, then divided by the
  window size. :class:`_ColumnBox` keeps the previous sum and the last ``window`` input rows
  (the halo) between strips, so it performs the same float32 additions, subtractions and
  divisions in the same order as the whole-image filter.
- Pass two and the decimation keep only the 64 sampled columns and rows, as in ``pdq.py``.

Pure numpy: no media decoding, web or database imports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.signals.pdq import (
    _LUMA_B,
    _LUMA_G,
    _LUMA_R,
    _MIN_HASHABLE_DIM,
    HASH_BITS,
    FloatImage,
    PdqHash,
    _bits_above_median,
    _box_1d,
    _sample_indices,
    _window,
    dct64_to_16,
    image_quality,
)

__all__ = [
    "STRIP_PIXELS",
    "PdqStrips",
    "pdq_from_rgb_bounded",
    "pdq_from_rgb_strips",
    "strip_rows",
]

#: Pixels per strip: the float working set is about 30 bytes per strip pixel (~30 MB).
STRIP_PIXELS: Final = 1 << 20


def strip_rows(cols: int, pixels: int = STRIP_PIXELS) -> int:
    """Rows per strip for an image ``cols`` pixels wide (at least 1)."""
    return max(1, pixels // max(1, cols))


class _ColumnBox:
    """The reference's running-sum box filter along columns, fed a block of rows at a time.

    Output row ``w`` is ``((sum[w-1] + in[w + half - 1]) - in[w - window + half - 1]) /
    count[w]``, leaving out a term that falls outside the image, where ``sum[-1]`` is the sum
    of the first ``half - 1`` rows: the same operations, in the same order, as
    :func:`~openncii.signals.pdq._box_1d` along axis 0. ``keep`` selects output rows.
    """

    def __init__(
        self, n: int, window: int, width: int, keep: npt.NDArray[np.intp] | None = None
    ) -> None:
        self._n = n
        self._window = window
        self._half = (window + 2) // 2
        self._history: deque[FloatImage] = deque(maxlen=window + 1)
        self._prev = np.zeros(width, dtype=np.float32)
        self._received = 0
        self._written = 0
        counts = np.concatenate(
            (
                np.arange(self._half, window + 1),
                np.full(n - window, window),
                np.arange(window - 1, window - self._half, -1),
            )
        ).astype(np.float32)
        self._counts = counts
        # Sorted output positions to keep; a small image samples some rows more than once.
        self._keep = keep
        self._width = width

    def push(self, block: FloatImage) -> FloatImage:
        """Take the next rows; return the output rows they complete (divided, kept only)."""
        outputs = max(
            0, min(self._received + len(block), self._n) - max(self._received, self._half - 1)
        )
        sums = np.empty((outputs, self._width), dtype=np.float32)
        first = self._written
        k = 0
        add, subtract = np.add, np.subtract
        prev = self._prev
        for row in block:
            r = self._received
            self._received += 1
            self._history.append(row)
            if r < self._half - 1:
                prev += row  # the leading half window: no output yet
                continue
            out = sums[k]
            add(prev, row, out=out)
            if r >= self._window:
                subtract(out, self._history[0], out=out)  # row r - window
            prev = out
            k += 1
        self._written += k
        self._prev = prev.copy() if k else prev
        return self._finish_rows(sums, first)

    def finish(self) -> FloatImage:
        """The last ``half - 1`` output rows, once every input row has been pushed."""
        if self._received != self._n:
            raise ValueError(f"expected {self._n} rows, received {self._received}")
        remaining = self._n - self._written
        sums = np.empty((remaining, self._width), dtype=np.float32)
        first = self._written
        prev = self._prev
        history = list(self._history)
        for k in range(remaining):
            w = first + k
            leave = w - self._window + self._half - 1
            out = sums[k]
            np.subtract(prev, history[leave - (self._n - len(history))], out=out)
            prev = out
        self._written = self._n
        return self._finish_rows(sums, first)

    def _finish_rows(self, sums: FloatImage, first: int) -> FloatImage:
        counts = self._counts[first : first + len(sums)]
        if self._keep is not None:
            keep = self._keep
            wanted = keep[(keep >= first) & (keep < first + len(sums))] - first
            sums, counts = sums[wanted], counts[wanted]
        return sums / counts[:, None]


class PdqStrips:
    """Accumulate an ``rows x cols`` image strip by strip (top to bottom), then :meth:`hash`.

    ``add_rgb`` takes ``(s, cols, 3)`` uint8 strips, ``add_luma`` ``(s, cols)`` float32 luma;
    strips may have any height. The hash equals ``pdq_from_rgb`` of the whole image.
    """

    def __init__(self, rows: int, cols: int) -> None:
        if rows <= 0 or cols <= 0:
            raise ValueError("an image has at least one row and one column")
        self.rows, self.cols = rows, cols
        self._received = 0
        self._tiny = rows < _MIN_HASHABLE_DIM or cols < _MIN_HASHABLE_DIM
        self._along_rows, along_cols = _window(cols), _window(rows)
        self._keep_cols = _sample_indices(cols)
        self._pass1 = _ColumnBox(rows, along_cols, cols)
        self._pass2 = _ColumnBox(rows, along_cols, len(self._keep_cols), keep=_sample_indices(rows))
        self._small: list[FloatImage] = []

    def add(self, pixels: npt.NDArray[np.uint8]) -> None:
        """Add the next rows: ``(s, cols, 3)`` uint8 RGB, or ``(s, cols)`` uint8 grey (the same
        as RGB with three equal channels)."""
        if pixels.ndim == 2:
            self.add_grey(pixels)
        else:
            self.add_rgb(pixels)

    def add_grey(self, grey: npt.NDArray[np.uint8]) -> None:
        """Add the next ``(s, cols)`` uint8 grey rows (R = G = B)."""
        if grey.ndim != 2 or grey.shape[1] != self.cols or grey.dtype != np.uint8:
            raise ValueError(f"expected an (s, {self.cols}) uint8 strip, got {grey.shape}")
        # The luma of (v, v, v) for every v, computed with rgb_to_luma's float32 operations.
        self.add_luma(np.take(_grey_luma(), grey))

    def add_rgb(self, rgb: npt.NDArray[np.uint8]) -> None:
        """Add the next ``(s, cols, 3)`` uint8 RGB rows."""
        if rgb.ndim != 3 or rgb.shape[1:] != (self.cols, 3) or rgb.dtype != np.uint8:
            raise ValueError(
                f"expected an (s, {self.cols}, 3) uint8 strip, got {rgb.shape} {rgb.dtype}"
            )
        self.add_luma(_luma(rgb))

    def add_luma(self, luma: FloatImage) -> None:
        """Add the next ``(s, cols)`` float32 luma rows."""
        if luma.ndim != 2 or luma.shape[1] != self.cols or luma.dtype != np.float32:
            raise ValueError(f"expected an (s, {self.cols}) float32 strip, got {luma.shape}")
        if self._received + len(luma) > self.rows:
            raise ValueError(f"more than {self.rows} rows")
        self._received += len(luma)
        if self._tiny or not len(luma):
            return
        blurred = _box_1d(luma, self._along_rows, axis=1)
        self._pass2_rows(self._pass1.push(blurred))

    def hash(self) -> PdqHash:
        """The PDQ hash of the whole image (every row must have been added)."""
        if self._received != self.rows:
            raise ValueError(f"expected {self.rows} rows, received {self._received}")
        if self._tiny:
            return PdqHash(bits=np.zeros(HASH_BITS, dtype=np.bool_), quality=0)
        self._pass2_rows(self._pass1.finish())
        self._small.append(self._pass2.finish())
        small = np.ascontiguousarray(np.concatenate(self._small), dtype=np.float32)
        quality = image_quality(small)
        dct = dct64_to_16(small)
        return PdqHash(bits=_bits_above_median(dct), quality=quality, _dct=dct)

    def _pass2_rows(self, rows: FloatImage) -> None:
        if len(rows):
            blurred = _box_1d(rows, self._along_rows, axis=1, keep=self._keep_cols)
            self._small.append(self._pass2.push(blurred))


@cache
def _grey_luma() -> FloatImage:
    """``_luma`` of the 256 pixels (v, v, v): a look-up table for grey images."""
    levels = np.arange(256, dtype=np.uint8)
    table: FloatImage = _luma(np.repeat(levels[None, :, None], 3, axis=2))[0]
    table.setflags(write=False)
    return table


def _luma(rgb: npt.NDArray[np.uint8]) -> FloatImage:
    """``rgb_to_luma`` with one float channel at a time (the same float32 operations)."""
    luma = np.multiply(rgb[:, :, 0], _LUMA_R, dtype=np.float32)
    channel = np.multiply(rgb[:, :, 1], _LUMA_G, dtype=np.float32)
    luma += channel
    np.multiply(rgb[:, :, 2], _LUMA_B, out=channel, dtype=np.float32)
    luma += channel
    return luma


def pdq_from_rgb_strips(strips: Iterable[npt.NDArray[np.uint8]], rows: int, cols: int) -> PdqHash:
    """PDQ of an ``rows x cols`` image given as consecutive uint8 strips (``(s, cols, 3)`` RGB
    or ``(s, cols)`` grey)."""
    hasher = PdqStrips(rows, cols)
    for strip in strips:
        hasher.add(strip)
    return hasher.hash()


def pdq_from_rgb_bounded(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    """``pdq_from_rgb`` with bounded float memory: the array is hashed strip by strip."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    rows, cols = rgb.shape[:2]
    step = strip_rows(cols)
    return pdq_from_rgb_strips((rgb[top : top + step] for top in range(0, rows, step)), rows, cols)

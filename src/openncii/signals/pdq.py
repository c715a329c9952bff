"""PDQ perceptual hashing in pure numpy, bit-exact with Meta's C++ reference core.

The reference computes everything in 32-bit floats in a fixed order of operations, so a faithful
port has to as well: a BLAS matrix product or a cumulative sum would round differently and move
bits. Where the reference accumulates a running sum, this module keeps the same sequence of
float32 additions, vectorised across the other axis (all rows, or all columns, at once).

Pipeline (on ``H x W`` RGB pixels):

1. luma ``0.299 R + 0.587 G + 0.114 B`` in float32;
2. two passes of a Jarosz box filter along rows then columns, window ``ceil(dim / 128)``;
3. decimate to 64 x 64 by sampling the centre of each cell;
4. quality from the gradients of the 64 x 64 image (0..100);
5. 2-D DCT keeping frequencies 1..16 on each axis (16 x 16);
6. bit ``k`` (row ``k // 16``, column ``k % 16``) is set where the coefficient is above the median.

The eight dihedral variants (rotations and flips) come from sign flips and transposes of the
16 x 16 DCT, so they cost almost nothing once the original is computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.errors import InvalidHashError
from openncii.signals.hexcode import hex_hamming_distance, normalize_hex

__all__ = [
    "DIHEDRAL_NAMES",
    "MATCH_THRESHOLD",
    "MIN_QUALITY",
    "PdqHash",
    "hamming_distance",
    "pdq_from_luma",
    "pdq_from_rgb",
    "rgb_to_luma",
]

HASH_BITS: Final = 256
#: Two PDQ hashes match when their Hamming distance is at most this.
MATCH_THRESHOLD: Final = 31
#: Hashes of lower quality carry too little signal to be shared (the reference's advice).
MIN_QUALITY: Final = 50
#: The reference's order of the eight dihedral variants.
DIHEDRAL_NAMES: Final = (
    "original",
    "rot90",
    "rot180",
    "rot270",
    "flipx",
    "flipy",
    "flipplus1",
    "flipminus1",
)

_MIN_HASHABLE_DIM: Final = 5
_DOWNSAMPLE_DIM: Final = 64
_JAROSZ_PASSES: Final = 2
_LUMA_R: Final = np.float32(0.299)
_LUMA_G: Final = np.float32(0.587)
_LUMA_B: Final = np.float32(0.114)

FloatImage = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A 256-bit PDQ hash and the quality of the image it came from.

    ``bits`` is a read-only ``(256,)`` bool array: ``bits[k]`` is DCT row ``k // 16``, column
    ``k % 16``. ``hex`` is the reference's 64-character form (the 256-bit integer whose bit ``k``
    is ``bits[k]``, big-endian). Equality compares the bits and the quality.
    """

    bits: npt.NDArray[np.bool_]
    quality: int
    _dct: FloatImage | None = None

    def __post_init__(self) -> None:
        if self.bits.shape != (HASH_BITS,) or self.bits.dtype != np.bool_:
            raise InvalidHashError("a PDQ hash has exactly 256 bits")
        self.bits.setflags(write=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PdqHash):
            return NotImplemented
        return self.quality == other.quality and bool(np.array_equal(self.bits, other.bits))

    def __hash__(self) -> int:
        return hash((self.hex, self.quality))

    def __repr__(self) -> str:
        # Hash values are sensitive: never print them whole in reprs that may reach a log.
        return f"PdqHash(quality={self.quality}, hex={self.hex[:4]}…)"

    @property
    def hex(self) -> str:
        """The reference's hex form: 64 lowercase hex characters."""
        return self.as_bytes().hex()

    def as_bytes(self) -> bytes:
        """The 32 bytes of the hex form (big-endian 256-bit integer)."""
        # Bit k of the integer lives in byte 31 - k // 8, at position k % 8 (LSB first).
        packed = np.packbits(self.bits.reshape(32, 8), axis=1, bitorder="little").ravel()
        return packed[::-1].tobytes()

    def as_code(self) -> npt.NDArray[np.uint8]:
        """The hash as a ``(32,)`` uint8 array, in the byte order of :meth:`as_bytes`."""
        return np.frombuffer(self.as_bytes(), dtype=np.uint8).copy()

    @classmethod
    def from_hex(cls, value: str, quality: int = 100) -> PdqHash:
        """Parse the reference's hex form (case-insensitive; surrounding spaces ignored)."""
        return cls.from_bytes(
            bytes.fromhex(normalize_hex(value, length=HASH_BITS // 4, name="a PDQ hash")), quality
        )

    @classmethod
    def from_bytes(cls, raw: bytes, quality: int = 100) -> PdqHash:
        """Build from the 32 bytes of :meth:`as_bytes`."""
        if len(raw) != HASH_BITS // 8:
            raise InvalidHashError("a PDQ hash is 32 bytes")
        if not 0 <= quality <= 100:
            raise InvalidHashError("PDQ quality is between 0 and 100")
        data = np.frombuffer(raw, dtype=np.uint8)[::-1].reshape(32, 1)
        bits = np.unpackbits(data, axis=1, bitorder="little").ravel().astype(np.bool_)
        return cls(bits=bits, quality=quality)

    def distance(self, other: PdqHash) -> int:
        """Hamming distance (0..256) to another hash."""
        return int(np.count_nonzero(self.bits != other.bits))

    def matches(self, other: PdqHash, threshold: int = MATCH_THRESHOLD) -> bool:
        """Whether ``other`` is within ``threshold`` bits (the reference's match rule)."""
        return self.distance(other) <= threshold

    @property
    def shareable(self) -> bool:
        """Whether the quality is high enough to share this hash (quality >= 50)."""
        return self.quality >= MIN_QUALITY

    def dihedral(self) -> tuple[PdqHash, ...]:
        """The eight dihedral variants, in the reference's order (see :data:`DIHEDRAL_NAMES`).

        Only available on hashes computed from pixels (it needs the DCT, not just the bits).
        """
        if self._dct is None:
            raise InvalidHashError("dihedral variants need a hash computed from pixels")
        return tuple(
            PdqHash(bits=_bits_above_median(dct), quality=self.quality)
            for dct in _dihedral_dcts(self._dct)
        )


def hamming_distance(a: str, b: str) -> int:
    """Hamming distance between two PDQ hashes given in hex."""
    return hex_hamming_distance(a, b)


def pdq_from_rgb(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    """Hash an ``(H, W, 3)`` uint8 RGB image exactly as the reference core does.

    Images smaller than 5 pixels on a side hash to all zeros with quality 0, as in the reference.
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    return pdq_from_luma(rgb_to_luma(rgb))


def rgb_to_luma(rgb: npt.NDArray[np.uint8]) -> FloatImage:
    """Float32 luma in the reference's order: ``(0.299 R + 0.587 G) + 0.114 B``."""
    channels = rgb.astype(np.float32)
    luma = channels[:, :, 0] * _LUMA_R
    luma += channels[:, :, 1] * _LUMA_G
    luma += channels[:, :, 2] * _LUMA_B
    return luma


def pdq_from_luma(luma: FloatImage) -> PdqHash:
    """Hash a 2-D float32 luma image (values 0..255)."""
    if luma.ndim != 2:
        raise ValueError(f"expected a 2-D luma array, got shape {luma.shape}")
    rows, cols = luma.shape
    if rows < _MIN_HASHABLE_DIM or cols < _MIN_HASHABLE_DIM:
        return PdqHash(bits=np.zeros(HASH_BITS, dtype=np.bool_), quality=0)
    buffer = np.ascontiguousarray(luma, dtype=np.float32)
    small = downsample_64(buffer)
    quality = image_quality(small)
    dct = dct64_to_16(small)
    return PdqHash(bits=_bits_above_median(dct), quality=quality, _dct=dct)


def _window(dimension: int) -> int:
    """Box-filter window along an axis of ``dimension`` pixels: ``ceil(dimension / 128)``."""
    return (dimension + 2 * _DOWNSAMPLE_DIM - 1) // (2 * _DOWNSAMPLE_DIM)


def _sample_indices(dimension: int) -> npt.NDArray[np.intp]:
    """The reference's decimation: cell centre ``int((i + 0.5) * dimension / 64)`` (in double)."""
    return np.array(
        [int(((i + 0.5) * dimension) / _DOWNSAMPLE_DIM) for i in range(_DOWNSAMPLE_DIM)],
        dtype=np.intp,
    )


def downsample_64(luma: FloatImage) -> FloatImage:
    """Blur (two Jarosz passes, each along rows then columns) and decimate to 64 x 64.

    Only the 64 x 64 sampled points of the last pass are ever read, so the second pass along
    rows keeps just the sampled columns and the final pass along columns runs on those 64
    columns alone. Every kept value has the reference's exact float32 history.
    """
    rows, cols = luma.shape
    along_rows, along_cols = _window(cols), _window(rows)
    keep_rows, keep_cols = _sample_indices(rows), _sample_indices(cols)
    out = _box_1d(luma, along_rows, axis=1)
    out = _box_1d(out, along_cols, axis=0)
    for _ in range(_JAROSZ_PASSES - 2):
        out = _box_1d(out, along_rows, axis=1)
        out = _box_1d(out, along_cols, axis=0)
    out = _box_1d(out, along_rows, axis=1, keep=keep_cols)
    return _box_1d(out, along_cols, axis=0, keep=keep_rows)


def _box_1d(
    image: FloatImage, window: int, axis: int, keep: npt.NDArray[np.intp] | None = None
) -> FloatImage:
    """The reference's running-sum box filter along ``axis``, vectorised across the other axis.

    The window is centred (``window // 2 + 1`` taps ahead, the rest behind) and shrinks at the
    edges. The reference keeps a float32 running sum, updated add-then-subtract, and divides it
    by the current window size at each output; the division never feeds back into the sum, so
    the sums are chained here through the output buffer (two numpy operations per step, each on
    a whole contiguous row) and divided once at the end. ``keep`` selects the output positions
    along ``axis`` that are wanted (all by default).
    """
    src = image if axis == 0 else np.ascontiguousarray(image.T)
    n = src.shape[0]
    half = (window + 2) // 2
    sums = np.empty_like(src)
    # Row views made once: the loops below are short numpy calls, so per-step Python
    # overhead (creating a view per index) is a large share of the time.
    ins = list(src)
    outs = list(sums)
    add, subtract = np.add, np.subtract
    prev = np.zeros(src.shape[1], dtype=np.float32)
    for read in range(half - 1):  # phase 1: the leading half window, no output
        prev += ins[read]
    write = 0
    for read in range(half - 1, window):  # phase 2: the window grows
        add(prev, ins[read], out=outs[write])
        prev = outs[write]
        write += 1
    for left, row in zip(range(n - window), outs[write:], strict=False):  # phase 3: slides
        add(prev, ins[left + window], out=row)
        subtract(row, ins[left], out=row)
        prev = row
    write += n - window
    for left in range(n - window, n - window + half - 1):  # phase 4: the window shrinks
        subtract(prev, ins[left], out=outs[write])
        prev = outs[write]
        write += 1
    counts = np.concatenate(
        (
            np.arange(half, window + 1),
            np.full(n - window, window),
            np.arange(window - 1, window - half, -1),
        )
    ).astype(np.float32)
    if keep is not None:
        sums, counts = sums[keep], counts[keep]
    out = sums / counts[:, None]
    return out if axis == 0 else np.ascontiguousarray(out.T)


def image_quality(small: FloatImage) -> int:
    """The reference's gradient-sum quality metric of the 64 x 64 image, 0..100."""
    scale = np.float32(100)
    denom = np.float32(255)
    vertical = ((small[:-1, :] - small[1:, :]) * scale) / denom
    horizontal = ((small[:, :-1] - small[:, 1:]) * scale) / denom
    total = int(np.abs(vertical.astype(np.int64)).sum() + np.abs(horizontal.astype(np.int64)).sum())
    return min(total // 90, 100)


@cache
def _dct_matrix() -> FloatImage:
    """Rows 1..16 of the 64-point DCT-II basis, computed in double then rounded to float32."""
    scale = math.sqrt(2.0 / 64.0)
    values = [
        [scale * math.cos((math.pi / 2 / 64.0) * (i + 1) * (2 * j + 1)) for j in range(64)]
        for i in range(16)
    ]
    matrix = np.array(values, dtype=np.float64).astype(np.float32)
    matrix.setflags(write=False)
    return matrix


def dct64_to_16(small: FloatImage) -> FloatImage:
    """``D A D^T`` with float32 products accumulated one term at a time, as the reference does."""
    one: FloatImage = dct64_to_16_many(small[np.newaxis])[0]
    return one


def dct64_to_16_many(smalls: FloatImage) -> FloatImage:
    """:func:`dct64_to_16` of each of ``smalls`` (``(N, 64, 64)`` -> ``(N, 16, 16)``): the same
    float32 operations element by element, so the same values, in one pass for all N."""
    d = _dct_matrix()
    t = np.zeros((smalls.shape[0], 16, 64), dtype=np.float32)
    for k in range(64):  # T[i, j] = sum_k D[i, k] * A[k, j]
        t += d[np.newaxis, :, k : k + 1] * smalls[:, k : k + 1, :]
    b = np.zeros((smalls.shape[0], 16, 16), dtype=np.float32)
    dt = np.ascontiguousarray(d.T)
    for k in range(64):  # B[i, j] = sum_k T[i, k] * D[j, k]
        b += t[:, :, k : k + 1] * dt[np.newaxis, k : k + 1, :]
    return b


def _bits_above_median(dct: FloatImage) -> npt.NDArray[np.bool_]:
    """Set the bits of coefficients strictly above the median.

    The reference's median (Torben's method) is the element of rank ``(n + 1) // 2`` (the 128th
    smallest of 256), i.e. the lower median.
    """
    flat = dct.ravel()
    median = np.partition(flat, 127)[127]
    return np.asarray(flat > median, dtype=np.bool_)


def _dihedral_dcts(a: FloatImage) -> tuple[FloatImage, ...]:
    """The 16 x 16 DCT of each dihedral transform of the image, derived from the original's.

    Row/column ``k`` of the DCT is frequency ``k + 1``: mirroring an axis negates the odd-index
    (even-frequency... see the parity masks below) coefficients, and a transpose swaps axes.
    """
    idx = np.arange(16)
    # Mirroring an image axis multiplies frequency f by (-1)^(f+1); f = index + 1, so even
    # indices flip sign.
    row_sign = np.where(idx % 2 == 1, 1.0, -1.0).astype(np.float32)[:, None]
    col_sign = np.where(idx % 2 == 1, 1.0, -1.0).astype(np.float32)[None, :]
    flip_x = a * row_sign  # mirror top-bottom
    flip_y = a * col_sign  # mirror left-right
    rot180 = a * row_sign * col_sign
    transpose = np.ascontiguousarray(a.T)
    rot90 = np.ascontiguousarray((a * col_sign).T)
    rot270 = np.ascontiguousarray((a * row_sign).T)
    anti_transpose = np.ascontiguousarray(rot180.T)
    return (a, rot90, rot180, rot270, flip_x, flip_y, transpose, anti_transpose)

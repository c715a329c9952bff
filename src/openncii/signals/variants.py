"""Robust image matching with PDQ: several hashes per photo, compared kind by kind.

One PDQ hash of a whole photo finds lightly edited copies only: a crop, a caption bar, a
screenshot frame or a small tilt moves it far beyond the match threshold. Here a photo is
enrolled as a small set of PDQ hashes of regions of its working bitmap
(``openncii.media.bitmap``), and an upload is *normalised* at the platform into a larger set
of hashes of the regions an edit may have kept. Two hashes are compared only when their
*kinds* make sense together, each pair of kinds with its own threshold. Everything stays
inside the PDQ ecosystem: 256-bit hashes, Hamming distance, any exact PDQ index.

Kinds (:class:`Kind`, short stable strings that travel with each hash):

========== ===================================================================== =========
kind       region                                                                sides
========== ===================================================================== =========
full       the whole picture                                                      both
dihedral   the whole picture turned or mirrored (7 of the 8 dihedral transforms,  query
           computed on the transformed pixels)
trim       the picture with its flat borders taken off (letterbox, screenshot      both
           frame, flat caption bar), or a tilted photo turned back upright
square     a centred square, its side a fraction of the short side                 both
strip      the picture without its bottom 25 %, or without its top 25 %            both
========== ===================================================================== =========

Enrolment (:func:`enrol_variants`): full; squares of 1.00, 0.88, 0.78, 0.68 and 0.60 of the
short side; the two strips; the photo's own flat-border trim when it has flat borders. Hashes
of PDQ quality below 50 are left out, and so are repeats of a hash of the same match class.
At most :data:`MAX_ENROLLED` per photo (8 or 9 for most photos).

Query (:func:`query_variants`): an upload under 256 pixels on its short side is first enlarged
to 512 (:func:`enlarge`); then full and the 7 other dihedral transforms; centred squares of
1.00, 0.99, ... 0.84 of the short side; the enrolled squares of 0.78 and 0.60 as they sit in a
copy turned by 1 to 5 degrees either way and cropped to its largest upright rectangle (a
photo straightened on a phone); the two strips; the flat-border trim, the smooth-border peel
and the photo inside blurred padding (trim, each when found and not a repeat); and, when all four
corners are dark, the photo turned back from its fitted tilt (trim) with the centred squares
that fit inside it.

Pairs (:func:`pair_threshold`): full, dihedral or trim (query) against full or trim (enrolled)
at distance <= 31; square against square at <= 24; strip against strip at <= 20; no other
pairs.
An exact index is searched at :data:`SEARCH_THRESHOLD` (31) and its hits are filtered with
:func:`pair_threshold`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.errors import InvalidHashError
from openncii.signals.borders import (
    Box,
    blurred_border_box,
    detect_rotation,
    flat_border_box,
    smooth_border_box,
    unrotate,
)
from openncii.signals.pdq import (
    MIN_QUALITY,
    PdqHash,
    _bits_above_median,
    _box_1d,
    _sample_indices,
    _window,
    dct64_to_16,
    dct64_to_16_many,
    hamming_distance,
    image_quality,
    pdq_from_luma,
    rgb_to_luma,
)

__all__ = [
    "ENROLLED_KINDS",
    "ENROL_SQUARES",
    "MAX_ENROLLED",
    "QUERY_SQUARES",
    "SEARCH_THRESHOLD",
    "SMALL_UPLOAD_SIDE",
    "STRIP_CUT_PERCENT",
    "TURN_DEGREES",
    "TURN_SQUARES",
    "Kind",
    "PdqVariant",
    "VariantMatch",
    "enlarge",
    "enrol_variants",
    "match_variants",
    "pair_threshold",
    "query_variants",
    "square_box",
    "strip_boxes",
]

RGB = npt.NDArray[np.uint8]


class Kind(StrEnum):
    """What region of a picture a hash was made from (the stable wire strings)."""

    FULL = "full"
    DIHEDRAL = "dihedral"
    TRIM = "trim"
    SQUARE = "square"
    STRIP = "strip"


#: The kinds a device enrols (a case may hold these; ``dihedral`` is computed by platforms only).
ENROLLED_KINDS: Final = frozenset({Kind.FULL, Kind.SQUARE, Kind.STRIP, Kind.TRIM})
#: Centred squares enrolled, as thousandths of the short side.
ENROL_SQUARES: Final = (1000, 880, 780, 680, 600)
#: Centred squares hashed from an upload, as thousandths of the short side: down to 0.84, so
#: that a centred crop of up to ~16 % of each side meets two enrolled squares (0.68 and 0.60).
QUERY_SQUARES: Final = tuple(range(1000, 839, -10))
#: A photo straightened by a small angle and cropped to the largest upright rectangle of its
#: own aspect (what a phone's straighten tool does; no dark corners to fit the angle from):
#: the query turns the enrolled squares of :data:`TURN_SQUARES` by each of these angles (both
#: ways, degrees), at the size that crop gives them, and samples them from the upload.
TURN_DEGREES: Final = (1, 2, 3, 4, 5)
TURN_SQUARES: Final = (780, 600)
#: An upload whose short side is below this is enlarged (bilinear) before its query hashes are
#: computed, to a short side of :data:`ENLARGED_SIDE`: the working side of a large photo.
SMALL_UPLOAD_SIDE: Final = 256
ENLARGED_SIDE: Final = 512
#: Each strip leaves out this percentage of the height, at the bottom or at the top.
STRIP_CUT_PERCENT: Final = 25
#: At most this many hashes are enrolled for one photo.
MAX_ENROLLED: Final = 10
#: Thresholds by pair of kinds (``docs/matching.md``, the pair rule; measured in
#: ``docs/benchmarks.md``). Strips are held closer than squares: they are most of the
#: false-match estimate once related pictures are set aside, and at 20 no goal edit lost a
#: photo (chosen on the tuning half, measured once on the report half).
WHOLE_THRESHOLD: Final = 31
SQUARE_THRESHOLD: Final = 24
STRIP_THRESHOLD: Final = 20
#: A blurred-padding box whose cuts are within this many lines of the flat trim's adds no hash.
SAME_CUT_LINES: Final = 2
#: Search an index at this distance, then keep the hits :func:`pair_threshold` allows.
SEARCH_THRESHOLD: Final = WHOLE_THRESHOLD

_WHOLE_QUERY: Final = frozenset({Kind.FULL, Kind.DIHEDRAL, Kind.TRIM})
_WHOLE_ENROLLED: Final = frozenset({Kind.FULL, Kind.TRIM})


def pair_threshold(query: Kind | str, enrolled: Kind | str) -> int | None:
    """The largest distance at which a query hash of kind ``query`` matches an enrolled hash
    of kind ``enrolled``, or None when such a pair is never compared.

    Raises :class:`InvalidHashError` for a string that is not a :class:`Kind`.
    """
    q, e = _kind(query), _kind(enrolled)
    if q in _WHOLE_QUERY and e in _WHOLE_ENROLLED:
        return WHOLE_THRESHOLD
    if q is e is Kind.SQUARE:
        return SQUARE_THRESHOLD
    if q is e is Kind.STRIP:
        return STRIP_THRESHOLD
    return None


def _kind(value: Kind | str) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise InvalidHashError(f"unknown variant kind {value!r}") from None


@dataclass(frozen=True, slots=True)
class PdqVariant:
    """One PDQ hash of a region of a picture: ``hex`` (64 lowercase hex characters), ``kind``
    (a :class:`Kind`) and the PDQ ``quality`` (0..100)."""

    hex: str
    kind: Kind
    quality: int

    def __post_init__(self) -> None:
        # Normalise or raise: a variant built from outside data is checked once, here.
        object.__setattr__(self, "kind", _kind(self.kind))
        object.__setattr__(self, "hex", PdqHash.from_hex(self.hex, self.quality).hex)

    def __repr__(self) -> str:
        # Hash values are sensitive: never whole in a repr that may reach a log.
        return f"PdqVariant(kind={self.kind.value!r}, quality={self.quality}, hex={self.hex[:4]}…)"

    def as_code(self) -> npt.NDArray[np.uint8]:
        """The hash as a ``(32,)`` uint8 array, the row format of ``openncii.index.PDQIndex``."""
        return np.frombuffer(bytes.fromhex(self.hex), dtype=np.uint8).copy()

    def to_json(self) -> dict[str, object]:
        return {"pdq": self.hex, "kind": self.kind.value, "quality": self.quality}


@dataclass(frozen=True, slots=True)
class VariantMatch:
    """The best pair of an upload's and a photo's hashes within its kinds' threshold."""

    query: PdqVariant
    enrolled: PdqVariant
    distance: int
    threshold: int


# ---------------------------------------------------------------------------------------------
# Regions (integer geometry: the browser's port computes the very same boxes)


def square_box(width: int, height: int, thousandths: int) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` of the centred square whose side is ``thousandths`` /
    1000 of the short side (rounded, halves up)."""
    side = max(1, (min(width, height) * thousandths + 500) // 1000)
    top, left = (height - side) // 2, (width - side) // 2
    return top, top + side, left, left + side


def strip_boxes(width: int, height: int) -> tuple[tuple[int, int, int, int], ...]:
    """The picture without its bottom 25 %, then without its top 25 % (``(top, bottom, left,
    right)`` each; the cut is rounded, halves up)."""
    cut = (height * STRIP_CUT_PERCENT + 50) // 100
    return (0, height - cut, 0, width), (cut, height, 0, width)


def _hash(luma: npt.NDArray[np.float32], box: tuple[int, int, int, int]) -> PdqHash:
    top, bottom, left, right = box
    return pdq_from_luma(luma[top:bottom, left:right])


class _Collector:
    """Keeps hashes of quality >= 50, once per match class, in order."""

    def __init__(self, limit: int | None = None) -> None:
        self.items: list[PdqVariant] = []
        self._seen: set[tuple[str, str]] = set()
        self._limit = limit

    def add(self, kind: Kind, pdq: PdqHash) -> None:
        if pdq.quality < MIN_QUALITY:
            return
        if self._limit is not None and len(self.items) >= self._limit:
            return
        group = "whole" if kind in _WHOLE_QUERY else kind.value
        key = (group, pdq.hex)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(PdqVariant(hex=pdq.hex, kind=kind, quality=pdq.quality))


def enrol_variants(rgb: RGB) -> list[PdqVariant]:
    """The hashes the device submits for one photo, from its working bitmap.

    ``rgb`` is the ``(H, W, 3)`` uint8 working bitmap (``openncii.media.bitmap``); the
    browser's ``enrolVariants`` gives the same list from the same pixels.
    """
    _check_rgb(rgb)
    height, width = rgb.shape[:2]
    luma = rgb_to_luma(rgb)
    out = _Collector(limit=MAX_ENROLLED)
    out.add(Kind.FULL, _hash(luma, (0, height, 0, width)))
    for thousandths in ENROL_SQUARES:
        out.add(Kind.SQUARE, _hash(luma, square_box(width, height, thousandths)))
    for box in strip_boxes(width, height):
        out.add(Kind.STRIP, _hash(luma, box))
    trim = flat_border_box(rgb)
    if trim is not None:
        out.add(Kind.TRIM, _hash(luma, (trim.top, trim.bottom, trim.left, trim.right)))
    return out.items


def _blur(
    luma: npt.NDArray[np.float32], along_rows: int, along_cols: int
) -> npt.NDArray[np.float32]:
    """PDQ's two box-filter passes over a whole picture (rows, then columns, twice)."""
    out = luma
    for _ in range(2):
        out = _box_1d(out, along_rows, axis=1)
        out = _box_1d(out, along_cols, axis=0)
    return out


def _sampled(
    blurred: npt.NDArray[np.float32], rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp]
) -> PdqHash:
    """PDQ from 64 x 64 points of an already blurred picture."""
    return _from_small(np.ascontiguousarray(blurred[np.ix_(rows, cols)]))


def _from_small(small: npt.NDArray[np.float32]) -> PdqHash:
    return PdqHash(bits=_bits_above_median(dct64_to_16(small)), quality=image_quality(small))


def _add_sampled(
    out: _Collector,
    kind: Kind,
    points: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.intp], npt.NDArray[np.intp]]],
) -> None:
    """:func:`_sampled` for each ``(blurred, rows, cols)`` of ``points``, their DCTs in one
    batch (the same values as one by one), added to ``out`` in order."""
    _add_smalls(out, kind, [blurred[np.ix_(rows, cols)] for blurred, rows, cols in points])


def _add_smalls(out: _Collector, kind: Kind, smalls: list[npt.NDArray[np.float32]]) -> None:
    """PDQ of each 64 x 64 picture of ``smalls`` (their DCTs in one batch), added to ``out``."""
    if not smalls:
        return
    stacked = np.stack(smalls)
    for small, dct in zip(stacked, dct64_to_16_many(stacked), strict=True):
        out.add(kind, PdqHash(bits=_bits_above_median(dct), quality=image_quality(small)))


def _dihedral_samples(
    height: int, width: int
) -> tuple[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], bool], ...]:
    """For each of the 7 non-identity dihedral transforms (the reference's order): the rows and
    columns of the original picture that the transformed picture's PDQ samples, and whether
    the 64 x 64 result is transposed."""
    r, c = _sample_indices(height), _sample_indices(width)
    r_t, c_t = _sample_indices(width), _sample_indices(height)  # the turned picture's
    # PDQ's box filter is centred half a pixel ahead for an even window; on a mirrored picture
    # that half pixel points the other way: one pixel per pass, two passes.
    shift_r = 2 * (1 - _window(height) % 2)
    shift_c = 2 * (1 - _window(width) % 2)

    def mirror_r(i: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        return np.maximum(height - 1 - i - shift_r, 0)

    def mirror_c(i: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        return np.maximum(width - 1 - i - shift_c, 0)

    return (
        (c_t, mirror_c(r_t), True),  # rot90: t[i, j] = a[j, W-1-i]
        (mirror_r(r), mirror_c(c), False),  # rot180
        (mirror_r(c_t), r_t, True),  # rot270: t[i, j] = a[H-1-j, i]
        (mirror_r(r), c, False),  # flipx (top-bottom)
        (r, mirror_c(c), False),  # flipy (left-right)
        (c_t, r_t, True),  # transpose: t[i, j] = a[j, i]
        (mirror_r(c_t), mirror_c(r_t), True),  # anti-transpose
    )


def query_variants(rgb: RGB) -> list[PdqVariant]:
    """The hashes a platform computes for one uploaded picture, from its working bitmap.

    Faster than hashing each region from scratch: the picture is blurred once at PDQ's window
    for the whole picture, and the 8 dihedral variants are sampled from that blur at the
    positions the transformed picture's PDQ would sample (on the transformed pixels, not by
    permuting the DCT); the centred squares are sampled from one blur of the centre square at
    their window. These agree with PDQ of the transformed or cropped pixels within a few bits
    (they differ only where the box filter meets the crop's edge, and in float rounding).
    """
    _check_rgb(rgb)
    if 5 <= min(rgb.shape[:2]) < SMALL_UPLOAD_SIDE:
        rgb = enlarge(rgb, ENLARGED_SIDE)
    height, width = rgb.shape[:2]
    luma = rgb_to_luma(rgb)
    out = _Collector()
    if min(height, width) < 5:
        return out.items
    whole = _blur(luma, _window(width), _window(height))
    out.add(Kind.FULL, _sampled(whole, _sample_indices(height), _sample_indices(width)))
    for rows, cols, transposed in _dihedral_samples(height, width):
        small = whole[np.ix_(rows, cols)]
        small = np.ascontiguousarray(small.T if transposed else small)
        out.add(Kind.DIHEDRAL, _from_small(small))
    _add_squares(out, luma, QUERY_SQUARES)
    _add_turned_squares(out, luma)
    for box in strip_boxes(width, height):
        out.add(Kind.STRIP, _hash(luma, box))
    trim = flat_border_box(rgb)
    if trim is not None:
        out.add(Kind.TRIM, _hash(luma, (trim.top, trim.bottom, trim.left, trim.right)))
    smooth = smooth_border_box(rgb)
    if smooth is not None and smooth != trim:
        out.add(Kind.TRIM, _hash(luma, (smooth.top, smooth.bottom, smooth.left, smooth.right)))
    blurred = blurred_border_box(rgb)
    if blurred is not None and blurred != smooth and not _cuts_alike(blurred, trim):
        out.add(Kind.TRIM, _hash(luma, (blurred.top, blurred.bottom, blurred.left, blurred.right)))
    rotation = detect_rotation(rgb)
    if rotation is not None:
        upright, side = unrotate(rgb, rotation)
        up_luma = rgb_to_luma(upright)
        up_h, up_w = upright.shape[:2]
        out.add(Kind.TRIM, pdq_from_luma(up_luma))
        short = min(up_w, up_h)
        fitting = tuple(
            sorted(
                {t for t in (*QUERY_SQUARES, *ENROL_SQUARES) if short * t <= side * 1000},
                reverse=True,
            )
        )
        _add_squares(out, up_luma, fitting)
    return out.items


def _cuts_alike(blurred: Box, trim: Box | None) -> bool:
    """Whether the flat trim already cuts where the blurred-padding box does (within
    :data:`SAME_CUT_LINES` at both ends of the axis it cuts): flat padding such as a letterbox
    or a screenshot frame, which the flat trim handles. No hash more for it."""
    if trim is None:
        return False
    if blurred.top > 0:  # bands at the top and the bottom
        ends = ((blurred.top, trim.top), (blurred.bottom, trim.bottom))
    else:
        ends = ((blurred.left, trim.left), (blurred.right, trim.right))
    return all(abs(a - b) <= SAME_CUT_LINES for a, b in ends)


def enlarge(rgb: RGB, short_side: int) -> RGB:
    """``rgb`` enlarged so that its short side is ``short_side`` (the long side in proportion,
    rounded), by bilinear interpolation between pixel centres (edges held). A long, thin
    picture is enlarged less: its long side stays at most ``4 * short_side`` (or as it is), so
    the result is never larger than ``4 * short_side ** 2`` pixels per unit of aspect.

    Why (measured in ``docs/matching.md``): PDQ's box filter is ``ceil(side / 128)`` pixels
    wide, so a picture of 128 pixels or fewer is not blurred at all before it is sampled, and
    one of 129-256 pixels barely. A copy shrunk to a quarter differs from the enrolled photo by
    a median 16 bits as it is, 8 once enlarged back to a working size. Used by the query side
    only: the device hashes what the person has.
    """
    height, width = rgb.shape[:2]
    short, long = min(height, width), max(height, width)
    # The scale as a fraction num / den: short_side / short, or less for a long picture.
    num, den = (short_side, short)
    if long * short_side > 4 * short_side * short:
        num, den = max(long, 4 * short_side), long
    if num <= den:
        return rgb
    out_h = max(1, (2 * height * num + den) // (2 * den))
    out_w = max(1, (2 * width * num + den) // (2 * den))

    def axis(source: int, target: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        pos = np.clip((np.arange(target) + 0.5) * (source / target) - 0.5, 0, source - 1)
        first = np.minimum(np.floor(pos).astype(np.intp), max(source - 2, 0))
        return first, (pos - first).astype(np.float32)

    y0, fy = axis(height, out_h)
    x0, fx = axis(width, out_w)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    src = rgb.astype(np.float32)
    rows = src[y0] * (1 - fy)[:, None, None] + src[y1] * fy[:, None, None]
    both = rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
    out: RGB = np.clip(np.rint(both), 0, 255).astype(np.uint8)
    return out


def _add_squares(out: _Collector, luma: npt.NDArray[np.float32], ladder: tuple[int, ...]) -> None:
    """Centred squares of ``ladder`` (thousandths of the short side), sampled from one blur of
    the largest of them per box-filter window."""
    height, width = luma.shape
    blurs: dict[int, tuple[npt.NDArray[np.float32], int, int]] = {}
    points = []
    for thousandths in ladder:
        top, bottom, left, right = square_box(width, height, thousandths)
        side = bottom - top
        if side < 5:
            continue
        window = _window(side)
        if window not in blurs:
            blurs[window] = (_blur(luma[top:bottom, left:right], window, window), top, left)
        blurred, b_top, b_left = blurs[window]
        idx = _sample_indices(side)
        points.append((blurred, idx + (top - b_top), idx + (left - b_left)))
    _add_sampled(out, Kind.SQUARE, points)


def _add_turned_squares(out: _Collector, luma: npt.NDArray[np.float32]) -> None:
    """The enrolled centred squares of :data:`TURN_SQUARES` as they sit in a copy of the photo
    turned by each of :data:`TURN_DEGREES` (both ways) and cropped to the largest upright
    rectangle of its aspect: PDQ's 64 x 64 points of the turned square, read (bilinear) from
    one blur of the whole upload per box-filter window. A square that does not fit inside the
    upload is left out."""
    height, width = luma.shape
    short, long = min(height, width), max(height, width)
    blurs: dict[int, npt.NDArray[np.float32]] = {}
    points = []
    for degrees in TURN_DEGREES:
        theta = math.radians(degrees)
        cos, sin = math.cos(theta), math.sin(theta)
        # The crop keeps this share of the turned photo's short side: the photo's squares are
        # 1 / keep times larger, against the upload's short side, than they were enrolled.
        keep = 1 / (cos + sin * long / short)
        for thousandths in TURN_SQUARES:
            side = round(thousandths * short / (1000 * keep))
            if side < 5 or side * (cos + sin) > short:
                continue
            window = _window(side)
            if window not in blurs:
                blurs[window] = _blur(luma, window, window)
            offsets = _sample_indices(side) + 0.5 - side / 2  # about the square's centre
            rows, cols = np.meshgrid(offsets, offsets, indexing="ij")
            for turn in (sin, -sin):  # counter-clockwise, then clockwise
                x = width / 2 - 0.5 + cols * cos + rows * turn
                y = height / 2 - 0.5 - cols * turn + rows * cos
                points.append(_bilinear(blurs[window], y, x))
    _add_smalls(out, Kind.SQUARE, points)


def _bilinear(
    image: npt.NDArray[np.float32], y: npt.NDArray[np.float64], x: npt.NDArray[np.float64]
) -> npt.NDArray[np.float32]:
    """``image`` read at the (fractional) positions ``y``, ``x``, held at the edges."""
    height, width = image.shape
    y, x = np.clip(y, 0, height - 1), np.clip(x, 0, width - 1)
    y0 = np.minimum(np.floor(y).astype(np.intp), max(height - 2, 0))
    x0 = np.minimum(np.floor(x).astype(np.intp), max(width - 2, 0))
    fy, fx = (y - y0).astype(np.float32), (x - x0).astype(np.float32)
    y1, x1 = np.minimum(y0 + 1, height - 1), np.minimum(x0 + 1, width - 1)
    top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
    bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
    return np.ascontiguousarray(top * (1 - fy) + bottom * fy, dtype=np.float32)


def _check_rgb(rgb: RGB) -> None:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 array, got {rgb.shape} {rgb.dtype}")


def match_variants(
    queries: Sequence[PdqVariant], enrolled: Iterable[PdqVariant]
) -> VariantMatch | None:
    """The best pair of ``queries`` (an upload's hashes) and ``enrolled`` (one photo's hashes)
    within the threshold of its kinds, or None.

    "Best" is the pair furthest inside its threshold (``threshold - distance`` largest), then
    the smallest distance.
    """
    best: VariantMatch | None = None
    for e in enrolled:
        for q in queries:
            threshold = pair_threshold(q.kind, e.kind)
            if threshold is None:
                continue
            distance = hamming_distance(q.hex, e.hex)
            if distance > threshold:
                continue
            if best is None or (threshold - distance, -distance) > (
                best.threshold - best.distance,
                -best.distance,
            ):
                best = VariantMatch(query=q, enrolled=e, distance=distance, threshold=threshold)
    return best

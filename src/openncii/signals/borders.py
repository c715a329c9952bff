"""Frames around a photo: flat borders, and the black corners of a small rotation.

Reposts put photos inside things: letterbox and pillarbox bars, screenshot frames, caption bars
of a flat colour; or tilt them a few degrees on a black canvas. Both sides of robust matching
take such frames off before hashing (``openncii.signals.variants``).

Flat borders (:func:`flat_border_box`), in integers so that the browser's port
(``web/static/js/variants.js``) finds exactly the same box:

- a line (a row or a column, within the current box) is *flat* when at least 97 % of its pixels
  are within +-12 of the line's median colour on each of R, G and B (the median is the lower
  median: the element of rank ``(n - 1) // 2``, 0-based);
- flat lines are peeled off the top, then the bottom, then the left, then the right, and round
  again until nothing changes (a screenshot's dark title bar makes its side margins non-flat
  until the bar is gone);
- the box counts only when it removes at least :data:`MIN_TRIM_PERCENT` of the width or of the
  height, and keeps at least :data:`MIN_KEEP_PERCENT` of each.

Blurred padding (:func:`blurred_border_box`, query side only): a photo in a taller (or wider)
frame filled with a blurred, enlarged copy of itself. Both bands have almost no detail along
their lines and end at a straight, sharp seam where the photo starts.

Rotation (:func:`detect_rotation`, :func:`unrotate`): when all four corners are dark, fit the
angle of the rectangle of content (within +-10 degrees), and undo it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.signals.pdq import rgb_to_luma

__all__ = [
    "BLURRED_DETAIL",
    "BLURRED_DETAIL_SHARE",
    "DARK_LUMA",
    "FLAT_DETAIL",
    "FLAT_PERCENT",
    "FLAT_TOLERANCE",
    "MAX_ROTATION_DEGREES",
    "MIN_KEEP_PERCENT",
    "MIN_ROTATION_DEGREES",
    "MIN_TRIM_PERCENT",
    "SEAM_CONTRAST",
    "SEAM_GAP",
    "SEAM_STEP",
    "SMOOTH_STEP",
    "Box",
    "Rotation",
    "blurred_border_box",
    "corners_dark",
    "detect_rotation",
    "flat_border_box",
    "smooth_border_box",
    "unrotate",
]

#: A pixel belongs to a flat line when each channel is within this of the line's median.
FLAT_TOLERANCE: Final = 12
#: A line is flat when at least this percentage of its pixels are within the tolerance.
FLAT_PERCENT: Final = 97
#: A trim counts only when it takes off at least this percentage of the width or the height.
MIN_TRIM_PERCENT: Final = 2
#: ... and keeps at least this percentage of each.
MIN_KEEP_PERCENT: Final = 30
#: A line is smooth when 90 % of its luma steps are at most this (blurred or gradient padding).
SMOOTH_STEP: Final = 1.5
#: Blurred padding: a line of the band has a mean luma step along it of at most this ...
BLURRED_DETAIL: Final = 1.0
#: ... the bands' (median) detail is at most this share of the photo's, and at least
#: :data:`FLAT_DETAIL` in one of them (a flat band, which a compressed file decodes to
#: one exact colour, is a letterbox or a screenshot's canvas: the flat trim's case) ...
BLURRED_DETAIL_SHARE: Final = 0.25
FLAT_DETAIL: Final = 0.01
#: ... and the seam is a step of at least this (median over the line, in luma levels), at least
#: :data:`SEAM_CONTRAST` times any other in the band and just past it (the :data:`SEAM_GAP`
#: lines on either side of the seam, one JPEG block, left out: a compressed seam rings).
SEAM_STEP: Final = 1.5
SEAM_CONTRAST: Final = 2.0
SEAM_GAP: Final = 8
#: Rotations are looked for within +-this many degrees.
MAX_ROTATION_DEGREES: Final = 10.0
#: Below this (degrees) a fitted angle is taken for no rotation.
MIN_ROTATION_DEGREES: Final = 0.4
#: A corner is dark when every pixel of its patch has luma at most this.
DARK_LUMA: Final = 40

RGB = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle of pixels: rows ``top:bottom``, columns ``left:right``."""

    top: int
    bottom: int
    left: int
    right: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def crop(self, image: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
        return image[self.top : self.bottom, self.left : self.right]


def _flat_lines(lines: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Which of ``lines`` (``(count, n, 3)``) are flat."""
    n = lines.shape[1]
    median = np.partition(lines, (n - 1) // 2, axis=1)[:, (n - 1) // 2 : (n - 1) // 2 + 1, :]
    near = np.abs(lines.astype(np.int16) - median.astype(np.int16)) <= FLAT_TOLERANCE
    count = np.count_nonzero(near.all(axis=2), axis=1)
    return np.asarray(count * 100 >= FLAT_PERCENT * n, dtype=np.bool_)


def _leading(flags: npt.NDArray[np.bool_]) -> int:
    """How many leading entries are true."""
    false = np.flatnonzero(~flags)
    return int(false[0]) if false.size else int(flags.size)


def flat_border_box(rgb: RGB) -> Box | None:
    """The box left when flat borders are peeled off, or None when there is nothing to trim.

    See the module's docstring for the rule. ``rgb`` is ``(H, W, 3)`` uint8.
    """
    return _peel(rgb, _flat_lines)


def _smooth_lines(lines: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    """Which of ``lines`` (``(count, n, 3)``) are smooth: 90 % of the luma steps between
    neighbours along the line are at most :data:`SMOOTH_STEP`."""
    if lines.shape[0] == 0 or lines.shape[1] < 2:
        return np.zeros(lines.shape[0], dtype=np.bool_)  # a line of one pixel has no steps
    luma = _luma(lines)
    steps = np.abs(np.diff(luma, axis=1))
    return np.asarray(np.percentile(steps, 90, axis=1) <= SMOOTH_STEP, dtype=np.bool_)


def smooth_border_box(rgb: RGB) -> Box | None:
    """Like :func:`flat_border_box`, but peels *smooth* lines: padding made of a blurred,
    enlarged copy of the photo, or a gradient (query side only: the browser does not need it).
    """
    return _peel(rgb, _smooth_lines)


def _line_detail(luma: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The mean luma step along each line of ``luma``."""
    detail: npt.NDArray[np.float32] = np.abs(np.diff(luma, axis=1)).mean(axis=1)
    return detail


def _band(luma: npt.NDArray[np.float32], detail: npt.NDArray[np.float32]) -> int:
    """The lines of blurred padding at the top of ``luma``, ending at a sharp seam (0: none).
    ``detail`` is :func:`_line_detail` of ``luma``.

    The band is the leading run of lines whose mean luma step along the line is at most
    :data:`BLURRED_DETAIL`; the seam is the largest median step between two lines within that run
    and the next :data:`SEAM_GAP` lines (a compressed seam rings into the lines before it), and
    it must stand out: :data:`SEAM_CONTRAST` times every other step there, but those within
    :data:`SEAM_GAP` lines of it (a screenshot's flat title bar, then its flat canvas, has two
    steps: the flat trim's case).
    """
    height = luma.shape[0]
    textured = np.flatnonzero(detail > BLURRED_DETAIL)
    run = int(textured[0]) if textured.size else height
    if run * 100 >= 48 * height:
        return 0
    # steps[i]: between lines i and i + 1, over the run and the next SEAM_GAP lines.
    lines = luma[: min(run + SEAM_GAP + 2, height)]
    steps = np.median(np.abs(np.diff(lines, axis=0)), axis=1)
    seam = int(np.argmax(steps)) + 1
    if seam * 100 < MIN_TRIM_PERCENT * height:
        return 0
    others = np.concatenate([steps[: max(seam - 1 - SEAM_GAP, 0)], steps[seam + SEAM_GAP :]])
    step = float(steps[seam - 1])
    return seam if step >= SEAM_STEP and step >= SEAM_CONTRAST * others.max(initial=0.0) else 0


def blurred_border_box(rgb: RGB) -> Box | None:
    """The photo inside blurred padding on two opposite sides, or None (query side only).

    Padding made of a blurred, enlarged copy of the photo is smooth but not flat, and
    :func:`smooth_border_box` stops a few lines short of the photo (a compressed seam rings) or
    goes on into the photo's own smooth parts (a sky). Here the top and the bottom bands (or the
    left and the right ones) must both be found by :func:`_band`, each ending at its seam, with
    at most :data:`BLURRED_DETAIL_SHARE` of the photo's detail and not flat (:data:`FLAT_DETAIL`);
    the box keeps at least :data:`MIN_KEEP_PERCENT` of the side.
    """
    if min(rgb.shape[:2]) < 3:
        return None
    # Most pictures: an outer line of each pair has detail, no band can start there.
    outer = [_luma(np.stack(pair)) for pair in ((rgb[0], rgb[-1]), (rgb[:, 0], rgb[:, -1]))]
    if all(float(_line_detail(o).max()) > BLURRED_DETAIL for o in outer):
        return None
    luma = _luma(rgb)
    height, width = luma.shape
    for lines in (luma, luma.T):
        size = lines.shape[0]
        detail = _line_detail(lines)  # once, for both bands and the photo between them
        first = _band(lines, detail)
        last = _band(lines[::-1], detail[::-1]) if first else 0
        if not (first and last) or (size - first - last) * 100 < MIN_KEEP_PERCENT * size:
            continue
        # The median over the lines of their detail: the bands' and the photo's.
        padding = float(max(np.median(detail[:first]), np.median(detail[size - last :])))
        if padding < FLAT_DETAIL or padding > BLURRED_DETAIL_SHARE * float(
            np.median(detail[first : size - last])
        ):
            continue  # flat padding (the flat trim's case), or no smoother than the photo
        if lines is luma:
            return Box(top=first, bottom=height - last, left=0, right=width)
        return Box(top=0, bottom=height, left=first, right=width - last)
    return None


def _peel(
    rgb: RGB, is_border: Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.bool_]]
) -> Box | None:
    """Peel lines for which ``is_border`` holds off the top, bottom, left and right, round
    after round, and apply the size rules."""
    outer_rows = is_border(np.stack([rgb[0], rgb[-1]]))
    outer_cols = is_border(np.stack([rgb[:, 0], rgb[:, -1]]))
    if not (outer_rows.any() or outer_cols.any()):
        return None  # most photos: no outer line is a border, the first round would peel none
    height, width = rgb.shape[:2]
    top, bottom, left, right = 0, height, 0, width
    while True:
        before = (top, bottom, left, right)
        # Rows: peel the top, then the bottom (within the current columns).
        rows = is_border(rgb[top:bottom, left:right])
        peel_top = _leading(rows)
        if peel_top >= bottom - top:
            return None  # every row is a border: nothing to keep
        top += peel_top
        bottom -= _leading(rows[peel_top:][::-1])
        # Columns: the left, then the right (within the new rows).
        cols = is_border(rgb[top:bottom, left:right].transpose(1, 0, 2))
        peel_left = _leading(cols)
        if peel_left >= right - left:
            return None
        left += peel_left
        right -= _leading(cols[peel_left:][::-1])
        if (top, bottom, left, right) == before:
            break
    kept_h, kept_w = bottom - top, right - left
    if kept_h * 100 < MIN_KEEP_PERCENT * height or kept_w * 100 < MIN_KEEP_PERCENT * width:
        return None
    trimmed_h, trimmed_w = height - kept_h, width - kept_w
    if trimmed_h * 100 < MIN_TRIM_PERCENT * height and trimmed_w * 100 < MIN_TRIM_PERCENT * width:
        return None
    return Box(top=top, bottom=bottom, left=left, right=right)


# ---------------------------------------------------------------------------------------------
# Rotation on a dark canvas


@dataclass(frozen=True, slots=True)
class Rotation:
    """A rectangle of content turned by ``degrees`` (counter-clockwise as seen) about the
    centre of the picture, ``width x height`` pixels before it was turned."""

    degrees: float
    width: float
    height: float


def _luma(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """PDQ's float32 luma of ``(..., n, 3)`` pixels (a picture, or a stack of lines)."""
    flat = rgb.reshape(-1, rgb.shape[-2], 3)
    return rgb_to_luma(flat).reshape(rgb.shape[:-1])


def corners_dark(rgb: RGB) -> bool:
    """Whether all four corners of the picture are dark (a small patch each)."""
    height, width = rgb.shape[:2]
    patch = max(2, min(height, width) // 100)
    if height < 4 * patch or width < 4 * patch:
        return False
    # The luma of the four patches only (per pixel: the same values as the whole picture's).
    return all(
        float(_luma(corner).max()) <= DARK_LUMA
        for corner in (
            rgb[:patch, :patch],
            rgb[:patch, -patch:],
            rgb[-patch:, :patch],
            rgb[-patch:, -patch:],
        )
    )


def _content(rgb: RGB) -> npt.NDArray[np.bool_]:
    """Pixels brighter than the dark canvas."""
    return np.asarray(_luma(rgb) > DARK_LUMA / 2, dtype=np.bool_)


def _edge_points(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.float64], ...]:
    """Content pixels next to the dark canvas (not on the picture's own border), about the
    centre of the picture."""
    height, width = mask.shape
    inner = mask[1:-1, 1:-1]
    dark_next = ~(mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:])
    ys, xs = np.nonzero(inner & dark_next)
    return (
        xs.astype(np.float64) + 1.5 - width / 2,
        ys.astype(np.float64) + 1.5 - height / 2,
    )


def _turn_back(
    xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], degrees: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Coordinates in the frame of a rectangle turned by ``degrees`` (image y points down)."""
    theta = math.radians(degrees)
    c, s = math.cos(theta), math.sin(theta)
    return xs * c - ys * s, xs * s + ys * c


def _straightness(xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], degrees: float) -> int:
    """How many edge points lie on the few straightest lines at ``degrees`` (half-pixel bins,
    a line's points counted over two neighbouring bins)."""
    u, v = _turn_back(xs, ys, degrees)
    score = 0
    for values in (u, v):
        counts = np.bincount(np.floor((values - values.min()) * 2).astype(np.intp))
        pairs = counts[:-1] + counts[1:] if counts.size > 1 else counts
        score += int(np.sort(pairs)[-4:].sum())
    return score


def _best_angle(
    xs: npt.NDArray[np.float64], ys: npt.NDArray[np.float64], grid: npt.NDArray[np.float64]
) -> float:
    """The angle of ``grid`` with the straightest edges (the middle of a run of equal best)."""
    scores = np.array([_straightness(xs, ys, float(d)) for d in grid])
    best = np.flatnonzero(scores == scores.max())
    return float(grid[best[best.size // 2]])


def detect_rotation(rgb: RGB) -> Rotation | None:
    """Fit the tilt of a photo turned on a dark canvas, or None.

    Looked for only when all four corners are dark. The content's edges against the canvas are
    straight lines at the angle of the turn: the angle (within +-10 degrees, to 0.05 degree) is
    the one along which most edge points line up; the size of the rectangle of content is then
    the extent of the content along that angle. Returns None when the corners are not dark, the
    fitted angle is below 0.4 degrees, or too little content is seen.
    """
    if not corners_dark(rgb):
        return None
    mask = _content(rgb)
    xs, ys = _edge_points(mask)
    if xs.size < 50 or np.count_nonzero(mask) < mask.size // 10:
        return None
    if xs.size > 20_000:
        keep = np.linspace(0, xs.size - 1, 20_000).astype(np.intp)
        xs, ys = xs[keep], ys[keep]
    best = 0.0
    for spacing, span in ((0.25, MAX_ROTATION_DEGREES), (0.05, 0.3)):
        best = _best_angle(xs, ys, np.arange(best - span, best + span + 1e-9, spacing))
    if abs(best) < MIN_ROTATION_DEGREES:
        return None
    height, width = mask.shape
    ys_all, xs_all = np.nonzero(mask)
    u, v = _turn_back(
        xs_all.astype(np.float64) + 0.5 - width / 2,
        ys_all.astype(np.float64) + 0.5 - height / 2,
        best,
    )
    lo_u, hi_u = np.percentile(u, [0.1, 99.9])
    lo_v, hi_v = np.percentile(v, [0.1, 99.9])
    return Rotation(
        degrees=round(best, 2),
        width=float(2 * max(-lo_u, hi_u)),
        height=float(2 * max(-lo_v, hi_v)),
    )


def unrotate(rgb: RGB, rotation: Rotation) -> tuple[RGB, int]:
    """Turn the picture back by ``rotation`` (bilinear) and cut out the rectangle of content.

    Returns the upright content and the side of the largest centred square inside it that holds
    no pixel from outside the picture (the canvas may have cut the content's corners off).
    """
    height, width = rgb.shape[:2]
    out_w = max(1, min(round(rotation.width), 2 * width))
    out_h = max(1, min(round(rotation.height), 2 * height))
    theta = math.radians(rotation.degrees)
    c, s = math.cos(theta), math.sin(theta)
    # Output pixel (x, y) about the centre, turned by theta, is where it sits in the picture.
    oy, ox = np.mgrid[0:out_h, 0:out_w].astype(np.float64)
    ox += 0.5 - out_w / 2
    oy += 0.5 - out_h / 2
    sx = ox * c + oy * s + width / 2 - 0.5
    sy = -ox * s + oy * c + height / 2 - 0.5
    x0 = np.clip(np.floor(sx).astype(np.intp), 0, width - 2)
    y0 = np.clip(np.floor(sy).astype(np.intp), 0, height - 2)
    fx = np.clip(sx - x0, 0.0, 1.0)[..., None]
    fy = np.clip(sy - y0, 0.0, 1.0)[..., None]
    src = rgb.astype(np.float32)
    top = src[y0, x0] * (1 - fx) + src[y0, x0 + 1] * fx
    bottom = src[y0 + 1, x0] * (1 - fx) + src[y0 + 1, x0 + 1] * fx
    upright = np.clip(np.rint(top * (1 - fy) + bottom * fy), 0, 255).astype(np.uint8)
    spread = abs(c) + abs(s)
    side = int(min(out_w, out_h, width / spread, height / spread))
    return upright, side

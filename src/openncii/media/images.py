"""Decode still images into the RGB pixels PDQ hashes.

- Formats: JPEG, PNG, WebP, GIF (first frame), BMP, TIFF, and HEIC/HEIF/AVIF through pillow-heif.
- EXIF orientation is applied, as the reference hashes assume.
- Colour: no ICC profile is applied (the reference does not). Alpha is dropped the way Pillow's
  ``convert("RGB")`` drops it, which is how the reference hashes were made; palette, grey,
  CMYK and other modes go through the same conversion.
- Hostile files: the memory decoding will take is estimated from the header and checked
  against a budget before any pixel is decoded (:mod:`openncii.media.budget`: a PNG that claims
  50000 x 50000 pixels, or a 177-megapixel colour PNG, is refused at once, with the limit that
  applies in the message), and every decoder failure becomes a
  :class:`~openncii.errors.MediaError` with a plain message.
- Bounded memory: :func:`open_image_strips` keeps the image as Pillow decoded it (1 byte per
  pixel for grey images) and gives it as upright RGB strips, so it is never copied, turned or
  converted whole.
- Fast path: a 12-megapixel JPEG is decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder itself
  (Pillow's draft mode), so that the short side stays at least :data:`FAST_MIN_SIDE` pixels.
  PDQ blurs and samples the image down to 64 x 64 anyway, so the hash moves only a few bits.
"""

from __future__ import annotations

import contextlib
import functools
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt
from PIL import ExifTags, Image, UnidentifiedImageError

from openncii.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError
from openncii.media.budget import (
    MAX_IMAGE_PIXELS,
    check_decode_budget,
    decode_cost,
    jpeg_buffers_coefficients,
    too_many_pixels_message,
)

__all__ = [
    "FAST_MIN_SIDE",
    "MAX_IMAGE_PIXELS",
    "ImageStrips",
    "decode_image",
    "load_image_for_hashing",
    "open_image_strips",
    "rgb_from_image",
]

_T = TypeVar("_T")
#: The fast path keeps at least this many pixels on the short side.
FAST_MIN_SIDE: Final = 512

_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        import pillow_heif

        pillow_heif.register_heif_opener()
        _heif_registered = True


def decode_image(path: Path, *, fast: bool = True) -> Image.Image:
    """Open and fully decode an image, oriented upright, in Pillow's RGB mode.

    The whole image is in memory (4 bytes per pixel, twice while it is turned upright): to
    hash, prefer :func:`open_image_strips`, whose memory stays bounded. Raises
    :class:`UnsupportedMediaError`, :class:`CorruptMediaError` or :class:`MediaTooLargeError`.
    """
    with open_image_strips(path, fast=fast) as decoded:
        upright = _decode_errors(lambda: rgb_image(_orient(decoded.image, decoded.method)))
        # The decoded image is closed on leaving: hand back a copy if nothing made one.
        return upright.copy() if upright is decoded.image else upright


@dataclass(slots=True)
class ImageStrips:
    """A decoded image (as Pillow holds it: native mode, not yet upright) read as upright RGB
    strips: ``width`` and ``height`` are the upright size."""

    image: Image.Image
    method: Image.Transpose | None
    width: int
    height: int

    def strips(self, rows: int, *, grey: bool = False) -> Iterator[npt.NDArray[np.uint8]]:
        """Upright ``(s, width, 3)`` uint8 RGB strips of at most ``rows`` rows, top to bottom.

        Each strip is cut from the stored image, turned upright and converted on its own, so
        the whole image is never copied or converted at once (every step is per pixel, the
        strips hold exactly the pixels of the whole upright RGB image). With ``grey``, an
        8-bit greyscale image gives ``(s, width)`` strips instead (its RGB has three equal
        channels).
        """
        if rows < 1:
            raise ValueError("rows must be at least 1")
        keep_grey = grey and self.image.mode == "L"
        for top in range(0, self.height, rows):
            bottom = min(self.height, top + rows)
            yield _decode_errors(functools.partial(self._strip, top, bottom, keep_grey))

    def _strip(self, top: int, bottom: int, keep_grey: bool) -> npt.NDArray[np.uint8]:
        width, height = self.image.size
        method = self.method
        transpose = Image.Transpose
        if method in (None, transpose.FLIP_LEFT_RIGHT):
            box = (0, top, width, bottom)
        elif method in (transpose.ROTATE_180, transpose.FLIP_TOP_BOTTOM):
            box = (0, height - bottom, width, height - top)
        elif method in (transpose.TRANSPOSE, transpose.ROTATE_90):
            # Upright rows are stored columns (read left to right).
            box = (top, 0, bottom, height)
            if method is transpose.ROTATE_90:
                box = (width - bottom, 0, width - top, height)
        else:  # ROTATE_270, TRANSVERSE
            box = (top, 0, bottom, height)
            if method is transpose.TRANSVERSE:
                box = (width - bottom, 0, width - top, height)
        piece = self.image.crop(box)
        if method is not None:
            piece = piece.transpose(method)
        if keep_grey:
            return np.asarray(piece, dtype=np.uint8)
        return rgb_from_image(piece)


@contextlib.contextmanager
def open_image_strips(path: Path, *, fast: bool = True) -> Iterator[ImageStrips]:
    """Decode ``path`` within the memory budget and give it as :class:`ImageStrips`.

    The header is checked first (:mod:`openncii.media.budget`): a file that would take more
    memory than we allow is refused with :class:`MediaTooLargeError` before any pixel is
    decoded. With ``fast``, a large JPEG is decoded at reduced scale (see :func:`_jpeg_draft`).
    Raises :class:`UnsupportedMediaError`, :class:`CorruptMediaError` or
    :class:`MediaTooLargeError`.
    """
    _register_heif()
    image = _decode_errors(lambda: _load(Path(path), fast))
    try:
        method = _decode_errors(lambda: _orientation(image))
        width, height = image.size
        if method in _SWAPS_AXES:
            width, height = height, width
        yield ImageStrips(image, method, width, height)
    finally:
        image.close()


_SWAPS_AXES: Final = (
    Image.Transpose.TRANSPOSE,
    Image.Transpose.TRANSVERSE,
    Image.Transpose.ROTATE_90,
    Image.Transpose.ROTATE_270,
)
# EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_ORIENTATIONS: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> Image.Transpose | None:
    """The transpose ``ImageOps.exif_transpose`` would apply to this (loaded) image."""
    return _ORIENTATIONS.get(image.getexif().get(ExifTags.Base.Orientation, 1))


def _orient(image: Image.Image, method: Image.Transpose | None) -> Image.Image:
    return image if method is None else image.transpose(method)


def _load(path: Path, fast: bool) -> Image.Image:
    """Open, check the header against the memory budget, draft, and decode the first frame."""
    with warnings.catch_warnings():
        # Pillow warns about odd metadata (corrupt EXIF, TIFF tag counts) and about large
        # sizes before it errors; the pixels decide, and we enforce our own limits.
        warnings.simplefilter("ignore")
        image = Image.open(path)
        try:
            width, height = image.size
            if width <= 0 or height <= 0:
                raise CorruptMediaError("the image has no pixels")
            full_size = (width, height)
            coefficients = False
            if image.format == "JPEG":
                coefficients = jpeg_buffers_coefficients(path)
                if fast:
                    _jpeg_draft(image)
            cost = decode_cost(image, full_size, coefficients=coefficients)
            check_decode_budget(cost, full_size, _kind(image, coefficients))
            image.seek(0)  # first frame of GIF/WebP/TIFF/HEIF sequences
            image.load()
        except BaseException:
            image.close()
            raise
    return image


def _kind(image: Image.Image, coefficients: bool) -> str:
    """How the limit's message names this kind of image: 'progressive JPEG images', ..."""
    fmt = str(image.format or "")
    colour = {"1": "black-and-white", "L": "greyscale", "P": "palette"}.get(image.mode, "colour")
    if image.mode.startswith("I;16"):
        colour = "16-bit greyscale"
    if fmt == "JPEG":
        fmt = "progressive JPEG" if coefficients else "JPEG"
    return f"{colour} {fmt} images".strip()


def _decode_errors(action: Callable[[], _T]) -> _T:
    """Run a decoding step; turn every decoder failure into a :class:`MediaError`."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return action()
    except (UnsupportedMediaError, CorruptMediaError, MediaTooLargeError):
        raise
    except UnidentifiedImageError:
        raise UnsupportedMediaError("not an image format we can decode") from None
    except Image.DecompressionBombError as exc:
        # Pillow refuses absurd sizes while opening, before we see them: keep its count.
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        raise MediaTooLargeError(
            too_many_pixels_message(int(claimed.group(1)) if claimed else None)
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as exc:
        raise CorruptMediaError(f"the image is truncated or corrupt ({_reason(exc)})") from None
    except MemoryError:
        raise MediaTooLargeError("the image is too large to decode") from None


def _jpeg_draft(image: Image.Image) -> None:
    """Ask the JPEG decoder for the smallest DCT scale that keeps FAST_MIN_SIDE pixels."""
    width, height = image.size
    short = min(width, height)
    scale = 1
    while scale < 8 and short // (scale * 2) >= FAST_MIN_SIDE:
        scale *= 2
    if scale > 1:
        image.draft("RGB", (width // scale, height // scale))


def rgb_image(image: Image.Image) -> Image.Image:
    """Convert to 8-bit RGB the way the reference pipeline did (alpha dropped, no ICC)."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        image = image.convert("I")
    return image.convert("RGB")


def rgb_from_image(image: Image.Image) -> npt.NDArray[np.uint8]:
    """The ``(H, W, 3)`` uint8 pixels of an RGB Pillow image."""
    return np.asarray(rgb_image(image), dtype=np.uint8)


def load_image_for_hashing(path: Path, *, fast: bool = True) -> npt.NDArray[np.uint8]:
    """Decode ``path`` to upright ``(H, W, 3)`` uint8 RGB pixels, ready for PDQ."""
    image = decode_image(path, fast=fast)
    try:
        return rgb_from_image(image)
    finally:
        image.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[:120]

"""Decode still images into the RGB pixels PDQ hashes.

- Formats: JPEG, PNG, WebP, GIF (first frame), BMP, TIFF, and HEIC/HEIF/AVIF through pillow-heif.
- EXIF orientation is applied, as the reference hashes assume.
- Colour: no ICC profile is applied (the reference does not). Alpha is dropped the way Pillow's
  ``convert("RGB")`` drops it, which is how the reference hashes were made; palette, grey,
  CMYK and other modes go through the same conversion.
- Hostile files: a pixel budget guards against decompression bombs (a PNG that claims
  50000 x 50000 pixels is refused before its pixels are decoded), and every decoder failure
  becomes a :class:`~openncii.errors.MediaError` with a plain message.
- Fast path: a 12-megapixel JPEG is decoded at 1/2, 1/4 or 1/8 scale by the JPEG decoder itself
  (Pillow's draft mode), so that the short side stays at least :data:`FAST_MIN_SIDE` pixels.
  PDQ blurs and samples the image down to 64 x 64 anyway, so the hash moves only a few bits.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps, UnidentifiedImageError

from openncii.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError

__all__ = [
    "FAST_MIN_SIDE",
    "MAX_IMAGE_PIXELS",
    "decode_image",
    "load_image_for_hashing",
    "rgb_from_image",
]

#: Largest image we decode (pixels). Phones make 50 MP at most; 200 MP leaves room.
MAX_IMAGE_PIXELS: Final = 200_000_000
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

    Raises :class:`UnsupportedMediaError`, :class:`CorruptMediaError` or
    :class:`MediaTooLargeError`.
    """
    _register_heif()
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd metadata (corrupt EXIF, TIFF tag counts) and about large
            # sizes before it errors; the pixels decide, and we enforce our own size limit.
            warnings.simplefilter("ignore")
            with Image.open(path) as opened:
                width, height = opened.size
                if width <= 0 or height <= 0:
                    raise CorruptMediaError("the image has no pixels")
                if width * height > MAX_IMAGE_PIXELS:
                    raise MediaTooLargeError(
                        f"the image claims {width * height // 1_000_000} megapixels "
                        f"({width} x {height}), more than the "
                        f"{MAX_IMAGE_PIXELS // 1_000_000} megapixels we decode"
                    )
                if fast and opened.format == "JPEG":
                    _jpeg_draft(opened)
                opened.seek(0)  # first frame of GIF/WebP/TIFF/HEIF sequences
                opened.load()
                oriented = ImageOps.exif_transpose(opened)
                return rgb_image(oriented)
    except (UnsupportedMediaError, CorruptMediaError, MediaTooLargeError):
        raise
    except UnidentifiedImageError:
        raise UnsupportedMediaError("not an image format we can decode") from None
    except Image.DecompressionBombError as exc:
        # Pillow refuses absurd sizes while opening, before we see them: keep its count.
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        size = f"{int(claimed.group(1)) // 1_000_000} megapixels" if claimed else "more pixels"
        raise MediaTooLargeError(
            f"the image claims {size}, more than the {MAX_IMAGE_PIXELS // 1_000_000} "
            "megapixels we decode"
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

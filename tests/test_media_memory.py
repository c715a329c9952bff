"""Hashing any file the decoders accept takes at most 300 MB above a resting process.

Each file is hashed by ``memory_probe.py`` in a fresh process (after a warm-up on tiny media),
which reports the kernel's high-water mark of resident memory: the measurement sees every
allocation, and no other test's garbage. The files sit at the limit of what we decode for
their kind, or above it (then they are refused at once, with the real limit in the message).
Figures: ``docs/security.md``.
"""

from __future__ import annotations

from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from media_memory_helpers import MB, Probe, pattern_image, probe, write_png, write_video
from openncii.media.budget import DECODE_BUDGET_BYTES, MAX_IMAGE_PIXELS

pytestmark = pytest.mark.slow

#: The goal: peak growth of one hashing, whatever the file.
LIMIT = 300 * MB


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def _hashed(result: Probe, name: str) -> None:
    assert result.error is None, f"{name}: {result.error}"
    assert result.result is not None
    assert result.growth <= LIMIT, f"{name}: peak growth {result.growth_mb:.0f} MB"
    print(f"{name}: hashed, peak growth {result.growth_mb:.0f} MB, {result.seconds:.1f} s")


def _refused(result: Probe, name: str, fragment: str) -> None:
    assert result.error_type == "MediaTooLargeError", f"{name}: {result.error}"
    assert fragment in str(result.error), result.error
    assert result.growth <= 20 * MB, f"{name}: refused after {result.growth_mb:.0f} MB"
    assert result.seconds < 5
    print(f"{name}: refused, peak growth {result.growth_mb:.0f} MB: {result.error}")


def test_the_13300_square_greyscale_png_of_the_report(folder: Path) -> None:
    path = write_png(folder / "grey.png", 13_300, 13_300, channels=1)
    assert path.stat().st_size < 2 * MB  # a small file for 177 million pixels
    result = probe(path)
    _hashed(result, "PNG 13300 x 13300 greyscale")
    assert result.result is not None and result.result["quality"] >= 50


def test_colour_png_at_and_above_the_limit(folder: Path) -> None:
    _hashed(probe(write_png(folder / "rgb49.png", 7000, 7000, channels=3)), "PNG 7000 x 7000 RGB")
    big = write_png(folder / "rgb177.png", 13_300, 13_300, channels=3)
    _refused(probe(big), "PNG 13300 x 13300 RGB", "colour PNG images of up to 49.8 megapixels")


def test_a_header_claiming_more_than_pillow_decodes(png_bomb: Path) -> None:
    result = probe(png_bomb)
    _refused(result, "PNG claiming 50000 x 50000", "2500 megapixels")
    assert f"{MAX_IMAGE_PIXELS / 1e6:.1f} megapixels we decode at most" in str(result.error)


def test_jpeg_baseline_and_progressive(folder: Path) -> None:
    image = pattern_image(12_000, 8_000)
    image.save(folder / "base96.jpg", quality=85)
    _hashed(probe(folder / "base96.jpg"), "JPEG 96 MP baseline (decoded at 1/8)")
    _refused(
        probe(folder / "base96.jpg", fast=False),
        "JPEG 96 MP baseline, full resolution",
        "colour JPEG images of up to 49.8 megapixels",
    )
    image = image.resize((8000, 6000))
    image.save(folder / "prog48.jpg", quality=85, progressive=True)
    # libjpeg keeps every coefficient of a progressive JPEG (3 bytes per pixel at 4:2:0).
    _hashed(probe(folder / "prog48.jpg"), "JPEG 48 MP progressive (decoded at 1/8)")
    _refused(
        probe(folder / "prog48.jpg", fast=False),
        "JPEG 48 MP progressive, full resolution",
        "colour progressive JPEG images of up to 28.5 megapixels",
    )


def test_webp_at_and_above_the_limit(folder: Path) -> None:
    image = pattern_image(4500, 3100)
    image.save(folder / "lossless14.webp", lossless=True, method=0)
    _hashed(probe(folder / "lossless14.webp"), "WebP 14 MP lossless")
    image.save(folder / "lossy14.webp", quality=80, method=0)
    _hashed(probe(folder / "lossy14.webp"), "WebP 14 MP lossy")
    pattern_image(5000, 4800).save(folder / "lossy24.webp", quality=80, method=0)
    _refused(probe(folder / "lossy24.webp"), "WebP 24 MP", "WEBP images of up to 14.2 megapixels")


def test_tiff_one_strip_and_multi_page(folder: Path) -> None:
    image = pattern_image(5000, 4800)
    image.save(folder / "onestrip.tif", strip_size=2**31 - 1)  # the whole image in one strip
    _hashed(probe(folder / "onestrip.tif"), "TIFF 24 MP, one strip")
    # Only the first page is decoded: a huge second page costs nothing.
    small = pattern_image(640, 480)
    small.save(folder / "pages.tif", save_all=True, append_images=[image, image])
    result = probe(folder / "pages.tif")
    _hashed(result, "TIFF 3 pages (640 x 480, then 24 MP)")
    assert result.growth <= 50 * MB


def test_animated_gif_decodes_its_first_frame(folder: Path) -> None:
    first = pattern_image(6000, 6000).convert("P")
    second = first.transpose(Image.Transpose.ROTATE_180)
    first.save(folder / "anim.gif", save_all=True, append_images=[second, first], duration=100)
    _hashed(probe(folder / "anim.gif"), "GIF 36 MP, 3 frames")


def test_heic_at_phone_resolution(folder: Path) -> None:
    pillow_heif.register_heif_opener()
    pattern_image(6048, 4032).save(folder / "phone24.heic", format="HEIF", quality=60)
    _hashed(probe(folder / "phone24.heic"), "HEIC 24 MP")


def test_8k_video_frames(folder: Path) -> None:
    path = write_video(folder / "8k.mp4", 7680, 4320, frames=3)
    result = probe(path)
    _hashed(result, "H.264 video 7680 x 4320, 3 frames")
    assert result.result is not None and len(result.result["vpdq"]) == 2


def test_the_budget_leaves_room_for_the_strips() -> None:
    # Decoded pixels and decoder buffers (190 MiB) + PDQ strips (~30 MB) + the process's own
    # working memory stay under the 300 MB goal.
    assert DECODE_BUDGET_BYTES + 40 * MB < LIMIT

"""PDQ in strips gives the whole-image bits: on every reference row, and under hypothesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageOps

import openncii
from openncii.media.images import open_image_strips
from openncii.signals.pdq import pdq_from_rgb
from openncii.signals.pdq_strips import PdqStrips, pdq_from_rgb_bounded, strip_rows
from test_pdq import CSV_COLUMNS, _reference_rows


def test_every_reference_row_through_hash_file(testdata: Path) -> None:
    """``hash_file`` (decode within the budget, upright strips, strip PDQ) at full resolution
    reproduces the C++ reference's hash, quality and 8 variants on all 49 rows."""
    rows = _reference_rows(testdata)
    assert len(rows) == 49
    mismatches = []
    for row in rows:
        got = openncii.hash_file(testdata / "threatexchange" / row["path"], True, fast=False)
        if got.pdq != row["pdq"] or got.quality != int(row["quality"]):
            mismatches.append(row["path"])
        assert got.dihedral is not None
        mismatches += [
            f"{row['path']} {name}"
            for name, value in zip(CSV_COLUMNS, got.dihedral, strict=True)
            if value != row[name]
        ]
    assert mismatches == []


@st.composite
def images_and_cuts(draw: st.DrawFn) -> tuple[np.ndarray, list[int]]:
    rows = draw(st.integers(1, 400))
    cols = draw(st.integers(1, 400))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)
    if draw(st.booleans()):  # smooth, photo-like content, where the DCT is not noise
        smooth = np.cumsum(np.cumsum(pixels.astype(np.int64), axis=0), axis=1)
        pixels = (smooth * 255 // max(1, int(smooth.max()))).astype(np.uint8)
    cuts = sorted(set(draw(st.lists(st.integers(1, max(1, rows - 1)), max_size=8))))
    return pixels, [c for c in cuts if c < rows]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(images_and_cuts())
def test_any_strip_heights_give_the_whole_image_bits(case: tuple[np.ndarray, list[int]]) -> None:
    pixels, cuts = case
    expected = pdq_from_rgb(pixels)
    hasher = PdqStrips(*pixels.shape[:2])
    for strip in np.split(pixels, cuts):
        hasher.add_rgb(strip)
    got = hasher.hash()
    assert got == expected
    if expected.quality and min(pixels.shape[:2]) >= 5:
        assert got.dihedral() == expected.dihedral()


@settings(max_examples=50, deadline=None)
@given(st.integers(5, 300), st.integers(5, 300), st.integers(0, 2**32 - 1), st.integers(1, 50))
def test_grey_strips_equal_rgb_with_three_equal_channels(
    rows: int, cols: int, seed: int, step: int
) -> None:
    grey = np.random.default_rng(seed).integers(0, 256, (rows, cols), dtype=np.uint8)
    expected = pdq_from_rgb(np.repeat(grey[:, :, None], 3, axis=2))
    hasher = PdqStrips(rows, cols)
    for top in range(0, rows, step):
        hasher.add_grey(grey[top : top + step])
    assert hasher.hash() == expected


def test_bounded_hash_of_a_large_array() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (1500, 2100, 3), dtype=np.uint8)
    assert strip_rows(2100) < 1500  # really several strips
    assert pdq_from_rgb_bounded(pixels) == pdq_from_rgb(pixels)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("mode", ["RGB", "L", "P", "RGBA", "I;16", "CMYK"])
def test_upright_strips_equal_exif_transpose(tmp_path: Path, orientation: int, mode: str) -> None:
    pixels = np.random.default_rng(orientation).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode == "I;16":
        image = image.convert("I").point(lambda v: v * 200).convert("I;16")
    elif mode != "RGB":
        image = image.convert(mode)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / ("image.tif" if mode in ("I;16", "CMYK") else "image.png")
    image.save(path, exif=exif.tobytes())
    with Image.open(path) as stored:
        upright = ImageOps.exif_transpose(stored)
        if mode == "I;16":
            upright = upright.convert("I")
        expected = np.asarray(upright.convert("RGB"))
    with open_image_strips(path) as decoded:
        assert (decoded.height, decoded.width) == expected.shape[:2]
        for rows in (1, 5, 100):
            assert np.array_equal(np.concatenate(list(decoded.strips(rows))), expected)
        if mode == "L":
            grey = np.concatenate(list(decoded.strips(7, grey=True)))
            assert np.array_equal(grey, expected[:, :, 0])

"""PDQ: bit-exact with Meta's C++ reference core, on the reference data and on random pixels."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pdqhash
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from openncii.errors import InvalidHashError
from openncii.media.images import load_image_for_hashing
from openncii.signals.pdq import (
    DIHEDRAL_NAMES,
    MATCH_THRESHOLD,
    PdqHash,
    hamming_distance,
    pdq_from_luma,
    pdq_from_rgb,
)

CSV_COLUMNS = ("pdq", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1")


def _reference_rows(testdata: Path) -> list[dict[str, str]]:
    with (testdata / "threatexchange" / "pdq" / "reference-hashes.csv").open() as f:
        return list(csv.DictReader(f))


def _cpp(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    """The C++ reference core through pdqhash (its bit array is most-significant first)."""
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqHash(bits=bits[::-1].astype(np.bool_), quality=int(quality))


#: A DCT coefficient this close to the median is a tie at rounding level. Luma is 0..255 in
#: float32 (an ulp is at most 2**-16); rounding differences carried through the blur and the
#: 64-term DCT sums stay far below 1e-3, while a photo's coefficients spread over tens to
#: hundreds.
TIE = 1e-3


def _assert_agrees_with_cpp(rgb: npt.NDArray[np.uint8]) -> None:
    """Same quality, and the same bits wherever the bit is not a rounding-level tie.

    The reference's source computes luma and the DCT in plain float32 operations, as we do (and
    as the browser's JavaScript must). A compiled core may contract ``a * b + c`` into one fused
    multiply-add (the pdqhash build here does, in its luma), which rounds once instead of twice.
    On photos that never shows; where coefficients sit within a few ulps of the median (flat or
    near-flat images, whose DCT is rounding noise) it can flip those bits, and only those.
    """
    ours, theirs = pdq_from_rgb(rgb), _cpp(rgb)
    assert ours.quality == theirs.quality
    differing = np.flatnonzero(ours.bits != theirs.bits)
    if differing.size == 0:
        return
    dct = ours._dct
    assert dct is not None
    flat = dct.ravel().astype(np.float64)
    median = float(np.partition(flat, 127)[127])
    gaps = np.abs(flat[differing] - median)
    assert (gaps <= TIE).all(), (differing.tolist(), gaps.max())


def test_every_reference_row_is_bit_exact(testdata: Path) -> None:
    """All 49 rows: the hash, the quality and the 8 dihedral variants, on Pillow's full decode."""
    rows = _reference_rows(testdata)
    assert len(rows) == 49
    mismatches: list[str] = []
    for row in rows:
        rgb = load_image_for_hashing(testdata / "threatexchange" / row["path"], fast=False)
        got = pdq_from_rgb(rgb)
        if got.hex != row["pdq"] or got.quality != int(row["quality"]):
            mismatches.append(f"{row['path']}: {got.hex} q{got.quality}")
        variants = got.dihedral()
        assert variants[0] == got
        for name, variant in zip(CSV_COLUMNS, variants, strict=True):
            if variant.hex != row[name]:
                mismatches.append(f"{row['path']} {name}")
    assert mismatches == []


def test_dihedral_names_follow_the_reference_order() -> None:
    assert DIHEDRAL_NAMES == (
        "original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"
    )  # fmt: skip


def test_dihedral_variants_find_the_transformed_images(testdata: Path) -> None:
    """Hashing a rotated or flipped copy lands near the matching variant of the original."""
    base = testdata / "threatexchange" / "pdq" / "data" / "reg-test-input" / "dih"
    original = pdq_from_rgb(load_image_for_hashing(base / "bridge-1-original.jpg", fast=False))
    variants = dict(zip(DIHEDRAL_NAMES, original.dihedral(), strict=True))
    files = {
        "rot90": "bridge-2-rotate-90.jpg",
        "rot180": "bridge-3-rotate-180.jpg",
        "rot270": "bridge-4-rotate-270.jpg",
        "flipx": "bridge-5-flipx.jpg",
        "flipy": "bridge-6-flipy.jpg",
        "flipplus1": "bridge-7-flip-plus-1.jpg",
        "flipminus1": "bridge-8-flip-minus-1.jpg",
    }
    for name, file in files.items():
        copy = pdq_from_rgb(load_image_for_hashing(base / file, fast=False))
        assert variants[name].distance(copy) <= 16, name
        assert original.distance(copy) > MATCH_THRESHOLD, name


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 300), st.integers(1, 300), st.just(3)),
        elements=st.integers(0, 255),
    )
)
def test_random_pixels_match_the_cpp_core(rgb: npt.NDArray[np.uint8]) -> None:
    if min(rgb.shape[:2]) < 5:
        # The reference refuses images under 5 pixels on a side: zero hash, quality 0.
        ours = pdq_from_rgb(rgb)
        assert ours.quality == 0
        assert not ours.bits.any()
        return
    _assert_agrees_with_cpp(rgb)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(5, 1500),
    st.integers(5, 1500),
    st.integers(0, 2**32 - 1),
)
def test_smooth_images_of_any_size_match_the_cpp_core(rows: int, cols: int, seed: int) -> None:
    """Photo-like content (smooth with noise) at sizes that exercise every window width."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, size=(9, 9, 3)).astype(np.float64)
    yy = np.linspace(0, 8, rows)[:, None]
    xx = np.linspace(0, 8, cols)[None, :]
    y0, x0 = np.floor(yy).astype(int).clip(0, 7), np.floor(xx).astype(int).clip(0, 7)
    fy, fx = (yy - y0)[..., None], (xx - x0)[..., None]
    smooth = (
        coarse[y0, x0] * (1 - fy) * (1 - fx)
        + coarse[y0 + 1, x0] * fy * (1 - fx)
        + coarse[y0, x0 + 1] * (1 - fy) * fx
        + coarse[y0 + 1, x0 + 1] * fy * fx
    )
    noisy = smooth + rng.normal(0, 6, size=smooth.shape)
    rgb = np.clip(noisy, 0, 255).astype(np.uint8)
    _assert_agrees_with_cpp(rgb)


@pytest.mark.parametrize(("rows", "cols", "value"), [(5, 8, 1), (64, 67, 77), (100, 103, 200)])
def test_flat_images_differ_from_the_cpp_core_only_in_ties(
    rows: int, cols: int, value: int
) -> None:
    """A flat image's DCT is pure rounding noise: every bit is a tie, quality is 0 on both."""
    _assert_agrees_with_cpp(np.full((rows, cols, 3), value, dtype=np.uint8))


def test_tie_check_can_fail() -> None:
    """The tie tolerance is tight: a photo's hash with one real bit flipped is caught."""
    rng = np.random.default_rng(11)
    rgb = rng.integers(0, 256, size=(120, 90, 3), dtype=np.uint8)
    ours = pdq_from_rgb(rgb)
    dct = ours._dct
    assert dct is not None
    median = np.partition(dct.ravel(), 127)[127]
    gaps = np.abs(dct.ravel().astype(np.float64) - float(median))
    # All but the median itself are far from a tie: any real flip would be caught.
    assert np.sort(gaps)[1] > 100 * TIE


@given(st.binary(min_size=32, max_size=32), st.integers(0, 100))
def test_hex_and_bytes_round_trip(raw: bytes, quality: int) -> None:
    h = PdqHash.from_bytes(raw, quality)
    assert h.as_bytes() == raw
    assert h.hex == raw.hex()
    assert PdqHash.from_hex(h.hex.upper(), quality) == h
    assert PdqHash.from_hex(f"  {h.hex}\n", quality) == h
    assert int(h.hex, 16) == sum(1 << k for k in range(256) if h.bits[k])


@given(st.text(max_size=80))
def test_from_hex_rejects_anything_that_is_not_64_hex_digits(text: str) -> None:
    stripped = text.strip()
    valid = len(stripped) == 64 and all(c in "0123456789abcdefABCDEF" for c in stripped)
    if valid:
        assert PdqHash.from_hex(text).hex == stripped.lower()
    else:
        with pytest.raises(InvalidHashError):
            PdqHash.from_hex(text)


def test_from_hex_messages_say_what_is_wrong() -> None:
    with pytest.raises(InvalidHashError, match="64 hex characters, this one has 3"):
        PdqHash.from_hex("abc")
    with pytest.raises(InvalidHashError, match="only hex digits"):
        PdqHash.from_hex("g" * 64)
    with pytest.raises(InvalidHashError, match="quality"):
        PdqHash.from_hex("0" * 64, quality=101)


@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_distances_agree(a: bytes, b: bytes) -> None:
    ha, hb = PdqHash.from_bytes(a), PdqHash.from_bytes(b)
    expected = sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))
    assert ha.distance(hb) == expected == hamming_distance(ha.hex, hb.hex)
    assert ha.matches(hb) == (expected <= 31)


def test_bit_k_is_dct_row_k_div_16_column_k_mod_16() -> None:
    """Setting only the coefficient at row 2, column 5 above the rest sets only bit 37."""
    h = PdqHash.from_hex(f"{1 << 37:064x}")
    assert np.flatnonzero(h.bits).tolist() == [2 * 16 + 5]


def test_tiny_images_hash_to_zero_with_quality_zero() -> None:
    h = pdq_from_rgb(np.full((4, 100, 3), 200, dtype=np.uint8))
    assert h.quality == 0
    assert h.hex == "0" * 64
    assert not h.shareable


def test_flat_images_have_quality_zero() -> None:
    h = pdq_from_rgb(np.full((300, 400, 3), 128, dtype=np.uint8))
    assert h.quality == 0
    assert not h.shareable


def test_input_shape_and_type_are_checked() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        pdq_from_rgb(np.zeros((10, 10), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        pdq_from_rgb(np.zeros((10, 10, 3), dtype=np.float32))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2-D"):
        pdq_from_luma(np.zeros((10, 10, 1), dtype=np.float32))


def test_parsed_hashes_have_no_dihedral() -> None:
    with pytest.raises(InvalidHashError, match="computed from pixels"):
        PdqHash.from_hex("f" * 64).dihedral()


def test_repr_does_not_leak_the_hash() -> None:
    h = PdqHash.from_hex("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")
    assert h.hex not in repr(h)
    assert "f8f8" in repr(h)

"""Image decoding: every format a phone or a person may have, orientation, alpha, hostile files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pillow_heif
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import openncii
from openncii.errors import CorruptMediaError, MediaTooLargeError, UnsupportedMediaError
from openncii.media.images import load_image_for_hashing
from openncii.media.sniff import MediaKind, sniff_bytes
from openncii.signals.pdq import PdqHash, pdq_from_rgb


@pytest.fixture(scope="module")
def bridge(testdata: Path) -> Image.Image:
    path = testdata / "threatexchange" / "pdq" / "data" / "bridge-mods" / "aaa-orig.jpg"
    with Image.open(path) as image:
        return image.convert("RGB")


@pytest.fixture(scope="module")
def bridge_hash(bridge: Image.Image) -> PdqHash:
    return pdq_from_rgb(np.asarray(bridge))


@pytest.fixture(scope="module")
def small_bridge(bridge: Image.Image) -> Image.Image:
    """A 480 x 301 copy, for encoders that are slow on large images (HEIC, lossless WebP)."""
    return bridge.resize((480, 301), Image.Resampling.LANCZOS)


def _reference_hash(testdata: Path, name: str) -> str:
    table = (testdata / "threatexchange" / "pdq" / "reference-hashes.csv").read_text()
    for line in table.splitlines():
        if line.split(",")[0].endswith("/" + name):
            return line.split(",")[1]
    raise AssertionError(f"{name} is not in reference-hashes.csv")


def _save(tmp_path: Path, image: Image.Image, name: str, **params: object) -> Path:
    path = tmp_path / name
    image.save(path, **params)
    return path


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("lossless.png", {}),
        ("lossless.bmp", {}),
        ("lossless.tiff", {}),
        ("lossless.webp", {"lossless": True}),
    ],
)
def test_lossless_formats_hash_exactly_like_the_pixels(
    tmp_path: Path, small_bridge: Image.Image, name: str, params: dict[str, object]
) -> None:
    path = _save(tmp_path, small_bridge, name, **params)
    expected = pdq_from_rgb(np.asarray(small_bridge))
    result = openncii.hash_file(path)
    assert result.media == "image"
    assert result.pdq == expected.hex
    assert result.quality == expected.quality


@pytest.mark.parametrize(
    ("name", "params", "max_bits"),
    [
        ("lossy.webp", {"quality": 80}, 12),
        ("lossy.jpg", {"quality": 75}, 12),
        ("palette.gif", {}, 24),
    ],
)
def test_lossy_formats_stay_close(
    tmp_path: Path,
    bridge: Image.Image,
    bridge_hash: PdqHash,
    name: str,
    params: dict[str, object],
    max_bits: int,
) -> None:
    path = _save(tmp_path, bridge, name, **params)
    result = openncii.hash_file(path)
    assert result.pdq is not None
    assert PdqHash.from_hex(result.pdq).distance(bridge_hash) <= max_bits


def test_heic_photos_from_phones_are_decoded(tmp_path: Path, small_bridge: Image.Image) -> None:
    bridge_hash = pdq_from_rgb(np.asarray(small_bridge))
    heif = pillow_heif.from_pillow(small_bridge)
    path = tmp_path / "IMG_0001.HEIC"
    heif.save(str(path), quality=90)
    assert path.read_bytes()[4:8] == b"ftyp"
    result = openncii.hash_file(path)
    assert result.media == "image"
    assert result.pdq is not None
    assert PdqHash.from_hex(result.pdq).distance(bridge_hash) <= 16


def test_animated_gif_uses_the_first_frame(tmp_path: Path, bridge: Image.Image) -> None:
    first = bridge.resize((320, 200))
    second = first.transpose(Image.Transpose.ROTATE_180)
    path = tmp_path / "anim.gif"
    first.save(path, save_all=True, append_images=[second], duration=100, loop=0)
    got = PdqHash.from_hex(openncii.hash_file(path).pdq or "")
    with Image.open(path) as gif:
        gif.seek(0)
        expected = pdq_from_rgb(np.asarray(gif.convert("RGB")))
    assert got == expected


def test_exif_orientation_is_applied(tmp_path: Path, bridge: Image.Image) -> None:
    """A photo stored sideways with orientation 6 hashes like the upright pixels."""
    upright = bridge.resize((400, 250))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "sideways.png"
    stored.save(path, exif=exif.tobytes())
    got = load_image_for_hashing(path)
    assert got.shape == (250, 400, 3)
    assert np.array_equal(got, np.asarray(upright))


def test_exif_rotated_reference_image_needs_its_orientation(testdata: Path) -> None:
    """exif-rotn-6 is stored sideways: only the oriented pixels give the reference hash."""
    path = testdata / "threatexchange" / "pdq" / "data" / "reg-test-input" / "exif-rotn"
    path = path / "exif-rotn-6.jpg"
    with Image.open(path) as raw:
        assert raw.getexif().get(0x0112) == 6
        stored = pdq_from_rgb(np.asarray(raw.convert("RGB")))
    oriented = openncii.hash_file(path, fast=False)
    expected = _reference_hash(testdata, "exif-rotn-6.jpg")
    assert oriented.pdq == expected
    assert stored.distance(PdqHash.from_hex(expected)) > 31


def test_alpha_is_dropped_like_the_reference(tmp_path: Path, bridge: Image.Image) -> None:
    """RGBA: the colour channels are hashed as stored; transparency does not change them."""
    rgba = bridge.resize((320, 200)).convert("RGBA")
    alpha = np.zeros((200, 320), dtype=np.uint8)
    alpha[:, 160:] = 255
    rgba.putalpha(Image.fromarray(alpha))
    path = _save(tmp_path, rgba, "alpha.png")
    got = load_image_for_hashing(path)
    assert np.array_equal(got, np.asarray(rgba)[:, :, :3])


@pytest.mark.parametrize("mode", ["L", "P", "CMYK", "I;16", "1", "LA"])
def test_other_modes_become_rgb(tmp_path: Path, bridge: Image.Image, mode: str) -> None:
    small = bridge.resize((160, 100))
    converted = small.convert(mode)
    suffix = ".jpg" if mode == "CMYK" else ".tiff" if mode == "I;16" else ".png"
    path = _save(tmp_path, converted, f"mode{suffix}")
    rgb = load_image_for_hashing(path)
    assert rgb.dtype == np.uint8
    assert rgb.shape == (100, 160, 3)


def test_16_bit_grey_keeps_its_range(tmp_path: Path) -> None:
    ramp = (np.linspace(0, 65535, 256, dtype=np.uint16)[None, :] * np.ones((64, 1))).astype(
        np.uint16
    )
    path = tmp_path / "ramp16.png"
    Image.fromarray(ramp).save(path)
    rgb = load_image_for_hashing(path)
    assert rgb.min() == 0
    assert rgb.max() == 255


def test_fast_path_decodes_big_jpegs_at_reduced_scale(tmp_path: Path, bridge: Image.Image) -> None:
    big = bridge.resize((4032, 2530))
    path = _save(tmp_path, big, "big.jpg", quality=90)
    fast = load_image_for_hashing(path)
    full = load_image_for_hashing(path, fast=False)
    assert full.shape == (2530, 4032, 3)
    assert fast.shape[0] >= 512
    assert fast.shape[0] * 2 <= full.shape[0]
    drift = pdq_from_rgb(fast).distance(pdq_from_rgb(full))
    assert drift <= 8


# Hostile and broken files ---------------------------------------------------------------------


def _hash_error(path: Path) -> type[Exception]:
    with pytest.raises(openncii.MediaError) as info:
        openncii.hash_file(path)
    message = str(info.value)
    assert message
    assert "Traceback" not in message
    return type(info.value)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    assert _hash_error(path) is CorruptMediaError


def test_truncated_jpeg(tmp_path: Path, testdata: Path) -> None:
    src = testdata / "threatexchange" / "pdq" / "data" / "bridge-mods" / "aaa-orig.jpg"
    path = tmp_path / "cut.jpg"
    path.write_bytes(src.read_bytes()[:20000])
    assert _hash_error(path) is CorruptMediaError


def test_truncated_png(tmp_path: Path, bridge: Image.Image) -> None:
    buffer = io.BytesIO()
    bridge.save(buffer, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert _hash_error(path) is CorruptMediaError


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.jpg"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    assert _hash_error(path) is UnsupportedMediaError


def test_random_bytes_behind_a_jpeg_signature(tmp_path: Path) -> None:
    noise = np.random.default_rng(8).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    path = tmp_path / "fake.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + noise)
    assert _hash_error(path) in (CorruptMediaError, UnsupportedMediaError)


def test_text_file_renamed_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("Dear diary, today I renamed a text file.\n")
    assert _hash_error(path) is UnsupportedMediaError


def test_png_claiming_50000_by_50000_pixels_is_refused_before_decoding(png_bomb: Path) -> None:
    assert png_bomb.stat().st_size < 200
    with pytest.raises(MediaTooLargeError, match="2500 megapixels"):
        openncii.hash_file(png_bomb)


def test_unsupported_format(tmp_path: Path) -> None:
    path = tmp_path / "document.pdf"
    path.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    assert _hash_error(path) is UnsupportedMediaError


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe1", MediaKind.IMAGE),
        (b"\x89PNG\r\n\x1a\n", MediaKind.IMAGE),
        (b"GIF89a", MediaKind.IMAGE),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", MediaKind.IMAGE),
        (b"\x00\x00\x00\x18ftypheic", MediaKind.IMAGE),
        (b"\x00\x00\x00\x18ftypmif1", MediaKind.IMAGE),
        (b"\x00\x00\x00\x18ftypisom", MediaKind.VIDEO),
        (b"\x00\x00\x00\x14ftypqt  ", MediaKind.VIDEO),
        (b"RIFF\x00\x00\x00\x00AVI LIST", MediaKind.VIDEO),
        (b"\x1a\x45\xdf\xa3", MediaKind.VIDEO),
    ],
)
def test_sniffing_uses_content(head: bytes, kind: MediaKind) -> None:
    assert sniff_bytes(head + b"\x00" * 32) is kind


_SIGNATURES = [
    b"",
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x18ftypheic",
]


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(_SIGNATURES), st.binary(max_size=3000))
def test_arbitrary_bytes_give_a_result_or_a_media_error(
    tmp_path: Path, signature: bytes, body: bytes
) -> None:
    """Fuzz: whatever follows a known image signature, hashing never fails any other way."""
    path = tmp_path / "fuzz.bin"
    path.write_bytes(signature + body)
    try:
        result = openncii.hash_file(path)
    except openncii.MediaError as exc:
        assert str(exc)
    else:
        assert result.pdq is None or len(result.pdq) == 64

"""The browser's robust-matching enrolment (``js/variants.js``) gives exactly the Python
library's variant hashes on the same pixels: the same working bitmap, the same flat-border box,
the same hashes, kinds and qualities, in the same order."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openncii.media.bitmap import working_bitmap
from openncii.signals.borders import flat_border_box
from openncii.signals.pdq import hamming_distance
from openncii.signals.variants import enrol_variants

from .harness import serve_test_files

pytestmark = pytest.mark.browser

#: Decode a file in the page at full size (no colour conversion, EXIF orientation applied),
#: enrol its pixels, and hand the very same RGBA pixels back.
ENROL_FILE_JS = """async (name) => {
    const { enrolPixels } = await import('/js/variants.js');
    const blob = await (await fetch('/__test__/' + name)).blob();
    const bitmap = await createImageBitmap(blob,
        {colorSpaceConversion: 'none', imageOrientation: 'from-image'});
    const {width, height} = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    const variants = enrolPixels(pixels, width, height);
    let binary = '';
    for (let i = 0; i < pixels.length; i += 0x8000) {
        binary += String.fromCharCode.apply(null, pixels.subarray(i, i + 0x8000));
    }
    return {width, height, variants, rgba: btoa(binary)};
}"""

#: Enrol RGBA pixels handed in by the test (base64); also return the working bitmap and the
#: flat-border box of the working bitmap.
ENROL_PIXELS_JS = """async ({rgba, width, height}) => {
    const v = await import('/js/variants.js');
    const binary = atob(rgba);
    const pixels = new Uint8ClampedArray(binary.length);
    for (let i = 0; i < binary.length; i++) pixels[i] = binary.charCodeAt(i);
    const bitmap = v.workingBitmap(pixels, width, height);
    let out = '';
    for (let i = 0; i < bitmap.rgba.length; i += 0x8000) {
        out += String.fromCharCode.apply(null, bitmap.rgba.subarray(i, i + 0x8000));
    }
    return {variants: v.enrolPixels(pixels, width, height),
            box: v.flatBorderBox(bitmap.rgba, bitmap.width, bitmap.height),
            width: bitmap.width, height: bitmap.height, bitmap: btoa(out)};
}"""

#: The hashing worker's enrolment of files fetched from /__test__/ (decode included).
WORKER_ENROL_JS = """async (names) => {
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    const out = {};
    try {
        for (const name of names) {
            const blob = await (await fetch('/__test__/' + name)).blob();
            const file = new File([blob], name);
            out[name] = await new Promise((resolve) => {
                worker.onmessage = (event) => resolve(event.data);
                worker.postMessage({type: 'variants', id: 1, file});
            });
        }
    } finally {
        worker.terminate();
    }
    return out;
}"""

PHOTOS = [
    "photos/skimage_astronaut.jpg",
    "photos/sklearn_china.jpg",
    "photos/scratch_castle.jpg",
    "photos/mate_ladybird.jpg",
    "photos/opencv_box.jpg",
    "photos/matplotlib_grace_hopper.jpg",
    "threatexchange/pdq/data/reg-test-input/exif-rotn/exif-rotn-6.jpg",
]


def _python(rgb: np.ndarray[Any, Any]) -> list[dict[str, Any]]:
    return [
        {"hex": v.hex, "kind": v.kind.value, "quality": v.quality}
        for v in enrol_variants(working_bitmap(np.ascontiguousarray(rgb)))
    ]


def _rgba(rgb: np.ndarray[Any, Any]) -> str:
    height, width, _ = rgb.shape
    alpha = np.full((height, width, 1), 255, np.uint8)
    return base64.b64encode(np.concatenate([rgb, alpha], axis=2).tobytes()).decode()


@pytest.mark.parametrize("name", PHOTOS)
def test_same_pixels_same_variants(testdata: Path, page: Any, server: Any, name: str) -> None:
    path = testdata / name
    serve_test_files(page, {path.name: path.read_bytes()})
    page.goto(f"{server.base_url}/")
    result = page.evaluate(ENROL_FILE_JS, path.name)
    raw = np.frombuffer(base64.b64decode(result["rgba"]), dtype=np.uint8)
    rgb = raw.reshape(result["height"], result["width"], 4)[:, :, :3]
    expected = _python(rgb)
    assert len(expected) >= 7
    assert result["variants"] == expected


def _framed(rng: np.random.Generator) -> list[tuple[str, np.ndarray[Any, Any]]]:
    """Pictures that exercise the working bitmap's resize and every branch of the trim."""
    y, x = np.mgrid[0:700, 0:1000]
    photo = np.stack(
        [
            (128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)),
            (128 + 90 * np.cos(x / 17.0 + y / 41.0)),
            (128 + 80 * np.sin((x + 2 * y) / 29.0)),
        ],
        axis=-1,
    )
    photo = np.clip(photo + rng.normal(0, 6, photo.shape), 0, 255).astype(np.uint8)
    letterbox = np.zeros((980, 1000, 3), np.uint8)
    letterbox[140:840] = photo
    screenshot = np.full((950, 1100, 3), 246, np.uint8)
    screenshot[:70] = 28
    screenshot[120:820, 50:1050] = photo
    noisy_bar = photo.copy()
    noisy_bar[-120:] = 255
    noisy_bar[-60:-50, 100:900] = 0  # a line of "text": the rows around it are not flat
    return [
        ("photo 1000x700", photo),
        ("letterbox", letterbox),
        ("screenshot", screenshot),
        ("caption bar with text", noisy_bar),
        ("odd size 777x513", photo[:513, :777]),
        (
            "portrait 523x1001",
            np.ascontiguousarray(np.rot90(np.vstack([photo, photo]))[:1001, :523]),
        ),
        ("small 300x200 (kept as is)", photo[:200, :300]),
        ("flat grey", np.full((600, 800, 3), 120, np.uint8)),
    ]


def test_synthetic_pixels_same_bitmap_box_and_variants(page: Any, server: Any) -> None:
    page.goto(f"{server.base_url}/")
    rng = np.random.default_rng(20261123)
    for label, rgb in _framed(rng):
        height, width, _ = rgb.shape
        answer = page.evaluate(
            ENROL_PIXELS_JS, {"rgba": _rgba(rgb), "width": width, "height": height}
        )
        bitmap = working_bitmap(np.ascontiguousarray(rgb))
        js_bitmap = np.frombuffer(base64.b64decode(answer["bitmap"]), dtype=np.uint8)
        js_bitmap = js_bitmap.reshape(answer["height"], answer["width"], 4)[:, :, :3]
        assert np.array_equal(js_bitmap, bitmap), label
        box = flat_border_box(bitmap)
        expected_box = (
            None
            if box is None
            else {"top": box.top, "bottom": box.bottom, "left": box.left, "right": box.right}
        )
        assert answer["box"] == expected_box, label
        assert answer["variants"] == _python(rgb), label
    # The frames were found (the test would prove little if no trim were ever made).
    kinds = page.evaluate(
        ENROL_PIXELS_JS,
        {"rgba": _rgba(_framed(rng)[2][1]), "width": 1100, "height": 950},
    )["variants"]
    assert "trim" in [v["kind"] for v in kinds]


def test_worker_enrols_a_12mp_photo_like_the_python_library(
    testdata: Path, page: Any, server: Any, tmp_path: Path
) -> None:
    """The worker decodes a 12 MP JPEG at 1/4 scale (the JPEG decoder's own scaling, as Pillow's
    draft mode does), makes the working bitmap and enrols it: the Python library's hashes."""
    from PIL import Image

    import openncii

    big = tmp_path / "castle-12mp.jpg"
    with Image.open(testdata / "photos" / "scratch_castle.jpg") as image:
        image.convert("RGB").resize((4032, 3024), Image.Resampling.BILINEAR).save(big, quality=90)
    serve_test_files(page, {big.name: big.read_bytes()})
    page.goto(f"{server.base_url}/")
    answer = page.evaluate(WORKER_ENROL_JS, [big.name])[big.name]
    assert answer["type"] == "variants", answer
    assert (answer["width"], answer["height"]) == (1008, 756)
    expected = openncii.enroll_file(big)
    assert [v["kind"] for v in answer["variants"]] == [v.kind.value for v in expected]
    worst = max(
        hamming_distance(v["hex"], e.hex) for v, e in zip(answer["variants"], expected, strict=True)
    )
    assert worst <= 2


def test_worker_turns_jpegs_upright_like_the_python_library(
    testdata: Path, page: Any, server: Any, tmp_path: Path
) -> None:
    """The worker copies a JPEG's decoded pixels out of the decoder's frame and applies the EXIF
    orientation itself (rotation, then mirror): every orientation gives the Python library's
    hashes (which a wrongly turned picture would miss by ~128 bits)."""
    from PIL import Image

    import openncii

    names = []
    with Image.open(testdata / "photos" / "scratch_castle.jpg") as image:
        picture = image.convert("RGB").resize((2048, 1536), Image.Resampling.BILINEAR)
    for orientation in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        path = tmp_path / f"castle-orientation-{orientation}.jpg"
        picture.save(path, quality=90, exif=exif.tobytes())
        names.append(path.name)
    serve_test_files(page, {name: (tmp_path / name).read_bytes() for name in names})
    page.goto(f"{server.base_url}/")
    answers = page.evaluate(WORKER_ENROL_JS, names)
    for orientation, name in enumerate(names, start=1):
        answer = answers[name]
        assert answer["type"] == "variants", (name, answer)
        size = (1024, 768) if orientation < 5 else (768, 1024)
        assert (answer["width"], answer["height"]) == size, name
        expected = openncii.enroll_file(tmp_path / name)
        assert [v["kind"] for v in answer["variants"]] == [v.kind.value for v in expected], name
        worst = max(
            hamming_distance(v["hex"], e.hex)
            for v, e in zip(answer["variants"], expected, strict=True)
        )
        assert worst <= 2, (name, worst)

"""The JavaScript PDQ gives exactly the Python hash on the same pixels, and stays within 10 bits
of Meta's reference hashes on files decoded by the browser."""

from __future__ import annotations

import base64
import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from openncii.signals.pdq import _dct_matrix, hamming_distance, pdq_from_rgb

from .harness import WORKER_HASH_JS, serve_test_files

pytestmark = pytest.mark.browser

#: Decode a file in the page (as the app does: no colour conversion, EXIF orientation applied,
#: decoded smaller when it is big), hash its pixels on the main thread and in the worker, and
#: hand the very same RGBA pixels back.
PIXELS_FROM_FILE_JS = """async ({name, shortSide}) => {
    const { pdqFromRGBA } = await import('/js/pdq.js');
    const blob = await (await fetch('/__test__/' + name)).blob();
    const options = {colorSpaceConversion: 'none', imageOrientation: 'from-image'};
    let bitmap = await createImageBitmap(blob, options);
    if (shortSide && Math.min(bitmap.width, bitmap.height) > shortSide) {
        const s = shortSide / Math.min(bitmap.width, bitmap.height);
        const smaller = await createImageBitmap(bitmap, {resizeWidth: Math.round(bitmap.width * s),
            resizeHeight: Math.round(bitmap.height * s), resizeQuality: 'medium'});
        bitmap.close();
        bitmap = smaller;
    }
    const {width, height} = bitmap;
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    ctx.drawImage(bitmap, 0, 0);
    const pixels = ctx.getImageData(0, 0, width, height).data;
    const main = pdqFromRGBA(pixels, width, height);
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    const viaWorker = await new Promise((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage({type: 'pixels', id: 7, rgba: pixels, width, height});
    });
    worker.terminate();
    let binary = '';
    for (let i = 0; i < pixels.length; i += 0x8000) {
        binary += String.fromCharCode.apply(null, pixels.subarray(i, i + 0x8000));
    }
    return {width, height, hex: main.hex, quality: main.quality,
            workerHex: viaWorker.pdq, workerQuality: viaWorker.quality, rgba: btoa(binary)};
}"""

#: Hash RGBA pixels handed in by the test (base64), in the worker.
HASH_PIXELS_JS = """async ({rgba, width, height}) => {
    const binary = atob(rgba);
    const pixels = new Uint8ClampedArray(binary.length);
    for (let i = 0; i < binary.length; i++) pixels[i] = binary.charCodeAt(i);
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    const answer = await new Promise((resolve) => {
        worker.onmessage = (event) => resolve(event.data);
        worker.postMessage({type: 'pixels', id: 1, rgba: pixels, width, height});
    });
    worker.terminate();
    return answer;
}"""

PHOTOS = [
    "photos/skimage_astronaut.jpg",
    "photos/sklearn_china.jpg",
    "photos/scratch_castle.jpg",
    "photos/opencv_baboon.jpg",
    "photos/mate_ladybird.jpg",
    "photos/matplotlib_grace_hopper.jpg",
    "photos/skimage_camera.jpg",
]
PDQ_IMAGES = [
    "threatexchange/pdq/data/bridge-mods/aaa-orig.jpg",
    "threatexchange/pdq/data/reg-test-input/dih/bridge-2-rotate-90.jpg",
    "threatexchange/pdq/data/misc-images/c.png",
    "threatexchange/pdq/data/misc-images/wee.jpg",
    "threatexchange/pdq/data/reg-test-input/labelme-subset/q0003.jpg",
    "threatexchange/pdq/data/reg-test-input/exif-rotn/exif-rotn-6.jpg",
]


def _rgb_from_page(result: dict[str, Any]) -> np.ndarray[Any, Any]:
    raw = np.frombuffer(base64.b64decode(result["rgba"]), dtype=np.uint8)
    return raw.reshape(result["height"], result["width"], 4)[:, :, :3]


def test_dct_table_is_the_python_one(page: Any, server: Any) -> None:
    page.goto(f"{server.base_url}/")
    table = page.evaluate("async () => Array.from((await import('/js/pdq.js')).dctTable())")
    expected = _dct_matrix().ravel()
    assert np.array_equal(np.array(table, dtype=np.float32), expected)


@pytest.mark.parametrize("name", PHOTOS + PDQ_IMAGES)
def test_same_pixels_same_hash(testdata: Path, page: Any, server: Any, name: str) -> None:
    path = testdata / name
    serve_test_files(page, {path.name: path.read_bytes()})
    page.goto(f"{server.base_url}/")
    # Hash big files on a smaller decode as the app does; the small ones at full size.
    result = page.evaluate(PIXELS_FROM_FILE_JS, {"name": path.name, "shortSide": 1024})
    expected = pdq_from_rgb(np.ascontiguousarray(_rgb_from_page(result)))
    assert result["hex"] == expected.hex, (
        f"{name}: {hamming_distance(result['hex'], expected.hex)} bits"
    )
    assert result["quality"] == expected.quality
    assert result["workerHex"] == expected.hex
    assert result["workerQuality"] == expected.quality


def _synthetic_images() -> list[tuple[str, np.ndarray[Any, Any]]]:
    rng = np.random.default_rng(20261122)
    images: list[tuple[str, np.ndarray[Any, Any]]] = []
    for height, width in [(5, 5), (6, 131), (129, 257), (300, 1000), (1001, 67), (4, 100)]:
        images.append(
            (f"noise-{height}x{width}", rng.integers(0, 256, (height, width, 3), np.uint8))
        )
    y, x = np.mgrid[0:480, 0:640]
    gradient = np.stack([x * 255 // 639, y * 255 // 479, (x + y) * 255 // 1118], axis=-1)
    images.append(("gradient-480x640", gradient.astype(np.uint8)))
    blocks = (np.kron(rng.integers(0, 2, (12, 16)), np.ones((40, 40))) * 255).astype(np.uint8)
    images.append(("blocks-480x640", np.repeat(blocks[:, :, None], 3, axis=2)))
    return images


def test_synthetic_pixels_same_hash(page: Any, server: Any) -> None:
    page.goto(f"{server.base_url}/")
    for label, rgb in _synthetic_images():
        height, width, _ = rgb.shape
        rgba = np.concatenate([rgb, np.full((height, width, 1), 255, np.uint8)], axis=2)
        answer = page.evaluate(
            HASH_PIXELS_JS,
            {"rgba": base64.b64encode(rgba.tobytes()).decode(), "width": width, "height": height},
        )
        expected = pdq_from_rgb(rgb)
        assert answer["pdq"] == expected.hex, label
        assert answer["quality"] == expected.quality, label


def _reference_rows(testdata: Path) -> list[dict[str, str]]:
    with (testdata / "threatexchange/pdq/reference-hashes.csv").open(newline="") as f:
        return [row for row in csv.DictReader(f) if int(row["quality"]) >= 80]


def test_files_enrol_as_the_python_library_does(testdata: Path, page: Any, server: Any) -> None:
    """A photo in the person's flow is its robust-matching enrolment (the worker's ``hash``
    message): bit for bit ``openncii.enroll_file`` on the reference images (EXIF rotations,
    PNG, JPEG); its whole-picture hash stays close to the reference's full-resolution one."""
    from openncii import enroll_file

    rows = _reference_rows(testdata)
    assert len(rows) > 40
    files = {
        f"{i}-{Path(row['path']).name}": (testdata / "threatexchange" / row["path"]).read_bytes()
        for i, row in enumerate(rows)
    }
    serve_test_files(page, files)
    page.goto(f"{server.base_url}/")
    answers = page.evaluate(WORKER_HASH_JS, list(files))
    different = []
    distances = {}
    for (name, _), row in zip(files.items(), rows, strict=True):
        answer = answers[name]
        assert answer["type"] == "done", f"{row['path']}: {answer}"
        assert answer["kind"] == "image"
        expected = enroll_file(testdata / "threatexchange" / row["path"])
        sent = [(v["hex"], v["kind"], v["quality"]) for v in answer["variants"]]
        if sent != [(v.hex, v.kind.value, v.quality) for v in expected]:
            different.append(row["path"])
        assert answer["pdq"] == expected[0].hex and expected[0].kind == "full"
        assert answer["quality"] == max(v.quality for v in expected)
        distances[row["path"]] = hamming_distance(answer["pdq"], row["pdq"])
    assert not different, f"not bit-exact with enroll_file: {different}"
    # The working bitmap (512 px) against the reference's full resolution.
    too_far = {path: d for path, d in distances.items() if d > 16}
    assert not too_far, f"more than 16 bits from the reference: {too_far}"


def test_12mp_photo_hashes_like_the_python_library(
    testdata: Path, page: Any, server: Any, tmp_path: Path
) -> None:
    """A 12-megapixel JPEG takes the fast path (decoded at 1/4 scale by the JPEG decoder) and
    gives the Python library's enrolment, bit for bit."""
    from PIL import Image

    from openncii import enroll_file

    big = tmp_path / "castle-12mp.jpg"
    with Image.open(testdata / "photos" / "scratch_castle.jpg") as image:
        image.convert("RGB").resize((4032, 3024), Image.Resampling.BILINEAR).save(big, quality=90)
    serve_test_files(page, {big.name: big.read_bytes()})
    page.goto(f"{server.base_url}/")
    answer = page.evaluate(WORKER_HASH_JS, [big.name])[big.name]
    assert answer["type"] == "done"
    expected = enroll_file(big)
    assert [(v["hex"], v["kind"]) for v in answer["variants"]] == [
        (v.hex, v.kind.value) for v in expected
    ]
    assert answer["pdq"] == expected[0].hex

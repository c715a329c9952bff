"""HEIC photos (what iPhones take) in the browser: decoded by libheif's WebAssembly build,
installed from npm at set-up and served by us, with a fingerprint within 10 bits of the Python
library's for the same file; where the browser cannot load it, a kind word and what to do."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openncii.signals.pdq import hamming_distance
from openncii.testing import ServerProcess, skip_or_fail
from openncii.web import STATIC_DIR

from .test_flow import catalogue
from .test_pages import _to_select_page

pytestmark = pytest.mark.browser

LIBHEIF = STATIC_DIR / "vendor/node_modules/libheif-js/libheif-wasm/libheif-bundle.mjs"
#: A small photo, and one whose short side is above the size the pages shrink photos from.
SOURCES = {"IMG_0001.HEIC": "photos/sklearn_flower.jpg", "IMG_0002.HEIC": "photos/mate_wood.jpg"}


#: In the page: every chosen file has been fingerprinted or left out.
FINISHED_JS = """() => {
    const s = [...document.querySelectorAll('#items li')].map((e) => e.dataset.status);
    return s.length > 0 && s.every((x) => x !== 'queued' && x !== 'hashing');
}"""


def _heic_files(testdata: Path, folder: Path) -> list[Path]:
    """Real HEIC files, encoded by libheif (pillow-heif) from photos of the test data."""
    import pillow_heif
    from PIL import Image

    made = []
    for name, source in SOURCES.items():
        with Image.open(testdata / source) as image:
            heif = pillow_heif.from_pillow(image.convert("RGB"))
        path = folder / name
        heif.save(str(path), quality=85)
        assert path.read_bytes()[4:12] == b"ftypheic"
        made.append(path)
    return made


def test_heic_photos_are_fingerprinted_in_the_browser(
    testdata: Path, tmp_path: Path, page: Any, server: ServerProcess
) -> None:
    if not LIBHEIF.exists():
        skip_or_fail(f"{LIBHEIF} is missing: run `make web-vendor` (npm install libheif-js)")
    from openncii import hash_file

    files = _heic_files(testdata, tmp_path)
    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", [str(f) for f in files])
    page.wait_for_function(FINISHED_JS, timeout=120_000)
    statuses = page.locator("#items li").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses == ["done", "done"], page.locator("#items").inner_text()
    with page.expect_request("**/api/v1/cases") as request:
        page.click("[data-testid=submit-case]")
    photos = json.loads(request.value.post_data)["hashes"]
    assert [photo["type"] for photo in photos] == ["photo", "photo"]
    sent = [next(v["pdq"] for v in photo["variants"] if v["kind"] == "full") for photo in photos]
    assert len(sent) == 2
    for path, value in zip(files, sent, strict=True):
        expected = hash_file(path).pdq
        assert expected is not None
        assert hamming_distance(value, expected) <= 10, (path.name, value, expected)
    page.wait_for_selector("[data-testid=case-number]:visible")


def test_a_browser_that_cannot_load_libheif_says_what_to_do(
    testdata: Path, tmp_path: Path, page: Any, server: ServerProcess
) -> None:
    page.route("**/vendor/**", lambda route: route.fulfill(status=404, body=b""))
    heic = _heic_files(testdata, tmp_path)[0]
    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", str(heic))
    page.wait_for_selector("#items li[data-status=failed]", timeout=60_000)
    status = page.inner_text("#items li .item-status")
    assert status == catalogue("en")["item.heicUnsupported"]

"""MD5 in JavaScript (streamed in slices) and video fingerprints in the hashing worker."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from openncii import hash_file
from openncii.signals.pdq import hamming_distance

from .conftest import WORKER_HASH_JS, require_testdata, serve_test_files

pytestmark = pytest.mark.browser

MD5_JS = """async ({name, chunk}) => {
    const { md5Blob } = await import('/js/md5.js');
    const blob = await (await fetch('/__test__/' + name)).blob();
    const seen = [];
    const hex = await md5Blob(blob, (done, total) => seen.push([done, total]), chunk);
    return {hex, progress: seen};
}"""


def _pattern(size: int) -> bytes:
    return bytes((i * 7 + (i >> 9)) & 0xFF for i in range(size))


SIZES = [0, 1, 55, 56, 63, 64, 65, 1000, 4097, 100_003]
CHUNKS = [1, 61, 4096, 8 << 20]


def test_md5_matches_hashlib(page: Any, server: Any) -> None:
    files = {f"{size}.bin": _pattern(size) for size in SIZES}
    serve_test_files(page, files)
    page.goto(f"{server.url}/")
    for size in SIZES:
        data = files[f"{size}.bin"]
        for chunk in CHUNKS:
            if chunk == 1 and size > 100:
                continue  # byte-by-byte slices of bigger files would only be slow
            result = page.evaluate(MD5_JS, {"name": f"{size}.bin", "chunk": chunk})
            assert result["hex"] == hashlib.md5(data).hexdigest(), (size, chunk)
            if size:
                assert result["progress"][-1] == [size, size]
                assert len(result["progress"]) == -(-size // chunk)


BIG_MD5_JS = """async (size) => {
    const { md5Blob } = await import('/js/md5.js');
    const bytes = new Uint8Array(size);
    for (let i = 0; i < size; i++) bytes[i] = (i * 7 + (i >> 9)) & 0xff;
    let slices = 0;
    const hex = await md5Blob(new Blob([bytes]), () => slices++);
    return {hex, slices};
}"""


def test_md5_of_a_file_bigger_than_one_slice(page: Any, server: Any) -> None:
    size = 21_000_001  # three 8 MB slices, the last one partial and not a multiple of 64
    page.goto(f"{server.url}/")
    result = page.evaluate(BIG_MD5_JS, size)
    data = bytes((i * 7 + (i >> 9)) & 0xFF for i in range(size))
    assert result["hex"] == hashlib.md5(data).hexdigest()
    assert result["slices"] == 3


def test_videos_in_the_worker(page: Any, server: Any) -> None:
    testdata = require_testdata()
    names = ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "tree.avi"]
    files = {name: (testdata / "videos" / name).read_bytes() for name in names}
    serve_test_files(page, files)
    page.goto(f"{server.url}/")
    answers = page.evaluate(WORKER_HASH_JS, names)
    for name in names:
        answer = answers[name]
        assert answer["type"] == "done", answer
        assert answer["kind"] == "video"
        assert answer["md5"] == hashlib.md5(files[name]).hexdigest()
    # H.264 in MP4: one frame per second, close to the Python library's frames at the same time.
    for name in ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4"]:
        answer = answers[name]
        assert answer["decoded"] is True, name
        python = hash_file(testdata / "videos" / name).vpdq
        assert python is not None
        js_frames = answer["frames"]
        assert abs(len(js_frames) - len(python)) <= 1, (name, len(js_frames), len(python))
        for frame in js_frames:
            nearest = min(python, key=lambda p: abs(p.timestamp - frame["timestamp"]))
            assert abs(nearest.timestamp - frame["timestamp"]) < 0.1, (name, frame["timestamp"])
            if frame["quality"] >= 50 and nearest.quality >= 50:
                distance = hamming_distance(frame["pdq"], nearest.pdq)
                assert distance <= 31, (name, frame["timestamp"], distance)
    # Cinepak in AVI: Chromium cannot decode it; the file's MD5 is still there.
    assert answers["tree.avi"]["decoded"] is False
    assert answers["tree.avi"]["frames"] == []


def test_worker_refuses_what_it_cannot_hash(page: Any, server: Any) -> None:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 2, 0, 0, 0)
    huge_png = (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + b"IHDR"
        + ihdr
        + struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
        + b"\x00" * 64
    )
    files = {
        "notes.txt": b"just some words, not a picture\n" * 10,
        "broken.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 200,
        "huge.png": huge_png,
    }
    serve_test_files(page, files)
    page.goto(f"{server.url}/")
    answers = page.evaluate(WORKER_HASH_JS, list(files))
    assert answers["notes.txt"]["type"] == "failed"
    assert answers["notes.txt"]["reason"] == "unsupported"
    assert answers["broken.jpg"] == {
        **answers["broken.jpg"],
        "type": "failed",
        "reason": "unreadable",
    }
    assert answers["huge.png"]["type"] == "failed"
    assert answers["huge.png"]["reason"] == "unreadable"
    assert answers["huge.png"]["ms"] < 5000

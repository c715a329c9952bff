"""MD5 in JavaScript (streamed in slices) and video fingerprints in the hashing worker."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from openncii import hash_file
from openncii.signals.pdq import hamming_distance

from .harness import WORKER_HASH_JS, serve_test_files

pytestmark = pytest.mark.browser

MD5_JS = """async ({name, chunk}) => {
    const { md5Blob } = await import('/js/md5.js');
    const blob = await (await fetch('/__test__/' + name)).blob();
    const seen = [];
    const hex = await md5Blob(blob, (done, total) => seen.push([done, total]), chunk);
    return {hex, progress: seen};
}"""

#: The same through the fallback for browsers whose blob streams have no BYOB reader.
MD5_SLICES_JS = """async ({name, chunk}) => {
    const { md5Blob } = await import('/js/md5.js');
    const blob = await (await fetch('/__test__/' + name)).blob();
    blob.stream = () => ({ getReader() { throw new TypeError('no byob'); } });
    const seen = [];
    const hex = await md5Blob(blob, (done, total) => seen.push([done, total]), chunk);
    return {hex, progress: seen};
}"""


def _random_bytes(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


#: Padding edges (55/56 bytes fit one block, 64 starts a second), block and slice boundaries.
SIZES = [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4095, 4096, 4097, 100_003]
CHUNKS = [1, 61, 64, 4096, 8 << 20]


def _check(result: dict[str, Any], data: bytes, chunk: int, what: object) -> None:
    assert result["hex"] == hashlib.md5(data).hexdigest(), what
    if data:
        assert result["progress"][-1] == [len(data), len(data)], what
        assert len(result["progress"]) == -(-len(data) // chunk), what
    else:
        assert result["progress"] == [], what


@pytest.mark.parametrize("script", [MD5_JS, MD5_SLICES_JS], ids=["byob-stream", "slices"])
def test_md5_matches_hashlib(page: Any, server: Any, script: str) -> None:
    files = {f"{size}.bin": _random_bytes(size, size) for size in SIZES}
    serve_test_files(page, files)
    page.goto(f"{server.base_url}/")
    for size in SIZES:
        data = files[f"{size}.bin"]
        for chunk in CHUNKS:
            if chunk == 1 and size > 130:
                continue  # byte-by-byte slices of bigger files would only be slow
            result = page.evaluate(script, {"name": f"{size}.bin", "chunk": chunk})
            _check(result, data, chunk, (size, chunk))


def test_md5_on_random_sizes_and_slices(page: Any, server: Any) -> None:
    rng = random.Random(20261122)
    cases = [(rng.randrange(0, 300_000), 64 * rng.randrange(1, 300) + rng.choice([0, 0, 1, 13]))]
    cases += [(rng.randrange(0, 3000), rng.randrange(1, 200)) for _ in range(10)]
    cases += [(rng.randrange(0, 300_000), 64 * rng.randrange(1, 500)) for _ in range(10)]
    files = {f"r{i}.bin": _random_bytes(size, i) for i, (size, _) in enumerate(cases)}
    serve_test_files(page, files)
    page.goto(f"{server.base_url}/")
    for i, (size, chunk) in enumerate(cases):
        result = page.evaluate(MD5_JS, {"name": f"r{i}.bin", "chunk": chunk})
        _check(result, files[f"r{i}.bin"], chunk, (size, chunk))


#: In the page: the app's worker hashes the files picked in an <input type=file> (files on disk,
#: as a person's video is), answering with their MD5 and how many progress messages it sent.
WORKER_MD5_JS = """async () => {
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    const out = {};
    try {
        for (const file of document.querySelector('#md5-files').files) {
            let progress = 0;
            out[file.name] = await new Promise((resolve) => {
                worker.onmessage = (event) => {
                    const m = event.data;
                    if (m.type === 'progress') progress++;
                    if (m.type === 'done' || m.type === 'failed') {
                        if (m.thumb) m.thumb.close();
                        resolve({type: m.type, md5: m.md5 || null, progress});
                    }
                };
                worker.postMessage({type: 'hash', id: 1, file});
            });
        }
    } finally {
        worker.terminate();
    }
    return out;
}"""


def test_md5_of_files_on_disk_across_slices(page: Any, server: Any, tmp_path: Path) -> None:
    """Multi-megabyte files on disk, of sizes around the worker's 2 MB slices, through the
    worker exactly as a picked video goes (random bytes behind a video file's first bytes)."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    slice_size = 2 << 20
    sizes = [2 * slice_size - 1, 2 * slice_size, 2 * slice_size + 1, 5 * slice_size + 12_345]
    paths = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"video{i}.mp4"
        path.write_bytes(head + _random_bytes(size - len(head), 100 + i))
        paths.append(path)
    page.goto(f"{server.base_url}/")
    page.evaluate(
        """() => { const i = document.createElement('input'); i.type = 'file';
            i.multiple = true; i.id = 'md5-files'; document.body.append(i); }"""
    )
    page.set_input_files("#md5-files", [str(p) for p in paths])
    answers = page.evaluate(WORKER_MD5_JS)
    for path, size in zip(paths, sizes, strict=True):
        answer = answers[path.name]
        assert answer["type"] == "done", answer
        assert answer["md5"] == hashlib.md5(path.read_bytes()).hexdigest(), size
        # At most one progress message per slice (and a few for the frames), never per read.
        assert answer["progress"] <= -(-size // slice_size) + 3, answer


def test_videos_in_the_worker(testdata: Path, page: Any, server: Any) -> None:
    names = ["bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4", "tree.avi"]
    files = {name: (testdata / "videos" / name).read_bytes() for name in names}
    serve_test_files(page, files)
    page.goto(f"{server.base_url}/")
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
    page.goto(f"{server.base_url}/")
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

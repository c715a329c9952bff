"""Benchmark: hashing in headless Chromium (the web app's worker) against the Python library.

Same files, same run:

- 12-megapixel JPEGs (the photos of ``../shared/testdata/photos`` upscaled with Lanczos to
  cover 4032 x 3024 and saved at JPEG quality 90, cached in ``bench/.cache/browser-12mp``):
  the browser's time per photo is everything the app's worker does for a picked file (sniffing,
  header probe, decode at reduced scale with ``createImageBitmap``, pixels, PDQ, thumbnail),
  measured in the page from ``postMessage`` to the answer; Python's is ``openncii.hash_file``.
- A 100 MB video file (``bench/.cache/browser-video-100mb.mp4``, a real MP4 padded with
  pseudo-random bytes): the worker's MD5, read in 8 MB slices (timed up to its last MD5 progress
  message), against ``openncii.signals.md5.md5_file``.

While the worker hashes, a timer on the page's main thread ticks every 10 ms; the longest gap
between ticks shows whether the page stayed responsive.

Files reach the page through an ``<input type=file>`` (Playwright hands over the paths, as a
person picking files would), never through the network.

Run: ``.venv/bin/python bench/browser.py [--photos N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import openncii

# Run as a script, bench/ is on sys.path: the 12 MP maker is shared with bench/hashing.py.
from hashing import make_12mp
from openncii.signals.md5 import md5_file

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
VIDEO_SOURCE = ROOT.parent / "shared" / "testdata" / "videos" / "bigbuckbunny.mp4"
CACHE = ROOT / "bench" / ".cache" / "browser-12mp"
VIDEO = ROOT / "bench" / ".cache" / "browser-video-100mb.mp4"
VIDEO_BYTES = 100 * 1000 * 1000
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

#: In the page: hash the input's files one by one in the app's worker, timing each, while a
#: main-thread timer measures the longest gap between its ticks.
HASH_FILES_JS = """async ({selector, rounds}) => {
    const files = [...document.querySelector(selector).files];
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    let last = performance.now(), longest = 0;
    const ticker = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
    }, 10);
    const results = [];
    try {
        for (let round = 0; round < rounds; round++) {
            for (const file of files) {
                const t0 = performance.now();
                let md5Done = null;
                const answer = await new Promise((resolve) => {
                    worker.onmessage = (event) => {
                        const m = event.data;
                        if (m.type === 'progress' && m.fraction <= 0.5) md5Done = performance.now();
                        if (m.type === 'done' || m.type === 'failed') resolve(m);
                    };
                    worker.postMessage({type: 'hash', id: round, file});
                });
                const ms = performance.now() - t0;
                if (answer.thumb) answer.thumb.close();
                results.push({name: file.name, size: file.size, round, ms,
                              md5Ms: md5Done === null ? null : md5Done - t0,
                              type: answer.type, pdq: answer.pdq || null, md5: answer.md5 || null,
                              frames: answer.frames ? answer.frames.length : null});
            }
        }
    } finally {
        clearInterval(ticker);
        worker.terminate();
    }
    return {results, longestGapMs: longest};
}"""


def make_video() -> Path:
    """A real MP4 followed by pseudo-random padding up to 100 MB (MD5 reads every byte)."""
    if not VIDEO.exists() or VIDEO.stat().st_size != VIDEO_BYTES:
        VIDEO.parent.mkdir(parents=True, exist_ok=True)
        head = VIDEO_SOURCE.read_bytes()
        with VIDEO.open("wb") as out:
            out.write(head)
            left = VIDEO_BYTES - len(head)
            block = os.urandom(1 << 20)
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
    return VIDEO


def start_server() -> tuple[subprocess.Popen[bytes], str]:
    import socket
    import tempfile

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    folder = Path(tempfile.mkdtemp(prefix="openncii-bench-"))
    executable = Path(sys.executable).with_name("openncii")
    process = subprocess.Popen(
        [
            str(executable),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{folder / 'bench.sqlite3'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=1):
                return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("openncii serve did not start")


def browser_hash(url: str, files: list[Path], rounds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{url}/")
            page.evaluate(
                """() => { const i = document.createElement('input'); i.type = 'file';
                    i.multiple = true; i.id = 'bench-files'; document.body.append(i); }"""
            )
            page.set_input_files("#bench-files", [str(f) for f in files])
            result: dict[str, Any] = page.evaluate(
                HASH_FILES_JS, {"selector": "#bench-files", "rounds": rounds}
            )
        finally:
            browser.close()
    return result


def python_times(fn: Any, files: list[Path], rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {f.name: [] for f in files}
    for _ in range(rounds):
        for f in files:
            start = time.perf_counter()
            fn(f)
            times[f.name].append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="12 MP photos (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (default 3)")
    args = parser.parse_args()

    sources = sorted(PHOTOS.glob("*.jpg"))[:: max(1, len(sorted(PHOTOS.glob("*.jpg"))) // 40)]
    photos = make_12mp(sources[: args.photos], CACHE)
    video = make_video()
    process, url = start_server()
    try:
        # One untimed round warms the browser's caches and JIT, as a person's second photo would.
        browser = browser_hash(url, photos, args.rounds + 1)
        video_run = browser_hash(url, [video], args.rounds)
    finally:
        process.terminate()
        process.wait(timeout=10)

    js = [r for r in browser["results"] if r["round"] > 0]
    js_by_file: dict[str, list[float]] = {}
    for r in js:
        assert r["type"] == "done", r
        js_by_file.setdefault(r["name"], []).append(r["ms"])
    openncii.hash_file(photos[0])  # warm-up
    py_by_file = python_times(openncii.hash_file, photos, args.rounds)
    js_medians = [statistics.median(v) for v in js_by_file.values()]
    py_medians = [statistics.median(v) for v in py_by_file.values()]
    drift = []
    for r in js:
        expected = openncii.hash_file(CACHE / r["name"]).pdq
        assert expected is not None
        drift.append(int.bit_count(int(r["pdq"], 16) ^ int(expected, 16)))

    md5_js = [r["md5Ms"] for r in video_run["results"]]
    md5_total = [r["ms"] for r in video_run["results"]]
    assert all(r["md5"] == md5_file(video) for r in video_run["results"])
    md5_py = python_times(md5_file, [video], args.rounds)[video.name]
    mb = VIDEO_BYTES / 1e6

    print(f"12 MP JPEG photos: {len(photos)} files x {args.rounds} rounds")
    print("| what | browser (worker) | Python library |")
    print("|---|---:|---:|")
    print(
        f"| 12 MP JPEG, median per photo (ms) | {statistics.median(js_medians):.0f} "
        f"(worst file {max(js_medians):.0f}) | {statistics.median(py_medians):.0f} "
        f"(worst file {max(py_medians):.0f}) |"
    )
    print(
        f"| PDQ drift browser vs Python, median / max (bits) | "
        f"{statistics.median(drift):.0f} / {max(drift)} | 0 |"
    )
    print(
        f"| 100 MB video, MD5 (MB/s) | {mb / (statistics.median(md5_js) / 1000):.0f} "
        f"| {mb / (statistics.median(md5_py) / 1000):.0f} |"
    )
    print(
        f"| 100 MB video, MD5 + vPDQ of its 5 s of frames (ms) | "
        f"{statistics.median(md5_total):.0f} | - |"
    )
    print(
        f"| longest main-thread gap while hashing (ms; timer every 10 ms) | photos "
        f"{browser['longestGapMs']:.0f}, video {video_run['longestGapMs']:.0f} | - |"
    )


if __name__ == "__main__":
    main()

"""Benchmark: hashing in headless Chromium (the web app's worker) against the Python library.

Same files, same run, interleaved round by round (browser, then Python, on the same files), so
that both meet the same load on a shared machine:

- 12-megapixel JPEGs (the photos of ``../shared/testdata/photos`` upscaled with Lanczos to
  cover 4032 x 3024 and saved at JPEG quality 90, cached in ``bench/.cache/browser-12mp``):
  the browser's time per photo is everything the app's worker does for a picked file (sniffing,
  header probe, decode at reduced scale, pixels, PDQ, thumbnail), measured in the page from
  ``postMessage`` to the answer, in one worker kept across rounds as the app keeps its workers;
  Python's is ``openncii.hash_file``.
- A 100 MB video file (``bench/.cache/browser-video-100mb.mp4``, a real MP4 padded with
  pseudo-random bytes): the worker's MD5, timed from ``postMessage`` to its progress message
  at one half (sent when the MD5 is done), in a fresh worker each round, as a person's first
  video meets it (module loaded, MD5 code not yet compiled by the JIT); Python's is
  ``openncii.signals.md5.md5_file``.
- The app itself: the person's page at the file step, all the photos and the video picked at
  once in ``data-testid=file-input``, timed until ``submit-case`` is enabled (page load and the
  eligibility step excluded).

Round 0 is an untimed warm-up (browser caches, the OS file cache, Python's imports); the
figures are medians of the timed rounds.

Responsiveness: during every browser measurement the page's main thread runs a 10 ms
``setInterval`` heartbeat and a ``requestAnimationFrame`` loop, and ``PerformanceObserver``s
record long tasks (main-thread tasks over 50 ms) and long animation frames (over 50 ms, with the
scripts that ran in them). The longest heartbeat gap is what a person would feel; it includes
the machine not scheduling the browser at all, which on a loaded machine shows as long frames
in which no script ran. A long frame with a script in it would be page code blocking.

Files reach the page through an ``<input type=file>`` (Playwright hands over the paths, as a
person picking files would), never through the network.

Run: ``.venv/bin/python bench/browser.py [--photos N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openncii

# Run as a script, bench/ is on sys.path: the 12 MP maker is shared with bench/hashing.py.
from hashing import make_12mp
from openncii.signals.md5 import md5_file
from openncii.testing import CHROMIUM, CHROMIUM_ARGS, start_server

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
VIDEO_SOURCE = ROOT.parent / "shared" / "testdata" / "videos" / "bigbuckbunny.mp4"
CACHE = ROOT / "bench" / ".cache" / "browser-12mp"
VIDEO = ROOT / "bench" / ".cache" / "browser-video-100mb.mp4"
VIDEO_BYTES = 100 * 1000 * 1000
QUESTIONS = ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"]

#: In the page: start the main-thread probes (heartbeat, animation frames, long tasks).
PROBE_START_JS = """() => {
    const probe = {beat: 0, frame: 0, longTasks: [], stop: null};
    let lastBeat = performance.now(), lastFrame = null, running = true;
    const ticker = setInterval(() => {
        const now = performance.now();
        probe.beat = Math.max(probe.beat, now - lastBeat);
        lastBeat = now;
    }, 10);
    const onFrame = (now) => {
        if (lastFrame !== null) probe.frame = Math.max(probe.frame, now - lastFrame);
        lastFrame = now;
        if (running) requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
    const observer = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) probe.longTasks.push(entry.duration);
    });
    observer.observe({type: 'longtask'});
    // Long animation frames name the scripts that ran in them (ours, or none at all when the
    // machine simply did not schedule the page).
    probe.frames = [];
    const frames = new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) {
            probe.frames.push({ms: entry.duration, blocking: entry.blockingDuration,
                scripts: entry.scripts.map((s) => `${s.invoker} ${Math.round(s.duration)} ms`)});
        }
    });
    frames.observe({type: 'long-animation-frame'});
    probe.stop = () => {
        const now = performance.now();
        probe.beat = Math.max(probe.beat, now - lastBeat);
        running = false;
        clearInterval(ticker);
        for (const entry of observer.takeRecords()) probe.longTasks.push(entry.duration);
        observer.disconnect();
        for (const entry of frames.takeRecords()) {
            probe.frames.push({ms: entry.duration, blocking: entry.blockingDuration,
                scripts: entry.scripts.map((s) => `${s.invoker} ${Math.round(s.duration)} ms`)});
        }
        frames.disconnect();
        return {beatMs: probe.beat, frameMs: probe.frame, longTasks: probe.longTasks,
                longFrames: probe.frames};
    };
    window.__probe = probe;
}"""

PROBE_STOP_JS = "() => window.__probe.stop()"

#: In the app's page: the time from the files being picked to the send button being enabled.
APP_CLOCK_JS = """() => {
    const clock = {start: null, ms: null};
    const input = document.querySelector('[data-testid=file-input]');
    const button = document.querySelector('[data-testid=submit-case]');
    input.addEventListener('change', () => { clock.start = performance.now(); }, {capture: true});
    const observer = new MutationObserver(() => {
        if (!button.disabled && clock.start !== null && clock.ms === null) {
            clock.ms = performance.now() - clock.start;
            observer.disconnect();
        }
    });
    observer.observe(button, {attributes: true});
    window.__clock = clock;
}"""

#: In the page: hash the input's files one by one in the app's worker, timing each. The worker
#: for these files is kept in the page across calls unless `fresh`; a fresh one is made ready
#: (module loaded) before the clock starts.
HASH_FILES_JS = """async ({selector, fresh}) => {
    const files = [...document.querySelector(selector).files];
    const workers = window.__workers || (window.__workers = {});
    if (fresh && workers[selector]) { workers[selector].terminate(); workers[selector] = null; }
    if (!workers[selector]) {
        const worker = new Worker('/js/hash-worker.js', {type: 'module'});
        await new Promise((resolve) => {
            worker.onmessage = resolve;
            const rgba = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i * 37) & 255);
            worker.postMessage({type: 'pixels', id: 0, rgba, width: 64, height: 64});
        });
        workers[selector] = worker;
    }
    const worker = workers[selector];
    const results = [];
    for (const file of files) {
        const t0 = performance.now();
        let md5Done = null;
        const answer = await new Promise((resolve) => {
            worker.onmessage = (event) => {
                const m = event.data;
                if (m.type === 'progress' && m.fraction >= 0.5 && md5Done === null) {
                    md5Done = performance.now();
                }
                if (m.type === 'done' || m.type === 'failed') resolve(m);
            };
            worker.postMessage({type: 'hash', id: 1, file});
        });
        const ms = performance.now() - t0;
        if (answer.thumb) answer.thumb.close();
        results.push({name: file.name, ms, md5Ms: md5Done === null ? null : md5Done - t0,
                      type: answer.type, pdq: answer.pdq || null, md5: answer.md5 || null});
    }
    return results;
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


@contextmanager
def serve() -> Iterator[str]:
    """``openncii serve`` on a fresh SQLite database; its address."""
    folder = Path(tempfile.mkdtemp(prefix="openncii-bench-"))
    with start_server(
        f"sqlite:///{folder / 'bench.sqlite3'}", fast=False, log_dir=folder
    ) as server:
        yield server.base_url


def add_input(page: Any, element_id: str, files: list[Path]) -> str:
    page.evaluate(
        """(id) => { const i = document.createElement('input'); i.type = 'file';
            i.multiple = true; i.id = id; document.body.append(i); }""",
        element_id,
    )
    page.set_input_files(f"#{element_id}", [str(f) for f in files])
    return f"#{element_id}"


def in_page(page: Any, script: str, arg: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Run `script` in the page with the main-thread probes on; its result and the probes'."""
    page.evaluate(PROBE_START_JS)
    result = page.evaluate(script, arg)
    probe: dict[str, Any] = page.evaluate(PROBE_STOP_JS)
    return result, probe


def app_round(page: Any, url: str, files: list[Path], n: int) -> tuple[float, dict[str, Any]]:
    """The person's page (loaded afresh): pick every file at once; seconds until the case can
    be sent."""
    page.goto(f"{url}/?lang=en&round={n}#/")
    page.wait_for_selector("body[data-ready='true']")
    page.click("[data-testid=start]")
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}]")
    page.click("[data-testid=eligibility-continue]")
    page.wait_for_selector("[data-testid=file-input]:visible")
    page.evaluate(PROBE_START_JS)
    page.evaluate(APP_CLOCK_JS)
    page.set_input_files("[data-testid=file-input]", [str(f) for f in files])
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=300_000)
    seconds: float = page.evaluate("() => window.__clock.ms") / 1000
    probe: dict[str, Any] = page.evaluate(PROBE_STOP_JS)
    statuses = page.locator("#items li").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses == ["done"] * len(files), statuses
    return seconds, probe


def serve_js_from(context: Any, rev: str) -> None:
    """Answer the app's ``/js/*.js`` (page and workers) with the files at git revision `rev`."""
    folder = "src/openncii/web/static/js"
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:{folder}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    files = {
        name: subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{folder}/{name}"],
            check=True,
            capture_output=True,
        ).stdout
        for name in names
    }

    def handle(route: Any) -> None:
        name = route.request.url.split("?")[0].rsplit("/js/", 1)[1]
        if name in files:
            route.fulfill(body=files[name], content_type="text/javascript")
        else:
            route.continue_()

    context.route("**/js/*.js", handle)


def timed(fn: Callable[[Path], Any], path: Path) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn(path)
    return (time.perf_counter() - start) * 1000, result


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="12 MP photos (default 8)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--no-app", action="store_true", help="skip the whole-page rounds")
    parser.add_argument(
        "--js-from",
        metavar="REV",
        help="serve the web app's js/ files as they were at this git revision (before/after)",
    )
    args = parser.parse_args()

    every = sorted(PHOTOS.glob("*.jpg"))
    photos = make_12mp(every[:: max(1, len(every) // 40)][: args.photos], CACHE)
    video = make_video()
    video_md5 = md5_file(video)
    load_start = load()

    js_photo: dict[str, list[float]] = {f.name: [] for f in photos}
    py_photo: dict[str, list[float]] = {f.name: [] for f in photos}
    js_md5: list[float] = []
    js_md5_first = 0.0
    js_video: list[float] = []
    py_md5: list[float] = []
    app_seconds: list[float] = []
    probes: dict[str, list[dict[str, Any]]] = {"photos": [], "video": [], "app": []}
    drift: list[int] = []

    with serve() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context()
            if args.js_from:
                serve_js_from(context, args.js_from)
            page = context.new_page()
            page.goto(f"{url}/")
            photo_input = add_input(page, "bench-photos", photos)
            video_input = add_input(page, "bench-video", [video])
            app_page = context.new_page()
            for round_ in range(args.rounds + 1):
                timed_round = round_ > 0
                # Photos: the browser, then Python, on the same files.
                results, probe = in_page(
                    page, HASH_FILES_JS, {"selector": photo_input, "fresh": False}
                )
                for r in results:
                    assert r["type"] == "done", r
                    ms, py = timed(openncii.hash_file, CACHE / r["name"])
                    drift.append(int.bit_count(int(r["pdq"], 16) ^ int(py.pdq, 16)))
                    if timed_round:
                        js_photo[r["name"]].append(r["ms"])
                        py_photo[r["name"]].append(ms)
                if timed_round:
                    probes["photos"].append(probe)
                # The video's MD5, in a fresh worker.
                results, probe = in_page(
                    page, HASH_FILES_JS, {"selector": video_input, "fresh": True}
                )
                assert results[0]["md5"] == video_md5, results[0]
                ms, digest = timed(md5_file, video)
                assert digest == video_md5
                if timed_round:
                    js_md5.append(results[0]["md5Ms"])
                    js_video.append(results[0]["ms"])
                    py_md5.append(ms)
                    probes["video"].append(probe)
                else:
                    js_md5_first = results[0]["md5Ms"]
                # The whole page, every file picked at once.
                if not args.no_app:
                    seconds, probe = app_round(app_page, url, [*photos, video], round_)
                    if timed_round:
                        app_seconds.append(seconds)
                        probes["app"].append(probe)
        finally:
            browser.close()
    load_end = load()

    med = statistics.median
    js_medians = [med(v) for v in js_photo.values()]
    py_medians = [med(v) for v in py_photo.values()]
    mb = VIDEO_BYTES / 1e6
    js_rate = [mb / (ms / 1000) for ms in js_md5]
    py_rate = [mb / (ms / 1000) for ms in py_md5]

    def gaps(kind: str) -> str:
        rounds = probes[kind]
        if not rounds:
            return "-"
        beat = [r["beatMs"] for r in rounds]
        frame = [r["frameMs"] for r in rounds]
        tasks = [t for r in rounds for t in r["longTasks"]]
        longest_task = f" (longest {max(tasks):.0f})" if tasks else ""
        scripted = [f for r in rounds for f in r["longFrames"] if f["scripts"]]
        return (
            f"{med(beat):.0f} / {max(beat):.0f} | {med(frame):.0f} / {max(frame):.0f} "
            f"| {len(tasks)}{longest_task} | {len(scripted)} |"
        )

    print(
        f"{len(photos)} photos of 12 MP, a 100 MB video; {args.rounds} timed rounds after a "
        f"warm-up; load average (1/5/15 min) {load_start} at the start, {load_end} at the end"
    )
    print()
    print("| what | browser (worker) | Python library | browser / Python |")
    print("|---|---:|---:|---:|")
    print(
        f"| 12 MP JPEG, median per photo (ms) | {med(js_medians):.0f} "
        f"(worst file {max(js_medians):.0f}) | {med(py_medians):.0f} "
        f"(worst file {max(py_medians):.0f}) | {med(js_medians) / med(py_medians):.2f} |"
    )
    print(
        "| PDQ drift browser vs Python, median / max (bits) | "
        f"{med(drift):.0f} / {max(drift)} | - | - |"
    )
    print(
        f"| 100 MB video, MD5, median (MB/s) | {med(js_rate):.0f} "
        f"(slowest round {min(js_rate):.0f}) | {med(py_rate):.0f} "
        f"(slowest round {min(py_rate):.0f}) | {med(js_rate) / med(py_rate):.2f} |"
    )
    print(
        "| 100 MB video, MD5 in the warm-up round (MB/s) | "
        f"{mb / (js_md5_first / 1000):.0f} | - | - |"
    )
    print(
        "| 100 MB video, MD5 then vPDQ of its 5 s of frames, median (ms) | "
        f"{med(js_video):.0f} | - | - |"
    )
    if app_seconds:
        print(
            f"| the app: {len(photos)} photos + the video picked at once, until "
            f"submit is enabled (s) | {med(app_seconds):.2f} (slowest {max(app_seconds):.2f}) "
            "| - | - |"
        )
    print()
    print(
        "| main thread while hashing | heartbeat gap, median / max (ms) "
        "| animation frame gap, median / max (ms) | long tasks (ms) "
        "| long frames with a script running |"
    )
    print("|---|---:|---:|---:|---:|")
    print(f"| photos (worker) | {gaps('photos')}")
    print(f"| video MD5 (worker) | {gaps('video')}")
    if app_seconds:
        print(f"| the app, every file at once | {gaps('app')}")


if __name__ == "__main__":
    main()

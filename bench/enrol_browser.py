"""Benchmark: robust-matching enrolment of 12 MP photos in the browser against the Python library.

Browser: the hashing worker's ``variants`` message (``web/static/js/hash-worker.js`` ->
``variants.js``) in headless Debian Chromium: sniffing, header probe, JPEG decode at 1/4 scale
by WebCodecs' ``ImageDecoder``, pixels, the working bitmap (exact area average to 512 px),
and the 8-10 PDQ hashes; timed in the page from ``postMessage`` to the answer, one worker kept
across rounds. The plain PDQ hash of the same file (the worker's ``plain`` message: the same
decode and pixels, one PDQ hash of them, what the app did before robust matching) is timed
beside it, file by file. With ``--js-from REV``, a second page whose ``js/`` files are those of
git revision REV enrols the same files in the same rounds (before/after in one run). Python:
``openncii.enroll_file`` and ``openncii.hash_file`` on the same files, interleaved round by
round. Files: photos of ``../shared/testdata/photos``
upscaled (Lanczos) to cover 4032 x 3024, JPEG quality 90 (``bench/.cache/browser-12mp``, shared
with ``bench/browser.py``). One warm-up round, then medians of the timed rounds. Files reach
the page through an ``<input type=file>``.

Run: ``.venv/bin/python bench/enrol_browser.py [--photos N] [--rounds R] [--js-from REV]``
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

import openncii

# Run as a script, bench/ is on sys.path.
from browser import (
    CACHE,
    CHROMIUM,
    CHROMIUM_ARGS,
    PHOTOS,
    add_input,
    load,
    serve,
    serve_js_from,
    timed,
)
from hashing import make_12mp
from openncii.signals.pdq import hamming_distance

#: In the page: enrol the input's files one by one in one worker (kept across calls), timing
#: each, and time the plain PDQ hash of each the same way right after it; with `plain` false,
#: enrolments only (a page serving another revision's worker).
ENROL_FILES_JS = """async ({selector, plain}) => {
    const files = [...document.querySelector(selector).files];
    if (!window.__worker) {
        const worker = new Worker('/js/hash-worker.js', {type: 'module'});
        await new Promise((resolve) => {
            worker.onmessage = resolve;
            const rgba = new Uint8ClampedArray(64 * 64 * 4).map((_, i) => (i * 37) & 255);
            worker.postMessage({type: 'pixels', id: 0, rgba, width: 64, height: 64});
        });
        window.__worker = worker;
    }
    const worker = window.__worker;
    const ask = (message, done) => new Promise((resolve) => {
        worker.onmessage = (event) => { if (done.includes(event.data.type)) resolve(event.data); };
        worker.postMessage(message);
    });
    const out = [];
    for (const file of files) {
        let t0 = performance.now();
        const answer = await ask({type: 'variants', id: 1, file}, ['variants', 'failed']);
        const enrolMs = performance.now() - t0;
        let plainMs = null;
        if (plain) {
            t0 = performance.now();
            const hashed = await ask({type: 'plain', id: 2, file}, ['plain', 'failed']);
            plainMs = performance.now() - t0;
            if (hashed.type !== 'plain') plainMs = null;
        }
        out.push({name: file.name, enrolMs, plainMs, workerMs: answer.ms,
                  variants: answer.variants || null,
                  stages: answer.stages || null});
    }
    return out;
}"""


def main() -> None:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=8, help="12 MP photos (default 8)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument(
        "--js-from",
        metavar="REV",
        help="also enrol in a page serving the js/ files of this git revision (before/after)",
    )
    args = parser.parse_args()

    every = sorted(PHOTOS.glob("*.jpg"))
    photos = make_12mp(every[:: max(1, len(every) // 40)][: args.photos], CACHE)
    load_start = load()
    js_enrol: dict[str, list[float]] = {f.name: [] for f in photos}
    js_plain: dict[str, list[float]] = {f.name: [] for f in photos}
    py_enrol: dict[str, list[float]] = {f.name: [] for f in photos}
    py_plain: dict[str, list[float]] = {f.name: [] for f in photos}
    js_before: dict[str, list[float]] = {f.name: [] for f in photos}
    drift: list[int] = []
    counts: list[int] = []
    stages: dict[str, list[float]] = {}
    with serve() as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context().new_page()
            page.goto(f"{url}/")
            selector = add_input(page, "bench-photos", photos)
            before = None
            if args.js_from:
                context = browser.new_context()
                serve_js_from(context, args.js_from)
                before = context.new_page()
                before.goto(f"{url}/")
                add_input(before, "bench-photos", photos)
            for round_ in range(args.rounds + 1):
                if before is not None:
                    earlier = before.evaluate(
                        ENROL_FILES_JS, {"selector": selector, "plain": False}
                    )
                    if round_ > 0:
                        for r in earlier:
                            js_before[r["name"]].append(r["enrolMs"])
                results: list[dict[str, Any]] = page.evaluate(
                    ENROL_FILES_JS, {"selector": selector, "plain": True}
                )
                for path, r in zip(photos, results, strict=True):
                    ms, ours = timed(openncii.enroll_file, path)
                    plain_ms, _ = timed(openncii.hash_file, path)
                    if round_ == 0:
                        assert r["variants"] is not None and r["plainMs"] is not None, r
                        counts.append(len(ours))
                        drift.extend(
                            hamming_distance(v["hex"], o.hex)
                            for v, o in zip(r["variants"], ours, strict=False)
                        )
                        continue
                    for stage, ms_stage in r["stages"].items():
                        stages.setdefault(stage, []).append(ms_stage)
                    stages.setdefault("messages", []).append(r["enrolMs"] - r["workerMs"])
                    js_enrol[path.name].append(r["enrolMs"])
                    js_plain[path.name].append(r["plainMs"])
                    py_enrol[path.name].append(ms)
                    py_plain[path.name].append(plain_ms)
        finally:
            browser.close()

    def med(values: dict[str, list[float]]) -> float:
        return statistics.median(statistics.median(v) for v in values.values())

    ratios = [statistics.median(js_enrol[n]) / statistics.median(py_enrol[n]) for n in js_enrol]
    print(f"load average {load_start} -> {load()}; {len(photos)} photos x {args.rounds} rounds")
    print(
        f"hashes per photo: {statistics.median(counts):.0f} (min {min(counts)}, max {max(counts)})"
    )
    print(
        f"browser vs Python drift, bits per hash: max {max(drift)}, "
        f"median {statistics.median(drift)}"
    )
    print(f"{'':28} {'browser (ms)':>13} {'Python (ms)':>12}")
    print(f"{'enrolment (variants)':28} {med(js_enrol):13.1f} {med(py_enrol):12.1f}")
    print(f"{'plain PDQ':28} {med(js_plain):13.1f} {med(py_plain):12.1f}")
    plain_ratios = [
        statistics.median(js_enrol[n]) / statistics.median(js_plain[n]) for n in js_enrol
    ]
    print(f"browser enrolment / browser plain PDQ: median {statistics.median(plain_ratios):.2f}")
    if args.js_from:
        print(f"browser enrolment with js/ of {args.js_from}: {med(js_before):.1f} ms")
    print(f"browser / Python, enrolment: median {statistics.median(ratios):.2f}")
    print(
        "browser enrolment stages (medians, ms): "
        + ", ".join(f"{k} {statistics.median(v):.1f}" for k, v in stages.items())
    )
    worst = max(statistics.median(v) for v in js_enrol.values())
    print(f"worst browser enrolment median of a photo: {worst:.1f} ms")


if __name__ == "__main__":
    main()

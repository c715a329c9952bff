"""Benchmark: CPU time of the browser's enrolment code (``js/variants.js``, ``js/pdq.js``) in Node.

``bench/enrol_browser.py`` measures wall-clock time in Chromium, which a loaded machine inflates
2-5x. This measures the same JavaScript's CPU time (``process.cpuUsage``, the thread's own
time) in Node's V8, on the decoded pixels of the same 12 MP JPEGs (``bench/.cache/browser-12mp``,
decoded by Pillow at the JPEG scale the worker asks its decoder for: the largest of 1/2, 1/4,
1/8 that keeps 512 px on the short side): the working bitmap (``workingBitmap``), its 8-10
hashes (``enrolVariants``) and, as a yardstick, one PDQ hash of the decoded pixels
(``pdqFromRGBA``). Medians over the rounds after 5 warm-up rounds, per photo, then the median
over photos. With ``--js-from REV`` the ``js/`` files of git revision REV are timed in the same
process, interleaved, and must give the same hashes.

Run: ``.venv/bin/python bench/enrol_cpu.py [--photos N] [--rounds R] [--js-from REV]``
(needs ``node`` on the PATH)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

# Run as a script, bench/ is on sys.path.
from browser import CACHE, PHOTOS, ROOT, load
from hashing import make_12mp

JS = ROOT / "src" / "openncii" / "web" / "static" / "js"

#: Node: argv = rounds, then folder of js/ files per revision, then raw RGBA files (w, h in
#: their names). Prints {revision: {stage: [median ms per photo]}, "same": bool}.
TIMER = """
import { readFileSync } from "node:fs";
const [rounds, ...rest] = process.argv.slice(2);
const folders = rest.filter((a) => !a.endsWith(".rgba"));
const files = rest.filter((a) => a.endsWith(".rgba"));
const mods = [];
for (const folder of folders) {
  mods.push({ v: await import(folder + "/variants.js"), p: await import(folder + "/pdq.js") });
}
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const out = folders.map(() => ({ bitmap: [], hashes: [], plain: [] }));
let same = true;
for (const file of files) {
  const [w, h] = file.match(/(\\d+)x(\\d+)\\.rgba$/).slice(1).map(Number);
  const px = new Uint8ClampedArray(readFileSync(file));
  const times = folders.map(() => ({ bitmap: [], hashes: [], plain: [] }));
  const answers = folders.map(() => "");
  for (let r = 0; r < 5 + Number(rounds); r++) {
    mods.forEach(({ v, p }, m) => {
      let t0 = cpu();
      const bm = v.workingBitmap(px, w, h);
      const t1 = cpu();
      const variants = v.enrolVariants(bm.rgba, bm.width, bm.height);
      const t2 = cpu();
      const plain = p.pdqFromRGBA(px, w, h);
      const t3 = cpu();
      if (r >= 5) {
        times[m].bitmap.push(t1 - t0);
        times[m].hashes.push(t2 - t1);
        times[m].plain.push(t3 - t2);
      }
      answers[m] = JSON.stringify(variants) + plain.hex;
    });
  }
  if (answers.some((a) => a !== answers[0])) same = false;
  times.forEach((t, m) => { for (const k in t) out[m][k].push(median(t[k])); });
}
console.log(JSON.stringify({ revisions: out, same }));
"""


def decoded_pixels(path: Path, folder: Path) -> Path:
    """The JPEG decoded at the worker's scale (Pillow's draft), as raw RGBA bytes in `folder`."""
    with Image.open(path) as image:
        w, h = image.size
        scale = 1
        while scale < 8 and min(w, h) / (scale * 2) >= 512:
            scale *= 2
        image.draft("RGB", (w // scale, h // scale))
        rgba = np.asarray(image.convert("RGBA"))
    out = folder / f"{path.stem}-{rgba.shape[1]}x{rgba.shape[0]}.rgba"
    out.write_bytes(rgba.tobytes())
    return out


def js_files_at(rev: str, folder: Path) -> Path:
    """The js/ files of git revision `rev`, written into `folder`."""
    rel = JS.relative_to(ROOT).as_posix()
    names = subprocess.run(
        ["git", "-C", str(ROOT), "ls-tree", "--name-only", f"{rev}:{rel}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    folder.mkdir()
    for name in names:
        if name.endswith(".js"):
            blob = subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{rev}:{rel}/{name}"],
                check=True,
                capture_output=True,
            ).stdout
            (folder / name).write_bytes(blob)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=6, help="12 MP photos (default 6)")
    parser.add_argument("--rounds", type=int, default=15, help="timed rounds (default 15)")
    parser.add_argument("--js-from", metavar="REV", help="also time the js/ files of REV")
    args = parser.parse_args()

    every = sorted(PHOTOS.glob("*.jpg"))
    photos = make_12mp(every[:: max(1, len(every) // 40)][: args.photos], CACHE)
    load_start = load()
    with tempfile.TemporaryDirectory(prefix="openncii-enrol-cpu-") as tmp:
        folder = Path(tmp)
        pixels = [decoded_pixels(p, folder) for p in photos]
        revisions = [("worktree", JS)]
        if args.js_from:
            revisions.append((args.js_from, js_files_at(args.js_from, folder / "before")))
        timer = folder / "timer.mjs"
        timer.write_text(TIMER)
        result = json.loads(
            subprocess.run(
                ["node", str(timer), str(args.rounds)]
                + [str(f) for _, f in revisions]
                + [str(p) for p in pixels],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    print(f"load average {load_start} -> {load()}; {len(photos)} photos x {args.rounds} rounds")
    print(f"{'CPU ms (median over photos)':28} {'bitmap':>8} {'hashes':>8} {'plain PDQ':>10}")
    for (name, _), times in zip(revisions, result["revisions"], strict=True):
        row = {k: float(np.median(v)) for k, v in times.items()}
        print(f"{name:28} {row['bitmap']:8.1f} {row['hashes']:8.1f} {row['plain']:10.1f}")
    if args.js_from:
        print(f"same hashes: {result['same']}")


if __name__ == "__main__":
    main()

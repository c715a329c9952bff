"""Recall per goal edit on the *tuning* half of the photos with the strip pairs held to a
tighter threshold than the pair rule's 24 (20, 16) or left out: what a tighter strip rule
would cost. The strip class is the largest share of the false-match estimate once related
pictures are set aside (``docs/benchmarks.md``).

Run: ``.venv/bin/python bench/strip_threshold.py [--jobs J]`` (tuning half only, by design:
the report half is for reporting a rule once chosen).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
from pathlib import Path

import openncii
from openncii.signals.pdq import hamming_distance
from openncii.signals.variants import Kind, pair_threshold
from robustness import EDITS, PHOTOS, _decode, in_tuning_half

#: Rule name -> the threshold of strip pairs (None: strips not compared).
RULES: dict[str, int | None] = {
    "strip<=24": 24,
    "strip<=20": 20,
    "strip<=16": 16,
    "no strips": None,
}


def work(path: Path) -> dict[str, dict[str, bool]]:
    enrolled = openncii.enroll_file(path)
    original = _decode(path)
    out: dict[str, dict[str, bool]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, edit, quality, goal in EDITS:
            if not goal:
                continue
            copy = Path(tmp) / "copy.jpg"
            edit(original).save(copy, quality=quality)
            queries = openncii.query_file(copy)
            found: dict[str, bool] = {}
            for rule, strip in RULES.items():
                found[rule] = any(
                    limit is not None and hamming_distance(q.hex, e.hex) <= limit
                    for q in queries
                    for e in enrolled
                    for limit in [strip if q.kind is Kind.STRIP else pair_threshold(q.kind, e.kind)]
                    if pair_threshold(q.kind, e.kind) is not None
                )
            out[name] = found
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    photos = [p for p in sorted(PHOTOS.glob("*.jpg")) if in_tuning_half(p.name)]
    print(f"load average {os.getloadavg()[0]:.1f}; {len(photos)} photos (tuning half)")
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(work, photos, chunksize=1)
    for name, _, _, goal in EDITS:
        if goal:
            cells = "  ".join(
                f"{rule} {100 * sum(r[name][rule] for r in results) / len(results):5.1f}%"
                for rule in RULES
            )
            print(f"{name:28} {cells}")


if __name__ == "__main__":
    main()

"""Recall per goal edit with strip pairs at other thresholds than the pair rule's, or none.

What a tighter strip rule would cost. The strip class is the largest share of the false-match
estimate once related pictures are set aside (``docs/benchmarks.md``).

Run: ``.venv/bin/python bench/strip_threshold.py [--jobs J] [--strip T ...] [--half report]``.
By default the tuning half, with strips at <= 24, 20 and 16 and without strips: choose a rule
there. ``--half report`` measures a rule once chosen on the report half (give the rule in force
and the chosen one with ``--strip``, nothing else: the report half is not for choosing).
``bench/robustness.py --strip-also T`` gives the same recall beside the false-match estimate.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import tempfile
from functools import partial
from pathlib import Path

import openncii
from robustness import EDITS, PHOTOS, _decode, found_with_strip, in_tuning_half

#: Thresholds of the strip pairs compared by default (None: strips not compared).
DEFAULT_RULES: tuple[int | None, ...] = (24, 20, 16, None)


def rule_name(strip: int | None) -> str:
    return "no strips" if strip is None else f"strip<={strip}"


def work(path: Path, rules: tuple[int | None, ...]) -> dict[str, dict[int | None, bool]]:
    enrolled = openncii.enroll_file(path)
    original = _decode(path)
    out: dict[str, dict[int | None, bool]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, edit, quality, goal in EDITS:
            if not goal:
                continue
            copy = Path(tmp) / "copy.jpg"
            edit(original).save(copy, quality=quality)
            queries = openncii.query_file(copy)
            out[name] = {strip: found_with_strip(queries, enrolled, strip) for strip in rules}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--half",
        choices=("tune", "report"),
        default="tune",
        help="tune (default): choose a rule here; report: measure a chosen rule, once",
    )
    parser.add_argument(
        "--strip",
        type=int,
        action="append",
        metavar="T",
        help="a threshold of strip pairs to compare (repeatable; default: 24, 20, 16 and "
        "no strips)",
    )
    args = parser.parse_args()
    rules: tuple[int | None, ...] = tuple(args.strip) if args.strip else DEFAULT_RULES
    photos = [
        p for p in sorted(PHOTOS.glob("*.jpg")) if in_tuning_half(p.name) == (args.half == "tune")
    ]
    print(f"load average {os.getloadavg()[0]:.1f}; {len(photos)} photos ({args.half} half)")
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(partial(work, rules=rules), photos, chunksize=1)
    n = len(results)
    for name, _, _, goal in EDITS:
        if goal:
            found = {strip: sum(r[name][strip] for r in results) for strip in rules}
            cells = "  ".join(
                f"{rule_name(s)} {100 * found[s] / n:5.1f}% ({found[s]}/{n})" for s in rules
            )
            print(f"{name:28} {cells}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

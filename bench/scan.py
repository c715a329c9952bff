"""Benchmark: scanning a corpus — thread pool (the scan before issue 14), worker processes,
Spark ``local[2]`` — and re-matching stored hashes instead of rescanning.

Part 1, scan engines, in one run on the same photos and the same bank:

- ``threads``: the scan as it was: a thread pool of ``--workers`` threads, each file through
  ``Matcher.match_file`` (``hash_file(dihedral=True)``, PDQ + 8 dihedral variants, MD5);
- ``processes``: ``openncii.partner.scan.scan`` with ``--workers`` processes, the same hashing
  work (``variants=False``), so the ratio is the engine's;
- ``processes+variants``: the default scan (robust query variants too: about 3x the work);
- ``spark``, ``spark+variants``: ``scan_with_spark`` on a warm ``local[2]`` session.

Rounds alternate the engines, so load from other processes hits all alike; medians of
images/s, by the wall clock and per CPU second of the whole process tree (this process, its
worker processes, Spark's JVM and Python workers): on a shared machine under load the wall clock
measures the scheduler's share as much as the engine, CPU seconds measure the work. The
photos are ``--photos`` JPEG files made once (cached in
``bench/.cache/scan``) from ``../shared/testdata/photos``: resized, cropped, recompressed and
mirrored copies. The bank is ``--bank`` random balanced PDQ codes plus the PDQ of a quarter of
the original photos (so that some copies match), served from memory.

Part 2, matching stored hashes (no image decoded): ``--stored`` hashed items, each with the
query set of a real photo (its PDQ, 7 dihedral variants and ~24 robust variants: 32 hashes),
as Arrow batches through ``match_batch``:

- against the whole ``--big-bank`` (a full re-match), on a sample of ``--sample`` items;
- against the bank's changes after a sync (``--changes`` records of the big bank: a
  re-match), on all ``--stored`` items.

Reports hashes/s per core (CPU time of this process) and the speed-up per image over a full
rescan (the ``processes+variants`` images per CPU second of part 1).

Run: ``.venv/bin/python bench/scan.py`` (defaults: 2,000 photos, a 1M bank, 1M stored items,
a 10M big bank, 10,000 changes; needs the ``spark`` extra and Java).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageOps

from openncii import hash_file
from openncii.index import codes_from_hex, hex_from_codes
from openncii.partner.bank import Bank, BankData
from openncii.partner.batch import HashedItem, items_to_batch, match_batch
from openncii.partner.matcher import BankChanges, BankRecord, BankSnapshot, Matcher
from openncii.partner.scan import scan

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
CACHE = ROOT / "bench" / ".cache" / "scan"


def balanced_codes(n: int, seed: int) -> npt.NDArray[np.uint8]:
    """``n`` random 256-bit codes with 128 bits set (like PDQ), cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"balanced-{n}-{seed}.npy"
    if path.exists():
        return np.load(path)
    rng = np.random.default_rng(seed)
    out = np.empty((n, 32), dtype=np.uint8)
    block = 500_000
    for start in range(0, n, block):
        k = min(block, n - start)
        keys = rng.random((k, 256))
        bits = (keys < np.median(keys, axis=1, keepdims=True)).astype(np.uint8)
        out[start : start + k] = np.packbits(bits, axis=1)
    np.save(path, out)
    return out


def corpus(count: int) -> list[Path]:
    """``count`` edited copies of the shared photos (made once)."""
    folder = CACHE / f"corpus-{count}"
    done = folder / ".complete"
    if done.exists():
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    folder.mkdir(parents=True, exist_ok=True)
    sources = sorted(PHOTOS.glob("*.jpg"))
    rng = random.Random(14)
    out: list[Path] = []
    for i in range(count):
        source = sources[i % len(sources)]
        with Image.open(source) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
        w, h = image.size
        edit = i // len(sources) % 4
        if edit == 1:
            image = image.resize((max(64, int(w * rng.uniform(0.4, 0.9))), max(64, int(h * 0.7))))
        elif edit == 2:
            dx, dy = int(w * rng.uniform(0, 0.1)), int(h * rng.uniform(0, 0.1))
            image = image.crop((dx, dy, w - dx, h - dy))
        elif edit == 3:
            image = ImageOps.mirror(image)
        path = folder / f"{i:05d}-{source.stem}.jpg"
        image.save(path, "JPEG", quality=rng.choice((55, 75, 90)))
        out.append(path)
    done.touch()
    return out


class MemoryBank:
    """A bank source held in memory (the store's shape): codes, keys and case references."""

    def __init__(self, codes: npt.NDArray[np.uint8]) -> None:
        self.codes = codes
        self.keys = np.arange(1, len(codes) + 1, dtype=np.int64)

    def bank_snapshot(self) -> BankSnapshot:
        return BankSnapshot(self.codes, self.keys, [], 1)

    def bank_changes(self, since: int) -> BankChanges:
        return BankChanges([], [], since)

    def describe(self, keys: Iterable[int]) -> dict[int, BankRecord]:
        out = {}
        for key in keys:
            (value,) = hex_from_codes(self.codes[key - 1 : key])
            out[key] = BankRecord(int(key), "pdq", value, (f"ref-{key}",))
        return out


def thread_scan(bank: MemoryBank, files: Sequence[Path], workers: int) -> int:
    """The scan before issue 14: a thread pool over ``Matcher.match_file``; returns matches."""
    matcher = Matcher(bank)
    matcher.refresh()

    def one(path: Path) -> int:
        try:
            return len(matcher.match_file(path)[1])
        except Exception:
            return 0

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(one, files))


#: Spark's JVM and its Python workers (counted only when Spark is measured).
SPARK_PIDS: set[int] = set()


def tree_cpu(with_spark: bool) -> float:
    """CPU seconds of this process and its descendants, living or ended: the scan's worker
    processes; Spark's JVM and its Python workers only ``with_spark`` (an idle JVM still
    spends CPU, which is not the other engines' doing)."""
    import resource

    import psutil

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    for child in psutil.Process().children(recursive=True):
        if not with_spark and (
            child.pid in SPARK_PIDS or {p.pid for p in child.parents()} & SPARK_PIDS
        ):
            continue
        try:
            t = child.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def timed(function: Callable[[], Any], with_spark: bool = False) -> tuple[float, float, Any]:
    """Wall seconds, CPU seconds (the process tree) and the value of ``function()``."""
    cpu = tree_cpu(with_spark)
    started = time.perf_counter()
    value = function()
    return time.perf_counter() - started, tree_cpu(with_spark) - cpu, value


def stored_items(count: int, seed: int, per_item: int = 32) -> Iterable[list[HashedItem]]:
    """Hashed items in batches of 10,000: each with a query set of ``per_item`` hashes (1 full,
    7 dihedral, the rest squares and strips, as a real photo's)."""
    rng = np.random.default_rng(seed)
    kinds = ["square"] * 18 + ["strip"] * 2 + ["trim"] * (per_item - 28)
    for start in range(0, count, 10_000):
        k = min(10_000, count - start)
        codes = rng.integers(0, 256, (k * per_item, 32), dtype=np.uint8)
        hexes = hex_from_codes(codes)
        batch = []
        for i in range(k):
            row = hexes[i * per_item : (i + 1) * per_item]
            batch.append(
                HashedItem(
                    id=f"s3://media/{start + i}.jpg",
                    media="image",
                    md5="0" * 32,
                    pdq=row[0],
                    quality=90,
                    dihedral=tuple(row[:8]),
                    variants=tuple(row[8:]),
                    variant_kinds=tuple(kinds[: per_item - 8]),
                )
            )
        yield batch


def match_rate(bank: Bank, batches: Iterable[list[HashedItem]]) -> tuple[int, float, float]:
    """Items matched, CPU seconds and wall seconds of ``match_batch`` over Arrow batches."""
    items = 0
    cpu = wall = 0.0
    for batch in batches:
        arrow = items_to_batch(batch)
        c0, w0 = time.process_time(), time.perf_counter()
        match_batch(bank, arrow)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        items += len(batch)
    return items, cpu, wall


def big_photo_cost(repeats: int = 7) -> dict[bool, float]:
    """CPU ms to hash one 12 MP JPEG (an upscaled shared photo), without and with the robust
    variants: the per-image cost that the small test photos understate."""
    from openncii.partner.batch import hash_item

    path = CACHE / "12mp.jpg"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        with Image.open(sorted(PHOTOS.glob("*.jpg"))[4]) as opened:
            opened.convert("RGB").resize((4000, 3000)).save(path, "JPEG", quality=88)
    out = {}
    for variants in (False, True):
        hash_item(str(path), variants=variants)
        costs = []
        for _ in range(repeats):
            started = time.process_time()
            hash_item(str(path), variants=variants)
            costs.append(1000 * (time.process_time() - started))
        out[variants] = statistics.median(costs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photos", type=int, default=2000)
    parser.add_argument("--bank", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--engines",
        default="threads,processes,processes+variants,spark,spark+variants",
        help="comma-separated subset of the engines",
    )
    parser.add_argument("--stored", type=int, default=1_000_000)
    parser.add_argument("--big-bank", type=int, default=10_000_000)
    parser.add_argument("--changes", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--skip-rematch", action="store_true")
    args = parser.parse_args()
    engines = args.engines.split(",")
    print(f"load average {os.getloadavg()}; {os.cpu_count()} CPUs", flush=True)

    cost = big_photo_cost()
    print(
        f"one 12 MP JPEG, CPU ms (median of 7): {cost[False]:.0f} without variants, "
        f"{cost[True]:.0f} with variants (decode, PDQ, dihedral, MD5, query variants)"
    )
    per_core_rescan: float | None = None
    if not args.skip_scan:
        files = corpus(args.photos)
        originals = sorted(PHOTOS.glob("*.jpg"))[::4]
        planted = codes_from_hex([hash_file(p).pdq or "" for p in originals])
        bank = MemoryBank(np.concatenate([balanced_codes(args.bank, 1), planted]))
        size = sum(p.stat().st_size for p in files) / len(files) / 1024
        print(f"{len(files)} photos ({size:.0f} KB on average), bank {len(bank.keys):,} PDQ")
        spark = None
        if any(e.startswith("spark") for e in engines):
            import psutil

            from openncii.partner.spark import scan_with_spark, spark_session

            before = {p.pid for p in psutil.Process().children()}
            spark = spark_session("local[2]", app_name="openncii-bench", progress=False)
            SPARK_PIDS.update(p.pid for p in psutil.Process().children() if p.pid not in before)
            spark.sparkContext.setLogLevel("ERROR")
            scan_with_spark(bank, [str(p) for p in files[:64]], spark=spark)  # warm up
        runs: dict[str, Callable[[], Any]] = {
            "threads": lambda: thread_scan(bank, files, args.workers),
            "processes": lambda: scan(bank, files, workers=args.workers, variants=False),
            "processes+variants": lambda: scan(bank, files, workers=args.workers),
        }
        if spark is not None:
            sources = [str(p) for p in files]
            runs["spark"] = lambda: scan_with_spark(bank, sources, spark=spark, variants=False)
            runs["spark+variants"] = lambda: scan_with_spark(bank, sources, spark=spark)
        rates: dict[str, list[float]] = {e: [] for e in engines}
        per_cpu: dict[str, list[float]] = {e: [] for e in engines}
        loads: list[float] = []
        for round_ in range(args.rounds):
            order = engines if round_ % 2 == 0 else engines[::-1]
            for engine in order:
                seconds, cpu, _ = timed(runs[engine], engine.startswith("spark"))
                rates[engine].append(len(files) / seconds)
                per_cpu[engine].append(len(files) / cpu)
                loads.append(os.getloadavg()[0])
                print(
                    f"  round {round_ + 1} {engine}: {len(files) / seconds:.1f} images/s, "
                    f"{len(files) / cpu:.1f} per CPU second (load {loads[-1]:.1f})",
                    flush=True,
                )
        medians = {e: statistics.median(r) for e, r in rates.items()}
        cpu_medians = {e: statistics.median(r) for e, r in per_cpu.items()}
        print(f"scan (median of {args.rounds}; load {min(loads):.1f}-{max(loads):.1f}):")
        print(f"  {'engine':<20} {'images/s':>9} {'per CPU s':>10}")
        for engine, value in medians.items():
            print(f"  {engine:<20} {value:9.1f} {cpu_medians[engine]:10.1f}")
        for a, b in (
            ("processes", "threads"),
            ("spark", "processes"),
            ("spark+variants", "processes+variants"),
        ):
            if a in medians and b in medians:
                print(
                    f"  {a} / {b}: {medians[a] / medians[b]:.2f}x wall, "
                    f"{cpu_medians[a] / cpu_medians[b]:.2f}x per CPU second"
                )
        if "processes+variants" in cpu_medians:
            per_core_rescan = cpu_medians["processes+variants"]
        if spark is not None:
            spark.stop()

    if not args.skip_rematch:
        print(f"load average {os.getloadavg()}", flush=True)
        codes = balanced_codes(args.big_bank, 2)
        keys = np.arange(1, len(codes) + 1, dtype=np.int64)
        kinds = ["full"] * len(codes)
        seconds, _, data = timed(lambda: BankData.create(keys, codes, kinds, [], 1))
        seconds_build, _, big = timed(lambda: Bank.build(data))
        print(f"big bank {len(codes):,}: checksum {seconds:.1f} s, index {seconds_build:.1f} s")
        n, cpu, wall = match_rate(big, stored_items(args.sample, 3))
        q = 32 * n
        print(
            f"full match vs {len(codes):,}: {n:,} items, {n / cpu:,.0f} items/s per core "
            f"({q / cpu:,.0f} hashes/s per core; wall {n / wall:,.0f} items/s)",
            flush=True,
        )
        del big
        change = np.random.default_rng(4).choice(len(codes), args.changes, replace=False)
        delta = BankData.create(keys[change], codes[change], ["full"] * args.changes, [], 2)
        small = Bank.build(delta)
        n2, cpu2, wall2 = match_rate(small, stored_items(args.stored, 5))
        print(
            f"re-match vs {args.changes:,} changes: {n2:,} items, {n2 / cpu2:,.0f} items/s per "
            f"core ({32 * n2 / cpu2:,.0f} hashes/s per core; wall {n2 / wall2:,.0f} items/s)"
        )
        if per_core_rescan is not None:
            print(
                f"per image, re-match vs full rescan (processes+variants per core "
                f"{per_core_rescan:.1f} images/s): {n2 / cpu2 / per_core_rescan:,.0f}x; "
                f"full match vs 10M: {n / cpu / per_core_rescan:,.0f}x"
            )
    print(f"load average at the end {os.getloadavg()}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

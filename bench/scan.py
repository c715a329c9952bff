"""Benchmark: scanning a corpus — thread pool (the scan before issue 14), worker processes,
Spark ``local[2]`` — and re-matching stored hashes instead of rescanning.

One command, about 10 minutes on an idle 2-core machine (the first run also makes the photos
and the banks, cached in ``bench/.cache/scan``)::

    .venv/bin/python bench/scan.py            # the issue's sizes
    .venv/bin/python bench/scan.py --quick    # development: a couple of minutes

Part 1, scan engines, in one run on the same photos and the same bank:

- ``threads``: the scan as it was: a thread pool of ``--workers`` threads, each file through
  ``hash_file(dihedral=True)`` and ``Matcher.match_hashes`` (PDQ + 8 dihedral variants, MD5);
- ``processes``: ``openncii.partner.scan.scan`` with ``--workers`` processes, the same hashing
  work (``variants=False``), so the ratio is the engine's;
- ``spark``: ``scan_with_spark`` (``partner scan --engine spark``) on a warm ``local[2]``
  session, the same work;
- ``processes+variants``, ``spark+variants``: the default scan (robust query variants too:
  about 3x the work).

Rounds interleave the engines (the order reversed every other round), so load from other
processes hits all alike; printed: the medians of images/s (wall clock) and of CPU ms per image
of the whole process tree (this process, the scan's worker processes; for Spark its JVM and
Python workers too: on a loaded machine the wall clock measures the scheduler's share, CPU
time the work), and the ratios against the goals. The photos are ``--photos`` JPEG files made
once from ``../shared/testdata/photos``: resized, cropped, recompressed and mirrored copies.
The bank is ``--bank`` random balanced PDQ codes plus the PDQ of a quarter of the original
photos (so that some copies match), served from memory.

Part 2, matching stored hashes (no image decoded): stored photos, each with a query set of 48
hashes (its PDQ, 7 dihedral variants, 40 robust variants: what ``query_file`` gives a photo),
as Arrow batches through ``match_batch`` (what the Spark job's ``match`` and ``rematch`` run):

- against the whole ``--big-bank`` (a full match), on ``--sample`` photos;
- against the bank's changes after a sync (``--changes`` records of the big bank: a
  re-match), ``--stored`` hashes in all.

Printed: hashes/s per core (CPU time), CPU ms per photo, and the speed-up per photo over a full
rescan (a 12 MP photo with variants, and ``processes+variants`` on the corpus photos).
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
from openncii.partner.batch import match_batch
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
    """The scan before issue 14 (``partner scan`` at f4d1f32): a thread pool of ``workers``
    threads, each file through ``hash_file(dihedral=True)`` and ``Matcher.match_hashes`` (PDQ
    with its 8 dihedral variants, MD5); returns the number of matches. (``Matcher.match_file``
    now also computes the robust query variants: not the old scan's work.)"""
    matcher = Matcher(bank)
    matcher.refresh()

    def one(path: Path) -> int:
        try:
            return len(matcher.match_hashes(hash_file(path, dihedral=True)))
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


#: Query hashes of one stored photo: 1 full, 7 dihedral, 40 robust variants (``query_file``
#: gives the shared photos 47-49: 37 squares, 2 strips, a trim on some).
PER_ITEM = 48


def stored_batches(items: int, seed: int, size: int = 10_000) -> Iterable[Any]:
    """Arrow record batches of ``items`` stored hashed photos (``hashes_schema``), each with
    a query set of :data:`PER_ITEM` random hashes (its PDQ, 7 dihedral variants, 37 squares,
    2 strips, 1 trim: a real photo's shape), made without a Python object per hash."""
    import pyarrow as pa

    from openncii.partner.batch import hashes_schema

    rng = np.random.default_rng(seed)
    kinds = ["square"] * 37 + ["strip"] * 2 + ["trim"] * (PER_ITEM - 47)
    text = pa.string()
    for start in range(0, items, size):
        k = min(size, items - start)
        codes = rng.integers(0, 256, (k, PER_ITEM, 32), dtype=np.uint8)

        def hexes(part: npt.NDArray[np.uint8]) -> Any:
            flat = np.frombuffer(np.ascontiguousarray(part).tobytes().hex().encode(), "S64")
            return pa.array(flat, pa.binary(64)).cast(text)

        def lists(values: Any, width: int, k: int = k) -> Any:
            offsets = pa.array(np.arange(0, (k + 1) * width, width, dtype=np.int32))
            return pa.ListArray.from_arrays(offsets, values)

        columns = [
            pa.array([f"s3://media/{start + i}.jpg" for i in range(k)], text),
            pa.array(["image"] * k, text),
            pa.array(["0" * 32] * k, text),
            hexes(codes[:, 0]),
            pa.array(np.full(k, 90, dtype=np.int32)),
            lists(hexes(codes[:, :8]), 8),
            lists(hexes(codes[:, 8:]), PER_ITEM - 8),
            lists(pa.array(kinds * k, text), PER_ITEM - 8),
            pa.nulls(k, text),
            pa.nulls(k, text),
            pa.array(np.zeros(k, dtype=bool)),
        ]
        yield pa.RecordBatch.from_arrays(columns, schema=hashes_schema())


def match_rate(bank: Bank, batches: Iterable[Any]) -> tuple[int, float, float]:
    """Items matched, CPU seconds and wall seconds of ``match_batch`` over Arrow batches (the
    making of the batches is not counted)."""
    items = 0
    cpu = wall = 0.0
    for batch in batches:
        c0, w0 = time.process_time(), time.perf_counter()
        match_batch(bank, batch)
        cpu += time.process_time() - c0
        wall += time.perf_counter() - w0
        items += batch.num_rows
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


#: Sizes of a full run (the issue's) and of ``--quick`` (development: about a minute).
FULL = {
    "photos": 2000,
    "bank": 1_000_000,
    "rounds": 3,
    "variant_rounds": 1,
    "stored": 1_000_000,
    "big_bank": 10_000_000,
    "changes": 10_000,
    "sample": 2_000,
}
QUICK = {
    "photos": 200,
    "bank": 100_000,
    "rounds": 2,
    "variant_rounds": 1,
    "stored": 100_000,
    "big_bank": 1_000_000,
    "changes": 1_000,
    "sample": 300,
}
ENGINES = "threads,processes,spark,processes+variants,spark+variants"
#: The goals of issue 14: (engine, peer, at least this ratio of images/s).
GOALS = (("processes", "threads", 1.3), ("spark", "processes", 0.9))


def scan_engines(args: argparse.Namespace) -> float | None:
    """Part 1; returns the full rescan's images per CPU second (``processes+variants``)."""
    engines = args.engines.split(",")
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
        sources = [str(p) for p in files]
        scan_with_spark(bank, sources[:128], spark=spark)  # warm up: JVM, Python workers, bank
    runs: dict[str, Callable[[], Any]] = {
        "threads": lambda: thread_scan(bank, files, args.workers),
        "processes": lambda: scan(bank, files, workers=args.workers, variants=False),
        "processes+variants": lambda: scan(bank, files, workers=args.workers),
    }
    if spark is not None:
        runs["spark"] = lambda: scan_with_spark(bank, sources, spark=spark, variants=False)
        runs["spark+variants"] = lambda: scan_with_spark(bank, sources, spark=spark)
    rates: dict[str, list[float]] = {e: [] for e in engines}
    costs: dict[str, list[float]] = {e: [] for e in engines}
    loads: list[float] = []
    for round_ in range(args.rounds):
        # Interleaved, the order reversed every other round: load hits every engine alike.
        for engine in engines if round_ % 2 == 0 else engines[::-1]:
            if engine.endswith("+variants") and round_ >= args.variant_rounds:
                continue  # ~3x the work: fewer rounds keep the run within ~10 minutes
            seconds, cpu, _ = timed(runs[engine], engine.startswith("spark"))
            rates[engine].append(len(files) / seconds)
            costs[engine].append(1000 * cpu / len(files))
            loads.append(os.getloadavg()[0])
            print(
                f"  round {round_ + 1} {engine}: {rates[engine][-1]:.1f} images/s, "
                f"{costs[engine][-1]:.2f} CPU ms/image (load {loads[-1]:.1f})",
                flush=True,
            )
    if spark is not None:
        spark.stop()
    rate = {e: statistics.median(r) for e, r in rates.items()}
    cost = {e: statistics.median(r) for e, r in costs.items()}
    print(
        f"scan, median of {args.rounds} rounds ({args.variant_rounds} with variants; "
        f"load {min(loads):.1f}-{max(loads):.1f}):"
    )
    print(f"  {'engine':<20} {'images/s':>9} {'CPU ms/image':>13}")
    for engine in engines:
        print(f"  {engine:<20} {rate[engine]:9.1f} {cost[engine]:13.2f}")
    pairs = [(a, b, goal) for a, b, goal in GOALS] + [("spark+variants", "processes+variants", 0.9)]
    for a, b, goal in pairs:
        if a in rate and b in rate:
            ratio = rate[a] / rate[b]
            print(
                f"  {a} / {b}: {ratio:.2f}x images/s (goal >= {goal:.2f}x: "
                f"{'met' if ratio >= goal else 'NOT met'}), {cost[a] / cost[b]:.2f}x CPU per image"
            )
    return 1000 / cost["processes+variants"] if "processes+variants" in cost else None


def rematch_part(args: argparse.Namespace, rescans: dict[str, float]) -> None:
    """Part 2: stored hashes matched against the whole big bank (a sample) and against the
    bank's changes after a sync (all of them)."""
    print(f"load average {os.getloadavg()[0]:.1f}", flush=True)
    codes = balanced_codes(args.big_bank, 2)
    keys = np.arange(1, len(codes) + 1, dtype=np.int64)
    started = time.perf_counter()
    data = BankData.create(keys, codes, ["full"] * len(codes), [], 1)
    seconds = time.perf_counter() - started
    big = Bank.build(data)
    seconds_build = time.perf_counter() - started - seconds
    print(f"big bank {len(codes):,}: checksum {seconds:.1f} s, index {seconds_build:.1f} s")
    n, cpu, wall = match_rate(big, stored_batches(args.sample, 3))
    print(
        f"full match of {n:,} stored photos ({PER_ITEM * n:,} hashes) vs {len(codes):,}: "
        f"{PER_ITEM * n / cpu:,.0f} hashes/s per core, {1000 * cpu / n:.3f} CPU ms/photo "
        f"(wall {n / wall:,.0f} photos/s)",
        flush=True,
    )
    del big, data
    change = np.random.default_rng(4).choice(len(codes), args.changes, replace=False)
    delta = BankData.create(keys[change], codes[change], ["full"] * args.changes, [], 2)
    small = Bank.build(delta)
    items = max(1, args.stored // PER_ITEM)
    n2, cpu2, wall2 = match_rate(small, stored_batches(items, 5))
    print(
        f"re-match of {PER_ITEM * n2:,} stored hashes ({n2:,} photos) vs the {args.changes:,} "
        f"changes of the {len(codes):,} bank: {PER_ITEM * n2 / cpu2:,.0f} hashes/s per core, "
        f"{1000 * cpu2 / n2:.3f} CPU ms/photo (wall {n2 / wall2:,.0f} photos/s)"
    )
    for name, per_core in rescans.items():
        print(
            f"  per photo vs a full rescan ({name}: {1000 / per_core:.1f} CPU ms): "
            f"re-match {n2 / cpu2 / per_core:,.0f}x faster (goal >= 500x), "
            f"full match vs {len(codes):,} {n / cpu / per_core:,.0f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"small sizes: {QUICK}")
    parser.add_argument("--photos", type=int, help=f"photos scanned (default {FULL['photos']})")
    parser.add_argument("--bank", type=int, help=f"PDQ hashes in the scan's bank ({FULL['bank']})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, help=f"rounds of the engines ({FULL['rounds']})")
    parser.add_argument(
        "--variant-rounds",
        type=int,
        help=f"rounds of the +variants engines ({FULL['variant_rounds']})",
    )
    parser.add_argument("--engines", default=ENGINES, help=f"a subset of {ENGINES}")
    parser.add_argument("--stored", type=int, help=f"stored hashes re-matched ({FULL['stored']})")
    parser.add_argument("--big-bank", type=int, help=f"the big bank ({FULL['big_bank']})")
    parser.add_argument("--changes", type=int, help=f"records a sync changed ({FULL['changes']})")
    parser.add_argument("--sample", type=int, help=f"photos fully matched ({FULL['sample']})")
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--skip-rematch", action="store_true")
    args = parser.parse_args()
    for name, value in (QUICK if args.quick else FULL).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    started = time.perf_counter()
    print(f"load average {os.getloadavg()}; {os.cpu_count()} CPUs; {vars(args)}", flush=True)
    big = big_photo_cost()
    print(
        f"one 12 MP JPEG, CPU ms (median of 7): {big[False]:.0f} without variants, "
        f"{big[True]:.0f} with variants (decode, PDQ, dihedral, MD5, query variants)",
        flush=True,
    )
    rescans = {"12 MP photo, with variants": 1000 / big[True]}
    if not args.skip_scan:
        per_core = scan_engines(args)
        if per_core is not None:
            rescans["these photos, processes+variants"] = per_core
    if not args.skip_rematch:
        rematch_part(args, rescans)
    print(
        f"load average at the end {os.getloadavg()}; {time.perf_counter() - started:.0f} s in all"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

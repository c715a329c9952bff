"""Benchmark: ``openncii.index.PDQIndex`` against faiss ``IndexBinaryMultiHash(256, 16, 16)``.

The peer is what python-threatexchange and HMA use for PDQ (``nflip = threshold // 16``,
``range_search(q, threshold + 1)``, exactly as threatexchange's ``PDQMultiHashIndex`` does).
Brute force (faiss ``IndexBinaryFlat.range_search``) is the reference for recall.

Data: balanced random 256-bit codes (exactly 128 bits set, like PDQ), cached in
``bench/.cache/index``; half of the queries are database rows with ``d`` bits flipped
(``d`` uniform in 0..40: planted neighbours around the threshold), half are fresh random codes.
Everything runs on one core: ``OMP_NUM_THREADS=1`` and ``faiss.omp_set_num_threads(1)``; our
kernel is single-threaded. Timed rounds alternate ours / faiss so load from other processes hits
both alike; we report medians of queries per second (wall clock, and per CPU second of this
process, which is less sensitive to a shared machine) and the ratio.

Run: ``.venv/bin/python bench/index.py --sizes 1000000,10000000``
(needs the ``bench`` extra: ``.venv/bin/pip install -e '.[bench]'``).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, TypeVar  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from openncii.index import PDQIndex, backend  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "bench" / ".cache" / "index"
THRESHOLD = 31
Codes = npt.NDArray[np.uint8]
Results = list[set[tuple[int, int]]]
T = TypeVar("T")


def balanced_codes(n: int, seed: int) -> Codes:
    """``n`` random 256-bit codes with exactly 128 bits set (cached on disk)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"balanced-{n}-{seed}.npy"
    if path.exists():
        return np.load(path)
    rng = np.random.default_rng(seed)
    out = np.empty((n, 32), dtype=np.uint8)
    half = np.zeros(256, dtype=np.uint8)
    half[:128] = 1
    block = 250_000
    for start in range(0, n, block):
        k = min(block, n - start)
        bits = rng.permuted(np.broadcast_to(half, (k, 256)), axis=1)
        out[start : start + k] = np.packbits(bits, axis=1)
    np.save(path, out)
    return out


def planted_queries(codes: Codes, count: int, seed: int) -> tuple[Codes, list[int]]:
    """Half: a random row with ``d`` in 0..40 bits flipped; half: fresh random codes."""
    rng = np.random.default_rng(seed + 1)
    queries = np.empty((count, 32), dtype=np.uint8)
    distances = []
    for i in range(count):
        if i % 2 == 0:
            d = int(rng.integers(0, 41))
            bits = np.unpackbits(codes[rng.integers(len(codes))])
            bits[rng.choice(256, size=d, replace=False)] ^= 1
            queries[i] = np.packbits(bits)
            distances.append(d)
        else:
            bits = rng.permutation(np.repeat(np.array([0, 1], dtype=np.uint8), 128))
            queries[i] = np.packbits(bits)
    return queries, distances


def rss_bytes() -> int:
    with Path("/proc/self/statm").open() as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def faiss_sets(lims: Any, dists: Any, ids: Any) -> Results:
    return [
        set(
            zip(
                ids[lims[i] : lims[i + 1]].tolist(),
                dists[lims[i] : lims[i + 1]].tolist(),
                strict=True,
            )
        )
        for i in range(len(lims) - 1)
    ]


def ours_sets(index: PDQIndex, queries: Codes) -> Results:
    return [set(m) for m in index.search(queries, THRESHOLD)]


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()``, its wall-clock seconds and this process's CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def recall(found: Results, truth: Results) -> float:
    want = sum(len(t) for t in truth)
    got = sum(len(f & t) for f, t in zip(found, truth, strict=True))
    return got / want if want else 1.0


def run_size(n: int, args: argparse.Namespace) -> dict[str, Any]:
    codes = balanced_codes(n, args.seed)
    queries, _ = planted_queries(codes, args.queries, args.seed)
    peer_queries = queries[: args.faiss_queries]
    row: dict[str, Any] = {"n": n}

    gc.collect()
    before = rss_bytes()
    ours, wall, cpu = timed(lambda: PDQIndex.build(codes))
    row["ours_build_s"] = wall
    row["ours_build_cpu_s"] = cpu
    row["ours_bytes"] = ours.nbytes / n
    row["ours_rss_bytes"] = (rss_bytes() - before) / n
    row["tables"] = ours.n_tables

    if n > args.peer_max:
        return ours_only(row, ours, codes, queries, args)

    gc.collect()
    before = rss_bytes()
    peer = faiss.IndexBinaryMultiHash(256, 16, 16)
    peer.nflip = THRESHOLD // 16
    _, wall, cpu = timed(lambda: peer.add(codes))
    row["faiss_build_s"] = wall
    row["faiss_build_cpu_s"] = cpu
    row["faiss_rss_bytes"] = (rss_bytes() - before) / n

    # Correctness: ours and faiss MIH vs brute force on a subset of the queries.
    check, truth = check_against_brute_force(row, ours, codes, queries, args)
    row["faiss_recall"] = recall(faiss_sets(*peer.range_search(check, THRESHOLD + 1)), truth)
    # Ours on every query agrees with faiss MIH on the peer's query set.
    row["agree_with_faiss"] = ours_sets(ours, peer_queries) == faiss_sets(
        *peer.range_search(peer_queries, THRESHOLD + 1)
    )

    # Timing: alternate ours / faiss; ours on the same queries as faiss and on all queries.
    t_ours_all: list[tuple[float, float]] = []
    t_ours_peerset: list[tuple[float, float]] = []
    t_peer: list[tuple[float, float]] = []
    ours.search_arrays(queries[:100])  # warm-up
    for _ in range(args.rounds):
        t_ours_all.append(timed(lambda: ours.search_arrays(queries, THRESHOLD))[1:])
        t_ours_peerset.append(timed(lambda: ours.search_arrays(peer_queries, THRESHOLD))[1:])
        t_peer.append(timed(lambda: peer.range_search(peer_queries, THRESHOLD + 1))[1:])

    def qps(samples: list[tuple[float, float]], count: int, which: int) -> float:
        return count / statistics.median(s[which] for s in samples)

    row["ours_qps"] = qps(t_ours_all, len(queries), 0)
    row["ours_qps_cpu"] = qps(t_ours_all, len(queries), 1)
    row["ours_qps_peerset"] = qps(t_ours_peerset, len(peer_queries), 0)
    row["faiss_qps"] = qps(t_peer, len(peer_queries), 0)
    row["faiss_qps_cpu"] = qps(t_peer, len(peer_queries), 1)
    row["ours_qps_all_rounds"] = [round(len(queries) / s[0]) for s in t_ours_all]
    return row


def check_against_brute_force(
    row: dict[str, Any], ours: PDQIndex, codes: Codes, queries: Codes, args: argparse.Namespace
) -> tuple[Codes, Results]:
    """Brute force (faiss ``IndexBinaryFlat``) on ``--check-queries``; ours must equal it."""
    flat = faiss.IndexBinaryFlat(256)
    flat.add(codes)
    check = queries[: args.check_queries]
    truth, wall, _ = timed(lambda: faiss_sets(*flat.range_search(check, THRESHOLD + 1)))
    row["brute_qps"] = len(check) / wall
    flat.reset()  # free its copy of the codes
    row["ours_recall"] = recall(ours_sets(ours, check), truth)
    row["ours_exact"] = ours_sets(ours, check) == truth
    row["matches_checked"] = sum(len(t) for t in truth)
    return check, truth


def ours_only(
    row: dict[str, Any], ours: PDQIndex, codes: Codes, queries: Codes, args: argparse.Namespace
) -> dict[str, Any]:
    """A size above ``--peer-max``: faiss MIH would not fit beside ours, so ours alone (checked
    against brute force all the same)."""
    check_against_brute_force(row, ours, codes, queries, args)
    ours.search_arrays(queries[:100])  # warm-up
    samples = [
        timed(lambda: ours.search_arrays(queries, THRESHOLD))[1:] for _ in range(args.rounds)
    ]
    row["ours_qps"] = len(queries) / statistics.median(s[0] for s in samples)
    row["ours_qps_cpu"] = len(queries) / statistics.median(s[1] for s in samples)
    row["ours_qps_all_rounds"] = [round(len(queries) / s[0]) for s in samples]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="1000000,10000000", help="database sizes, comma-separated"
    )
    parser.add_argument("--queries", type=int, default=4000, help="queries timed for ours")
    parser.add_argument("--faiss-queries", type=int, default=200, help="queries timed for faiss")
    parser.add_argument(
        "--check-queries", type=int, default=1000, help="queries checked vs brute force"
    )
    parser.add_argument(
        "--peer-max",
        type=int,
        default=10**12,
        help="largest size faiss MIH is built at (above it, ours alone: ~400 B/hash with both)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)
    if backend() != "c":
        raise SystemExit("the compiled kernel is missing: pip install -e .")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at start: {load}; cores: {os.cpu_count()}; faiss {faiss.__version__}")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        row = run_size(size, args)
        rows.append(row)
        print(row, flush=True)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average at end: {load}")
    print()
    print(
        "| hashes | ours q/s | faiss MIH q/s | ours / faiss | ours q/s per CPU s "
        "| faiss q/s per CPU s | brute force q/s | ours build s (CPU s) | faiss build s "
        "| ours B/hash (RSS) | faiss B/hash (RSS) | recall ours / faiss | exact |"
    )
    print("|---:" * 12 + "|---|")
    for r in rows:
        if "faiss_qps" not in r:
            print(
                f"| {r['n']:,} | {r['ours_qps']:,.0f} | not built | - | {r['ours_qps_cpu']:,.0f} "
                f"| - | {r['brute_qps']:,.2f} "
                f"| {r['ours_build_s']:.1f} ({r['ours_build_cpu_s']:.1f}) | - "
                f"| {r['ours_bytes']:.1f} ({r['ours_rss_bytes']:.1f}) | - "
                f"| {r['ours_recall']:.4f} / - | {'yes' if r['ours_exact'] else 'NO'} "
                f"({r['matches_checked']} matches) |"
            )
            continue
        print(
            f"| {r['n']:,} | {r['ours_qps']:,.0f} | {r['faiss_qps']:,.1f} "
            f"| {r['ours_qps_peerset'] / r['faiss_qps']:,.0f}x | {r['ours_qps_cpu']:,.0f} "
            f"| {r['faiss_qps_cpu']:,.1f} | {r['brute_qps']:,.1f} "
            f"| {r['ours_build_s']:.1f} ({r['ours_build_cpu_s']:.1f}) | {r['faiss_build_s']:.1f} "
            f"| {r['ours_bytes']:.1f} ({r['ours_rss_bytes']:.1f}) | {r['faiss_rss_bytes']:.1f} "
            f"| {r['ours_recall']:.4f} / {r['faiss_recall']:.4f} "
            f"| {'yes' if r['ours_exact'] and r['agree_with_faiss'] else 'NO'} "
            f"({r['matches_checked']} matches) |"
        )


if __name__ == "__main__":
    main()

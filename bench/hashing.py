"""Benchmark: ``openncii.hash_file`` against "Pillow full decode + the C++ PDQ core" (pdqhash).

Both paths run on the same files in the same process, interleaved (ours, peer, ours, peer, ...)
so that load from other processes hits both alike; we report medians and the ratio
ours / peer, which is what holds across machines. Our time includes everything
``hash_file`` does (content sniffing, MD5 of the file, decode, PDQ); the peer's is decode +
EXIF transpose + RGB conversion + ``pdqhash.compute``.

Two sets:

- ``12mp``: 12-megapixel JPEGs (4032 x 3024, or 4032 on the long side), made by upscaling the
  photos in ``../shared/testdata/photos`` with Lanczos and saving at JPEG quality 90; cached in
  ``bench/.cache/12mp`` (made once).
- ``photos``: the photos as they are (up to 1600 px on the long side).

Drift is the Hamming distance between our hash and the peer's full-resolution hash of the
same file (the fast path decodes large JPEGs at reduced scale).

Run: ``.venv/bin/python bench/hashing.py [--files N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pdqhash
from PIL import Image, ImageOps

import openncii
from openncii.signals.pdq import PdqHash

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
CACHE = ROOT / "bench" / ".cache" / "12mp"
LONG_SIDE, SHORT_SIDE = 4032, 3024


def make_12mp(sources: list[Path], cache: Path = CACHE) -> list[Path]:
    """Upscale each photo so that it covers 4032 x 3024 (in its own orientation), into ``cache``.

    Shared with ``bench/browser.py``, which keeps its own cache folder.
    """
    cache.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for src in sources:
        target = cache / src.name
        if not target.exists():
            with Image.open(src) as image:
                rgb = image.convert("RGB")
                w, h = rgb.size
                scale = max(LONG_SIDE / max(w, h), SHORT_SIDE / min(w, h))
                size = (round(w * scale), round(h * scale))
                rgb.resize(size, Image.Resampling.LANCZOS).save(target, quality=90)
        out.append(target)
    return out


def peer_hash(path: Path) -> str:
    """Pillow full decode + EXIF transpose + the C++ reference core (pdqhash)."""
    with Image.open(path) as image:
        rgb = np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    bits, quality = pdqhash.compute(rgb)
    # pdqhash returns the bits most-significant first; ours are indexed from bit 0.
    return PdqHash(bits=bits[::-1].astype(np.bool_), quality=int(quality)).hex


def ours_hash(path: Path) -> str:
    result = openncii.hash_file(path)
    assert result.pdq is not None
    return result.pdq


def timed(fn: Callable[[Path], str], path: Path) -> tuple[float, str]:
    start = time.perf_counter()
    value = fn(path)
    return time.perf_counter() - start, value


def run_set(name: str, files: list[Path], rounds: int) -> dict[str, float]:
    ours_times: dict[Path, list[float]] = {f: [] for f in files}
    peer_times: dict[Path, list[float]] = {f: [] for f in files}
    drift: dict[Path, int] = {}
    for f in files:  # warm the page cache and the imports
        ours_hash(f)
        peer_hash(f)
    for _ in range(rounds):
        for f in files:
            t_ours, h_ours = timed(ours_hash, f)
            t_peer, h_peer = timed(peer_hash, f)
            ours_times[f].append(t_ours)
            peer_times[f].append(t_peer)
            drift[f] = PdqHash.from_hex(h_ours).distance(PdqHash.from_hex(h_peer))
    ours_med = [statistics.median(v) for v in ours_times.values()]
    peer_med = [statistics.median(v) for v in peer_times.values()]
    ratios = [o / p for o, p in zip(ours_med, peer_med, strict=True)]
    result = {
        "files": float(len(files)),
        "ours_ms": statistics.median(ours_med) * 1000,
        "peer_ms": statistics.median(peer_med) * 1000,
        "ratio_median": statistics.median(ratios),
        "ratio_worst": max(ratios),
        "drift_median": float(statistics.median(drift.values())),
        "drift_max": float(max(drift.values())),
    }
    print(
        f"| {name} | {len(files)} | {result['ours_ms']:.1f} | {result['peer_ms']:.1f} | "
        f"{result['ratio_median']:.3f} (worst {result['ratio_worst']:.3f}) | "
        f"{result['drift_median']:.0f} / {result['drift_max']:.0f} |",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=12, help="photos per set (default 12)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds per file (default 5)")
    args = parser.parse_args()
    sources = sorted(PHOTOS.glob("*.jpg"))
    if not sources:
        raise SystemExit(f"no photos in {PHOTOS}: the shared test data is missing")
    step = max(1, len(sources) // args.files)
    chosen = sources[::step][: args.files]
    print(
        "| set | files | ours median (ms) | Pillow + C++ median (ms) | ours / peer "
        "| drift median / max (bits) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    run_set("12 MP JPEG", make_12mp(chosen), args.rounds)
    run_set("photos as they are", chosen, args.rounds)


if __name__ == "__main__":
    main()

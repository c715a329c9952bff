"""Hash one file in a fresh process and report its peak memory above the resting size.

Run as ``python tests/memory_probe.py PATH [--full-resolution]``; prints one JSON object:
``{"rest": bytes, "peak": bytes, "growth": bytes, "seconds": s, "result": {...} | "error": str}``.

The process first hashes a tiny image and a tiny video (imports, codec tables and numpy's
first allocations happen there), so ``rest`` (psutil's RSS just before hashing) is the
resting size of a process that hashes. The peak is the kernel's high-water mark of resident
memory (``VmHWM``), reset to the current size just before hashing (``/proc/self/clear_refs``):
every short-lived allocation counts, which a sampling thread could miss.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from PIL import Image


def _high_water_mark() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _warm_up(hash_file: object) -> None:
    import av

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        pixels = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
        for name in ("warm.png", "warm.jpg"):
            Image.fromarray(pixels).save(Path(folder) / name)
        video = Path(folder) / "warm.mp4"
        with av.open(str(video), "w") as container:
            stream = container.add_stream("libx264", rate=10)
            stream.width, stream.height, stream.pix_fmt = 96, 64, "yuv420p"
            for _ in range(3):
                frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        for name in ("warm.png", "warm.jpg", "warm.mp4"):
            hash_file(Path(folder) / name)  # type: ignore[operator]


def main(argv: list[str]) -> int:
    from openncii import hash_file
    from openncii.errors import MediaError

    path = Path(argv[0])
    fast = "--full-resolution" not in argv
    _warm_up(hash_file)
    gc.collect()
    rest = psutil.Process().memory_info().rss
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    started = time.perf_counter()
    outcome: dict[str, object]
    try:
        hashes = hash_file(path, fast=fast)
    except MediaError as exc:
        outcome = {"error": str(exc), "error_type": type(exc).__name__}
    else:
        outcome = {"result": hashes.to_json()}
    seconds = time.perf_counter() - started
    peak = _high_water_mark()
    report = {"rest": rest, "peak": peak, "growth": peak - rest, "seconds": seconds, **outcome}
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

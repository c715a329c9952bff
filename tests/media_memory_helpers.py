"""Large and hostile media for the memory tests, and the probe that measures hashing them.

Files are written without holding their pixels in memory where the format allows it (PNG is
written row by row), so the tests themselves stay light.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

PROBE = Path(__file__).with_name("memory_probe.py")
MB = 1024 * 1024


@dataclass(frozen=True)
class Probe:
    """What ``memory_probe.py`` measured for one file."""

    rest: int
    peak: int
    growth: int
    seconds: float
    result: dict[str, Any] | None
    error: str | None
    error_type: str | None

    @property
    def growth_mb(self) -> float:
        return self.growth / MB


def probe(path: Path, *, fast: bool = True, timeout: float = 600) -> Probe:
    """Hash ``path`` in a fresh process; return its peak memory growth and outcome."""
    args = [sys.executable, str(PROBE), str(path)]
    if not fast:
        args.append("--full-resolution")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENNCII_")}
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, check=False, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return Probe(
        rest=data["rest"],
        peak=data["peak"],
        growth=data["growth"],
        seconds=data["seconds"],
        result=data.get("result"),
        error=data.get("error"),
        error_type=data.get("error_type"),
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def pattern_row(y: int, width: int, channels: int) -> bytes:
    """One row of a smooth pattern with structure (so the image has a real PDQ hash)."""
    x = np.arange(width, dtype=np.int64)
    cell = ((x * 7 // max(1, width)) + (y * 7 // max(1, width))) % 2
    base = (x * 255 // max(1, width - 1) + cell * 96) % 256
    if channels == 1:
        return base.astype(np.uint8).tobytes()
    rgb = np.stack([base, (base + y * 255 // max(1, width)) % 256, 255 - base], axis=1)
    return rgb.astype(np.uint8).tobytes()


def write_png(
    path: Path,
    width: int,
    height: int,
    *,
    channels: int = 1,
    row: Callable[[int, int, int], bytes] = pattern_row,
) -> Path:
    """A ``width x height`` 8-bit greyscale (1) or RGB (3) PNG, written row by row."""
    colour_type = {1: 0, 3: 2}[channels]
    compressor = zlib.compressobj(6)
    parts = [
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)),
    ]
    pending = bytearray()
    period = 64  # rows repeat in bands: fast to generate, compresses to little
    cache: dict[int, bytes] = {}
    for y in range(height):
        key = (y // period) % 32
        line = cache.get(key)
        if line is None:
            line = cache[key] = b"\x00" + row(key * period, width, channels)
        pending += compressor.compress(line)
        if len(pending) > 1 << 20:
            parts.append(_chunk(b"IDAT", bytes(pending)))
            pending.clear()
    pending += compressor.flush()
    parts.append(_chunk(b"IDAT", bytes(pending)))
    parts.append(_chunk(b"IEND", b""))
    path.write_bytes(b"".join(parts))
    return path


def pattern_image(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A Pillow image with the pattern of :func:`pattern_row` (built by tiling one band)."""
    band_rows = 64 * 32
    band = np.frombuffer(
        b"".join(pattern_row((y // 64) * 64, width, 3) for y in range(min(height, band_rows))),
        dtype=np.uint8,
    ).reshape(-1, width, 3)
    reps = -(-height // len(band))
    pixels: npt.NDArray[np.uint8] = np.tile(band, (reps, 1, 1))[:height]
    image = Image.fromarray(pixels)
    return image if mode == "RGB" else image.convert(mode)


def write_video(
    path: Path, width: int, height: int, frames: int = 3, codec: str = "libx264"
) -> Path:
    """A short video of ``width x height`` frames with moving structure."""
    import av

    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=Fraction(2, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"} if codec == "libx264" else {}
        base = pattern_image(width, height).convert("RGB")
        for index in range(frames):
            shifted = np.roll(np.asarray(base), index * 8, axis=1)
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(shifted), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path

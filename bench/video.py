"""Benchmark: vPDQ hashing of the reference's sample clips, where the time goes.

For each clip in ``../shared/testdata/threatexchange/tmk/sample-videos`` and each sampling rate
(one frame per second, every frame) we measure, in one pass, the CPU time of this process
(``time.process_time``: it includes FFmpeg's decoding threads and is less disturbed than wall
time when other jobs share the machine):

- ``decode``: ``iter_video_frames`` (demux, decode, RGB24 conversion);
- ``pdq``: ``openncii.signals.pdq.pdq_from_rgb`` on the yielded frames;
- ``core``: the C++ PDQ core (PyPI ``pdqhash``) on the same frames, for comparison only.

and the agreement with the reference's hashes in
``vpdq/sample-hashes/<clip>.txt``: the share of frames of reference quality >= 50 within
distance 31, and the share of bit-identical frames.

Run: ``.venv/bin/python bench/video.py [--only NAME]``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pdqhash

from openncii.media.video import iter_video_frames
from openncii.signals.pdq import pdq_from_rgb
from openncii.signals.vpdq import parse_vpdq_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "testdata" / "threatexchange"
CLIPS = DATA / "tmk" / "sample-videos"
HASHES = DATA / "vpdq" / "sample-hashes"


def run(clip: Path, fps: float) -> dict[str, float]:
    decode = pdq = core = 0.0
    frames = within = usable = exact = 0
    reference = {}
    if (HASHES / f"{clip.stem}.txt").exists():
        reference = {f.frame: f for f in parse_vpdq_text((HASHES / f"{clip.stem}.txt").read_text())}
    iterator = iter_video_frames(clip, fps=fps)
    wall = time.perf_counter()
    start = time.process_time()
    for frame in iterator:
        t0 = time.process_time()
        decode += t0 - start
        ours = pdq_from_rgb(frame.rgb)
        t1 = time.process_time()
        pdq += t1 - t0
        pdqhash.compute(frame.rgb)
        t2 = time.process_time()
        core += t2 - t1
        frames += 1
        ref = reference.get(frame.index)
        if ref is not None:
            distance = ours.distance(ref.hash)
            exact += distance == 0
            if ref.quality >= 50:
                usable += 1
                within += distance <= 31
        start = time.process_time()
    decode += time.process_time() - start
    return {
        "frames": frames,
        "wall": time.perf_counter() - wall,
        "decode": decode,
        "pdq": pdq,
        "core": core,
        "within": 100.0 * within / usable if usable else float("nan"),
        "exact": 100.0 * exact / frames if reference else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="substring of the clip names to run")
    args = parser.parse_args()
    print(
        "| clip | fps | frames | decode CPU s | pdq_from_rgb CPU s | PDQ ms/frame | C++ core CPU s "
        "| wall s (all three) | within 31 % | exact % |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for clip in sorted(CLIPS.glob("*.mp4")):
        if args.only and args.only not in clip.name:
            continue
        for fps in (1.0, 0.0):
            r = run(clip, fps)
            print(
                f"| {clip.stem} | {'all' if fps == 0 else f'{fps:g}'} | {r['frames']:.0f} "
                f"| {r['decode']:.2f} | {r['pdq']:.2f} | {1000 * r['pdq'] / r['frames']:.1f} "
                f"| {r['core']:.2f} | {r['wall']:.2f} | {r['within']:.1f} | {r['exact']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()

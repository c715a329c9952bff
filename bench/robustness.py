"""Benchmark: robust matching (``openncii.enroll_file`` / ``query_file`` / ``match_variants``)
against plain PDQ at 31 with the 8 dihedral variants (what StopNCII and HMA do), per edit.

Photos: ``../shared/testdata/photos``, split once and for all by the file name: a photo is in
the *tuning* half when the first byte of the SHA-256 of its name is even, else in the *report*
half. Tune on the tuning half only; the report half gives the figures.

For each photo: enrol the original file (ours: ``enroll_file``; the peer: the PDQ of the file
as ``openncii.hash_file`` computes it). For each edit: make the edited copy from the original's
full-resolution pixels, save it as a JPEG (quality 90 unless the edit says otherwise), and
query with it (ours: ``query_file`` + ``match_variants`` against the photo's enrolment; the
peer: the upload's PDQ and its 8 dihedral variants, a match when any is within 31 bits).

False matches: every edited copy and every unrelated picture is matched against every
enrolled photo that is not its own. Unrelated pictures come from Debian packages installed on
this machine (``--unrelated-dir``, default: the wallpaper and image packages listed in
``UNRELATED_DIRS``; install them with ``apt-get install``, never commit their images). For the
extrapolation to a large bank, the unrelated pictures are also enrolled, and for every pair of
different pictures (one as the upload, one as the enrolled photo) the smallest distance of each
pair class (whole: full/dihedral/trim vs full/trim; square vs square; strip vs strip) is kept.
The lower tail of each class's distribution is fitted (log10 of the empirical CDF, linear in
the distance: an exponential tail, more pessimistic than a normal one) and extrapolated to the
class's threshold: P(class). The expected false matches per upload against a bank of N photos
are ``N * sum(P(class))`` (a union bound).

Run: ``.venv/bin/python bench/robustness.py [--half report|tune|all] [--photos N]
[--unrelated N] [--jobs J]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

import openncii
from openncii.media.bitmap import load_working_bitmap
from openncii.signals.pdq import PdqHash
from openncii.signals.variants import (
    PART_THRESHOLD,
    WHOLE_THRESHOLD,
    Kind,
    PdqVariant,
    enrol_variants,
    match_variants,
    query_variants,
)

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
UNRELATED_DIRS = (
    "/usr/share/wallpapers",  # plasma-workspace-wallpapers
    "/usr/share/backgrounds",  # gnome-backgrounds, ukui-wallpapers, lomiri-wallpapers*
    "/usr/share/mypaint-data/backgrounds",  # mypaint-data-extras
    "/usr/share/tuxpaint/stamps",  # tuxpaint-stamps-default
)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}

Edit = Callable[[Image.Image], Image.Image]


def in_tuning_half(name: str) -> bool:
    return hashlib.sha256(name.encode()).digest()[0] % 2 == 0


# ---------------------------------------------------------------------------------------------
# Edits


def _crop_each_side(percent: float) -> Edit:
    def edit(im: Image.Image) -> Image.Image:
        w, h = im.size
        dx, dy = round(w * percent / 100), round(h * percent / 100)
        return im.crop((dx, dy, w - dx, h - dy))

    return edit


def _centre_square(im: Image.Image) -> Image.Image:
    w, h = im.size
    s = min(w, h)
    return im.crop(((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s))


def _letterbox(im: Image.Image) -> Image.Image:
    w, h = im.size
    bar = round(h * 0.2)
    out = Image.new("RGB", (w, h + 2 * bar), (0, 0, 0))
    out.paste(im, (0, bar))
    return out


def _rotate(degrees: float, expand: bool) -> Edit:
    def edit(im: Image.Image) -> Image.Image:
        return im.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=expand)

    return edit


def _caption_bar(im: Image.Image) -> Image.Image:
    out = im.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    draw.rectangle((0, h - round(h * 0.15), w, h), fill=(255, 255, 255))
    return out


def _screenshot(im: Image.Image) -> Image.Image:
    w, h = im.size
    cw, ch = round(w * 1.1), round(h * 1.35)
    out = Image.new("RGB", (cw, ch), (246, 246, 246))
    bar = round(ch * 0.07)
    ImageDraw.Draw(out).rectangle((0, 0, cw, bar), fill=(28, 28, 30))
    out.paste(im, ((cw - w) // 2, bar + (ch - bar - h) // 3))
    return out


def _sticker(im: Image.Image) -> Image.Image:
    out = im.copy()
    w, h = out.size
    sw, sh = round(w * 0.2), round(h * 0.2)
    x0, y0 = w - sw - round(w * 0.02), h - sh - round(h * 0.02)
    draw = ImageDraw.Draw(out)
    draw.rounded_rectangle((x0, y0, x0 + sw, y0 + sh), radius=min(sw, sh) // 5, fill=(250, 190, 20))
    draw.ellipse(
        (x0 + sw // 4, y0 + sh // 4, x0 + 3 * sw // 4, y0 + 3 * sh // 4), fill=(230, 60, 40)
    )
    return out


def _off_centre_crop(im: Image.Image) -> Image.Image:
    w, h = im.size
    return im.crop((round(w * 0.12), round(h * 0.12), w, h))


def _rotate_then_crop(im: Image.Image) -> Image.Image:
    w, h = im.size
    turned = im.rotate(3, resample=Image.Resampling.BICUBIC, expand=False)
    theta = math.radians(3)
    scale = 1 / (math.cos(theta) + math.sin(theta) * max(w, h) / min(w, h))
    cw, ch = round(w * scale), round(h * scale)
    return turned.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))


def blurred_padding(im: Image.Image) -> Image.Image:
    """A landscape photo in a 9:16 frame filled with a blurred, enlarged copy of itself."""
    w, h = im.size
    ch = round(w * 16 / 9)
    small = im.resize((max(8, w // 8), max(8, h // 8))).filter(ImageFilter.GaussianBlur(w / 240))
    back = small.resize((round(w * ch / h), ch), Image.Resampling.BILINEAR)
    bw = back.size[0]
    back = back.crop(((bw - w) // 2, 0, (bw - w) // 2 + w, ch))
    back.paste(im, (0, (ch - h) // 2))
    return back


#: Each edit: (name, function, JPEG quality of the saved copy, counts towards the goal).
EDITS: tuple[tuple[str, Edit, int, bool], ...] = (
    ("jpeg q40", lambda im: im, 40, True),
    ("resize 25%", lambda im: im.resize((max(8, im.width // 4), max(8, im.height // 4))), 90, True),
    (
        "blur",
        lambda im: im.filter(ImageFilter.GaussianBlur(max(1.0, min(im.size) / 200))),
        90,
        True,
    ),
    ("brightness +30%", lambda im: ImageEnhance.Brightness(im).enhance(1.3), 90, True),
    ("grayscale", lambda im: ImageOps.grayscale(im).convert("RGB"), 90, True),
    ("mirror", ImageOps.mirror, 90, True),
    ("rotate 90", lambda im: im.transpose(Image.Transpose.ROTATE_90), 90, True),
    ("crop 3%", _crop_each_side(3), 90, True),
    ("crop 8%", _crop_each_side(8), 90, True),
    ("crop 15%", _crop_each_side(15), 90, True),
    ("centre square", _centre_square, 90, True),
    ("letterbox 20%", _letterbox, 90, True),
    ("rotate 3 (black corners)", _rotate(3, expand=False), 90, True),
    ("rotate 3 (black, expanded)", _rotate(-3, expand=True), 90, True),
    ("white caption bar 15%", _caption_bar, 90, True),
    ("screenshot frame", _screenshot, 90, True),
    ("corner sticker 20%", _sticker, 90, True),
    ("off-centre crop 12%", _off_centre_crop, 90, False),
    ("rotate 3 then crop", _rotate_then_crop, 90, False),
    ("blurred padding 9:16", blurred_padding, 90, False),
)


# ---------------------------------------------------------------------------------------------
# Work per photo (in worker processes)


@dataclass
class PhotoResult:
    name: str
    enrolled: list[PdqVariant]
    peer: str
    # edit name -> (our query variants, the peer's 8 dihedral hex, our query ms)
    queries: dict[str, tuple[list[PdqVariant], list[str], float]]
    enrol_ms: float


def _decode(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return ImageOps.exif_transpose(opened).convert("RGB")


def _peer_hash(path: Path) -> PdqHash:
    rgb = openncii.hash_file(path, dihedral=True)
    assert rgb.pdq is not None and rgb.dihedral is not None
    return PdqHash.from_hex(rgb.pdq)


def work_photo(path: Path) -> PhotoResult:
    started = time.perf_counter()
    enrolled = openncii.enroll_file(path)
    enrol_ms = (time.perf_counter() - started) * 1000
    peer = openncii.hash_file(path).pdq
    assert peer is not None
    original = _decode(path)
    queries: dict[str, tuple[list[PdqVariant], list[str], float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, edit, quality, _ in EDITS:
            copy = Path(tmp) / "copy.jpg"
            edit(original).save(copy, quality=quality)
            started = time.perf_counter()
            variants = openncii.query_file(copy)
            ms = (time.perf_counter() - started) * 1000
            hashed = openncii.hash_file(copy, dihedral=True)
            assert hashed.dihedral is not None
            queries[name] = (variants, list(hashed.dihedral), ms)
    return PhotoResult(path.name, enrolled, peer, queries, enrol_ms)


def work_unrelated(path: Path) -> tuple[str, list[PdqVariant], list[PdqVariant], list[str]] | None:
    try:
        rgb = load_working_bitmap(path)
        hashed = openncii.hash_file(path, dihedral=True)
    except (openncii.MediaError, OSError):
        return None
    if hashed.quality is None or hashed.quality < 50 or hashed.dihedral is None:
        return None
    return str(path), enrol_variants(rgb), query_variants(rgb), list(hashed.dihedral)


# ---------------------------------------------------------------------------------------------
# Distances


def codes(variants: list[PdqVariant]) -> np.ndarray:
    return np.stack([v.as_code() for v in variants]) if variants else np.zeros((0, 32), np.uint8)


def signs(code: np.ndarray) -> np.ndarray:
    """+-1 float32 per bit, so that distance = (256 - a . b) / 2."""
    bits = np.unpackbits(code, axis=1).astype(np.float32)
    return bits * 2 - 1


def distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.rint((256 - signs(a) @ signs(b).T) / 2).astype(np.int16)


CLASSES = ("whole", "square", "strip")
CLASS_THRESHOLD = {"whole": WHOLE_THRESHOLD, "square": PART_THRESHOLD, "strip": PART_THRESHOLD}


def query_class(kind: Kind) -> str | None:
    if kind in (Kind.FULL, Kind.DIHEDRAL, Kind.TRIM):
        return "whole"
    return kind.value


def enrolled_class(kind: Kind) -> str | None:
    if kind in (Kind.FULL, Kind.TRIM):
        return "whole"
    if kind in (Kind.SQUARE, Kind.STRIP):
        return kind.value
    return None


@dataclass
class Bank:
    """Enrolled hashes of many pictures, grouped by class, with the owner of each row."""

    codes: dict[str, np.ndarray]
    owners: dict[str, np.ndarray]
    count: int

    @classmethod
    def build(cls, enrolments: list[list[PdqVariant]]) -> Bank:
        rows: dict[str, list[np.ndarray]] = {c: [] for c in CLASSES}
        owners: dict[str, list[int]] = {c: [] for c in CLASSES}
        for owner, variants in enumerate(enrolments):
            for v in variants:
                c = enrolled_class(v.kind)
                if c is not None:
                    rows[c].append(v.as_code())
                    owners[c].append(owner)
        return cls(
            codes={
                c: np.stack(rows[c]) if rows[c] else np.zeros((0, 32), np.uint8) for c in CLASSES
            },
            owners={c: np.array(owners[c], dtype=np.intp) for c in CLASSES},
            count=len(enrolments),
        )

    def nearest(self, queries: list[PdqVariant]) -> dict[str, np.ndarray]:
        """Per class, the smallest distance from ``queries`` to each enrolled picture."""
        out: dict[str, np.ndarray] = {}
        for c in CLASSES:
            best = np.full(self.count, 256, dtype=np.int16)
            mine = [v for v in queries if query_class(v.kind) == c]
            if mine and self.codes[c].shape[0]:
                d = distances(codes(mine), self.codes[c]).min(axis=0)
                np.minimum.at(best, self.owners[c], d)
            out[c] = best
        return out


def tail_fit(values: np.ndarray, threshold: int) -> dict[str, float | int | str]:
    """P(value <= threshold), extrapolated from the lower tail of ``values`` in two ways.

    The fit uses the distances from the lowest one seen at least 10 times (cumulatively) up to
    the 1 % quantile. ``exponential``: log10 of the empirical CDF, linear in the distance (a
    straight line on a log plot, the more pessimistic model). ``normal``: the normal quantile
    of the empirical CDF, linear in the distance (a normal tail fitted to the lower tail only).
    """
    n = values.size
    observed = int(np.count_nonzero(values <= threshold))
    sorted_values = np.sort(values)
    grid = np.arange(int(sorted_values[0]), int(np.quantile(sorted_values, 0.01)) + 1)
    cdf = np.searchsorted(sorted_values, grid, side="right") / n
    keep = cdf * n >= 10
    out: dict[str, float | int | str] = {"pairs": n, "observed": observed}
    if keep.sum() < 3:
        out["note"] = "too few points to fit"
        out["exponential"] = out["normal"] = math.nan
        return out
    x, y = grid[keep], cdf[keep]
    slope, intercept = np.polyfit(x, np.log10(y), 1)
    out["exponential"] = float(min(10 ** (intercept + slope * threshold), 1.0))
    normal = statistics.NormalDist()
    z = np.array([normal.inv_cdf(float(v)) for v in y])
    z_slope, z_intercept = np.polyfit(x, z, 1)
    out["normal"] = float(normal.cdf(float(z_intercept + z_slope * threshold)))
    out["note"] = (
        f"fitted over d={x[0]}..{x[-1]} (CDF {y[0]:.1e}..{y[-1]:.1e}), "
        f"one decade per {(1 / slope if slope else math.inf):.1f} bits there"
    )
    return out


# ---------------------------------------------------------------------------------------------


def pictures_in(dirs: list[str]) -> list[Path]:
    found: list[Path] = []
    for d in dirs:
        base = Path(d)
        if not base.is_dir():
            continue
        for p in sorted(base.rglob("*")):
            if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
                found.append(p)
    # Wallpaper packages ship one picture at several sizes, and a preview of it: keep the
    # largest file per folder of sizes (".../contents/images/"), not the preview. Tux Paint's
    # symbols (letters, digits, signs) are drawn glyphs, not natural pictures: left out.
    by_folder: dict[Path, Path] = {}
    rest: list[Path] = []
    for p in found:
        if p.stem == "screenshot" and p.parent.name == "contents":
            continue
        if "tuxpaint" in p.parts and "symbols" in p.parts:
            continue
        if p.parent.name in ("images", "images_dark") and p.parent.parent.name == "contents":
            key = p.parent.parent.parent
            if key not in by_folder or p.stat().st_size > by_folder[key].stat().st_size:
                by_folder[key] = p
        else:
            rest.append(p)
    return sorted(rest + list(by_folder.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--half", choices=("report", "tune", "all"), default="report")
    parser.add_argument("--photos", type=int, default=0, help="at most this many photos (0: all)")
    parser.add_argument("--unrelated", type=int, default=0, help="at most this many (0: all)")
    parser.add_argument("--unrelated-dir", action="append", default=None)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    photos = sorted(PHOTOS.glob("*.jpg"))
    if args.half != "all":
        photos = [p for p in photos if in_tuning_half(p.name) == (args.half == "tune")]
    if args.photos:
        photos = photos[: args.photos]
    unrelated_paths = pictures_in(args.unrelated_dir or list(UNRELATED_DIRS))
    if args.unrelated:
        step = max(1, len(unrelated_paths) // args.unrelated)
        unrelated_paths = unrelated_paths[::step][: args.unrelated]
    print(
        f"load average {os.getloadavg()[0]:.1f}; {len(photos)} photos ({args.half} half), "
        f"{len(unrelated_paths)} unrelated files, {args.jobs} processes"
    )

    started = time.perf_counter()
    with multiprocessing.Pool(args.jobs) as pool:
        results = pool.map(work_photo, photos, chunksize=1)
        unrelated_raw = pool.map(work_unrelated, unrelated_paths, chunksize=4)
    print(f"hashed in {time.perf_counter() - started:.0f} s")

    # Unrelated pictures: drop near-duplicates of each other and of the test photos, as the
    # photo set itself was curated: plain PDQ, any of the 8 dihedral variants within 45 bits.
    peer_codes = [PdqHash.from_hex(r.peer).as_code() for r in results]
    unrelated: list[tuple[str, list[PdqVariant], list[PdqVariant], list[str]]] = []
    kept_codes: list[np.ndarray] = list(peer_codes)
    for item in unrelated_raw:
        if item is None or not item[1]:
            continue
        turns = np.stack([PdqHash.from_hex(h).as_code() for h in item[3]])
        if kept_codes and distances(turns, np.stack(kept_codes)).min() <= 45:
            continue
        kept_codes.append(turns[0])
        unrelated.append(item)
    print(f"{len(unrelated)} unrelated pictures after removing near-duplicates")

    # Recall per edit.
    figures: dict[str, object] = {}
    print(f"\n{'edit':30} {'ours':>8} {'plain PDQ':>10}  ours: median distance / hashes / ms")
    recall: dict[str, tuple[float, float]] = {}
    for name, _, _, goal in EDITS:
        ours = peer = 0
        dist: list[int] = []
        counts: list[int] = []
        ms: list[float] = []
        for r in results:
            variants, dihedral, q_ms = r.queries[name]
            counts.append(len(variants))
            ms.append(q_ms)
            m = match_variants(variants, r.enrolled)
            if m is not None:
                ours += 1
                dist.append(m.distance)
            if min(openncii.signals.pdq.hamming_distance(h, r.peer) for h in dihedral) <= 31:
                peer += 1
        n = len(results)
        recall[name] = (ours / n, peer / n)
        mark = "" if goal else " (extra)"
        print(
            f"{name + mark:30} {100 * ours / n:7.1f}% {100 * peer / n:9.1f}%  "
            f"{statistics.median(dist) if dist else '-'} / {statistics.median(counts):.0f} / "
            f"{statistics.median(ms):.0f}"
        )
    figures["recall"] = recall

    # False matches: edited copies and unrelated pictures against every other enrolled photo.
    bank = Bank.build([r.enrolled for r in results])
    false_edited = 0
    for i, r in enumerate(results):
        for name, _, _, _ in EDITS:
            near = bank.nearest(r.queries[name][0])
            for c in CLASSES:
                hits = np.flatnonzero(near[c] <= CLASS_THRESHOLD[c])
                false_edited += int(np.count_nonzero(hits != i))
    false_unrelated = 0
    peer_false = 0
    peer_bank = np.stack(peer_codes) if peer_codes else np.zeros((0, 32), np.uint8)
    for _, _, queries, dihedral in unrelated:
        near = bank.nearest(queries)
        false_unrelated += sum(
            int(np.count_nonzero(near[c] <= CLASS_THRESHOLD[c])) for c in CLASSES
        )
        dq = np.stack([PdqHash.from_hex(h).as_code() for h in dihedral])
        peer_false += int(np.count_nonzero(distances(dq, peer_bank).min(axis=0) <= 31))
    print(
        f"\nfalse matches: edited copies vs other photos {false_edited} "
        f"(of {len(results) * len(EDITS) * (len(results) - 1)} pairs); unrelated vs photos "
        f"{false_unrelated} (of {len(unrelated) * len(results)} pairs; plain PDQ {peer_false})"
    )

    # Extrapolation: unrelated pictures against each other (all ordered pairs of different
    # pictures), plus the test photos' enrolments.
    everyone = [u[1] for u in unrelated] + [r.enrolled for r in results]
    big = Bank.build(everyone)
    minima: dict[str, list[np.ndarray]] = {c: [] for c in CLASSES}
    peer_minima: list[np.ndarray] = []
    all_peer = np.stack([PdqHash.from_hex(u[3][0]).as_code() for u in unrelated] + peer_codes)
    names = [u[0] for u in unrelated] + [r.name for r in results]
    seen_pairs: list[str] = []
    for i, (_, _, queries, dihedral) in enumerate(unrelated):
        near = big.nearest(queries)
        for c in CLASSES:
            minima[c].append(np.delete(near[c], i))
            for j in np.flatnonzero(near[c] <= CLASS_THRESHOLD[c]):
                if j != i:
                    seen_pairs.append(f"{c} d={near[c][j]}: {names[i]} -> {names[j]}")
        dq = np.stack([PdqHash.from_hex(h).as_code() for h in dihedral])
        peer_minima.append(np.delete(distances(dq, all_peer).min(axis=0), i))
    print(f"\nextrapolation from {len(unrelated)} unrelated pictures x {len(everyone) - 1} others:")
    for line in seen_pairs:
        print(f"  matched (upload -> enrolled): {line}")
    tails: dict[str, dict[str, float | int | str]] = {}
    for c in CLASSES:
        values = np.concatenate(minima[c])
        tails[c] = tail_fit(values, CLASS_THRESHOLD[c])
        print(
            f"  {c:7} d <= {CLASS_THRESHOLD[c]}: observed {tails[c]['observed']} of "
            f"{tails[c]['pairs']} pairs; P exponential {tails[c]['exponential']:.2e}, normal "
            f"{tails[c]['normal']:.2e}  ({tails[c]['note']}; 1st percentile "
            f"{np.quantile(values, 0.01):.0f}, median {np.median(values):.0f})"
        )
    peer_values = np.concatenate(peer_minima)
    tails["plain"] = tail_fit(peer_values, 31)
    print(
        f"  plain PDQ + dihedral d <= 31: observed {tails['plain']['observed']}; P exponential "
        f"{tails['plain']['exponential']:.2e}, normal {tails['plain']['normal']:.2e}  "
        f"({tails['plain']['note']}; 1st percentile {np.quantile(peer_values, 0.01):.0f})"
    )
    for model in ("exponential", "normal"):
        ours_p = sum(float(tails[c][model]) for c in CLASSES)
        peer_p = float(tails["plain"][model])
        for bank_size in (10_000_000 // 8, 10_000_000):
            print(
                f"  {model:11} bank of {bank_size:>10,} photos: ours {bank_size * ours_p:.1e} "
                f"false matches per upload, plain PDQ {bank_size * peer_p:.1e}"
            )
    figures["tails"] = tails
    np.savez_compressed(
        ROOT / "bench" / ".cache" / f"robustness-minima-{args.half}.npz",
        plain=peer_values,
        **{c: np.concatenate(minima[c]) for c in CLASSES},
    )

    # Costs.
    enrol_counts = [len(r.enrolled) for r in results]
    query_counts = [len(q[0]) for r in results for q in r.queries.values()]
    query_ms = [q[2] for r in results for q in r.queries.values()]
    print(
        f"\ncosts: enrolled hashes per photo median {statistics.median(enrol_counts):.0f} "
        f"(mean {statistics.mean(enrol_counts):.2f}, max {max(enrol_counts)}); enrolment "
        f"{statistics.median(r.enrol_ms for r in results):.0f} ms median per photo (Python, "
        f"decode included); query hashes per upload median {statistics.median(query_counts):.0f} "
        f"(max {max(query_counts)}), {statistics.median(query_ms):.0f} ms median per upload"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()

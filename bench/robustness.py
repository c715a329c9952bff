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

``--strip-also T`` (repeatable) also gives the recall of the goal edits and the false-match
estimate with strip pairs held to ``T`` instead of the pair rule's threshold, from the same
hashes: the rule in force beside a rule under study, measured once.

Run: ``.venv/bin/python bench/robustness.py [--half report|tune|all] [--photos N]
[--unrelated N] [--jobs J] [--strip-also T]``
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
from openncii.signals.pdq import PdqHash, hamming_distance
from openncii.signals.variants import (
    WHOLE_THRESHOLD,
    Kind,
    PdqVariant,
    enrol_variants,
    match_variants,
    pair_threshold,
    query_variants,
)

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = ROOT.parent / "shared" / "testdata" / "photos"
UNRELATED_DIRS = (
    "/usr/share/wallpapers",  # plasma-workspace-wallpapers
    "/usr/share/backgrounds",  # gnome-backgrounds, ukui-wallpapers, lomiri-wallpapers*
    "/usr/share/mypaint-data/backgrounds",  # mypaint-data-extras (older Debian)
    "/usr/share/mypaint/backgrounds",  # mypaint-data-extras (Debian 12)
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


def straighten(degrees: float) -> Edit:
    """Turn by ``degrees`` (counter-clockwise), then crop to the largest centred rectangle of
    the photo's aspect that holds no corner (what a phone's straighten tool does)."""

    def edit(im: Image.Image) -> Image.Image:
        w, h = im.size
        turned = im.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=False)
        theta = math.radians(abs(degrees))
        scale = 1 / (math.cos(theta) + math.sin(theta) * max(w, h) / min(w, h))
        cw, ch = round(w * scale), round(h * scale)
        return turned.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch))

    return edit


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
    ("rotate 3 then crop", straighten(3), 90, False),
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


def _rule(query: Kind, enrolled: Kind) -> int:
    limit = pair_threshold(query, enrolled)
    assert limit is not None
    return limit


#: Each pair class's threshold, from the pair rule (``pair_threshold``, its one home).
CLASS_THRESHOLD = {
    "whole": _rule(Kind.FULL, Kind.FULL),
    "square": _rule(Kind.SQUARE, Kind.SQUARE),
    "strip": _rule(Kind.STRIP, Kind.STRIP),
}


def found_with_strip(
    queries: list[PdqVariant], enrolled: list[PdqVariant], strip: int | None
) -> bool:
    """Whether any pair of hashes the pair rule compares is within its threshold, with strip
    pairs held to ``strip`` instead (None: strips not compared). With the rule's own strip
    threshold this is ``match_variants(queries, enrolled) is not None``."""
    for q in queries:
        for e in enrolled:
            limit = pair_threshold(q.kind, e.kind)
            if limit is not None and q.kind is Kind.STRIP:
                limit = strip
            if limit is not None and hamming_distance(q.hex, e.hex) <= limit:
                return True
    return False


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
# The false-match estimate per hash pair (the one docs/matching.md reports)

#: Query hash kinds and enrolled hash kinds of each pair class (``pair_threshold``'s rule).
PAIR_CLASSES: dict[str, tuple[frozenset[Kind], frozenset[Kind], int]] = {
    "whole": (
        frozenset({Kind.FULL, Kind.DIHEDRAL, Kind.TRIM}),
        frozenset({Kind.FULL, Kind.TRIM}),
        CLASS_THRESHOLD["whole"],
    ),
    "square": (frozenset({Kind.SQUARE}), frozenset({Kind.SQUARE}), CLASS_THRESHOLD["square"]),
    "strip": (frozenset({Kind.STRIP}), frozenset({Kind.STRIP}), CLASS_THRESHOLD["strip"]),
}


def pair_histograms(
    uploads: list[list[PdqVariant]],
    enrolments: list[list[PdqVariant]],
    kinds: tuple[frozenset[Kind], frozenset[Kind]],
) -> np.ndarray:
    """``(len(uploads), 257)``: for each upload ``i``, how many (query hash, enrolled hash)
    pairs of the given kinds lie at each distance, over every enrolled picture ``j != i``
    (upload ``i`` and enrolled picture ``i`` are the same picture)."""
    q_kinds, e_kinds = kinds
    q_rows = [(i, v) for i, vs in enumerate(uploads) for v in vs if v.kind in q_kinds]
    e_rows = [(j, v) for j, vs in enumerate(enrolments) for v in vs if v.kind in e_kinds]
    out = np.zeros((len(uploads), 257), dtype=np.int64)
    if not q_rows or not e_rows:
        return out
    q_owner = np.array([i for i, _ in q_rows], dtype=np.int64)
    e_owner = np.array([j for j, _ in e_rows], dtype=np.int64)
    e_signs = signs(codes([v for _, v in e_rows])).T.copy()
    q_codes = codes([v for _, v in q_rows])
    for start in range(0, len(q_rows), 1024):
        stop = min(start + 1024, len(q_rows))
        d = np.rint((256 - signs(q_codes[start:stop]) @ e_signs) / 2).astype(np.int64)
        own = q_owner[start:stop, None] == e_owner[None, :]
        key = q_owner[start:stop, None] * 258 + np.where(own, 257, d)
        counts = np.bincount(key.ravel(), minlength=len(uploads) * 258)
        out += counts.reshape(len(uploads), 258)[:, :257]
    return out


def binomial_cdf(n: float, p: float, k: float) -> float:
    """P(X <= k) for X ~ Binomial(round(n), p) (``k`` rounded down), summed in logs."""
    trials, top = max(1, round(n)), math.floor(k)
    if top < 0:
        return 0.0
    logs = [
        math.lgamma(trials + 1)
        - math.lgamma(i + 1)
        - math.lgamma(trials - i + 1)
        + i * math.log(p)
        + (trials - i) * math.log1p(-p)
        for i in range(min(top, trials) + 1)
    ]
    peak = max(logs)
    return min(1.0, math.exp(peak) * sum(math.exp(v - peak) for v in logs))


def binomial_tail(hist: np.ndarray, threshold: int) -> dict[str, float]:
    """P(one hash pair within ``threshold``) from a histogram of hash-pair distances.

    Daugman's degrees of freedom (iris codes, 2004): the distances of unrelated codes of 256
    bits behave like a binomial with ``N = p (1 - p) / s^2`` trials of the normalised distance
    (``p`` its mean, ``s`` its standard deviation), fewer than 256 because bits are
    correlated. ``bulk``: N from the whole distribution. ``tail``: N chosen so that the model
    meets the empirical CDF at the lowest distance seen at least 100 times (lower tails of
    image hashes are heavier than the bulk's binomial; that point is far into the tail and
    well counted). The estimate is the larger of the two (the fewer degrees of freedom).
    """
    total = float(hist.sum())
    x = np.arange(257) / 256
    p = float((hist * x).sum() / total)
    var = float((hist * (x - p) ** 2).sum() / total)
    n_bulk = p * (1 - p) / var
    cdf = np.cumsum(hist) / total
    anchor = int(np.flatnonzero(np.cumsum(hist) >= 100)[0])
    target = float(cdf[anchor])

    def model(n: float, d: float) -> float:
        return binomial_cdf(n, p, d / 256 * round(n))

    lo, hi = 2.0, 256.0  # the CDF at the anchor falls as N grows
    for _ in range(40):
        mid = (lo + hi) / 2
        if model(mid, anchor) > target:
            lo = mid
        else:
            hi = mid
    n_tail = (lo + hi) / 2
    return {
        "pairs": total,
        "mean": p * 256,
        "sd": math.sqrt(var) * 256,
        "n_bulk": n_bulk,
        "n_tail": n_tail,
        "anchor": anchor,
        "anchor_cdf": target,
        "observed": float(cdf[threshold] * total),
        "p_bulk": model(n_bulk, threshold),
        "p_tail": model(n_tail, threshold),
        "p": max(model(n_bulk, threshold), model(n_tail, threshold)),
    }


def hash_pair_estimate(
    uploads: list[list[PdqVariant]],
    enrolments: list[list[PdqVariant]],
    plain_uploads: list[list[PdqVariant]],
    plain_enrolments: list[list[PdqVariant]],
    rounds: int = 200,
) -> dict[str, object]:
    """Expected false matches per upload against a bank, counting every hash pair.

    For each pair class: P(a hash pair within the class's threshold) from
    :func:`binomial_tail`, times the mean number of the class's query hashes per upload and of
    its enrolled hashes per photo. Summed over classes (a union bound: the pairs of one
    picture pair are correlated, so the true rate is lower). The uncertainty: the same on
    ``rounds`` bootstrap resamples of the uploads (5th and 95th percentiles).
    """
    rng = np.random.default_rng(1)
    out: dict[str, object] = {}
    per_photo = 0.0
    boot = np.zeros(rounds)
    checks: dict[str, list[tuple[int, float, float]]] = {}
    for name, (q_kinds, e_kinds, threshold) in PAIR_CLASSES.items():
        hists = pair_histograms(uploads, enrolments, (q_kinds, e_kinds))
        hist = hists.sum(axis=0)
        tail = binomial_tail(hist, threshold)
        q_mean = statistics.mean(sum(v.kind in q_kinds for v in vs) for vs in uploads)
        e_mean = statistics.mean(sum(v.kind in e_kinds for v in vs) for vs in enrolments)
        tail["query_per_upload"], tail["enrolled_per_photo"] = q_mean, e_mean
        out[name] = tail
        per_photo += q_mean * e_mean * tail["p"]
        for r in range(rounds):
            pick = rng.integers(0, len(uploads), len(uploads))
            boot[r] += q_mean * e_mean * binomial_tail(hists[pick].sum(axis=0), threshold)["p"]
        # The model against the counts where there are counts: predicted vs seen pairs.
        total = hist.sum()
        n = min(tail["n_bulk"], tail["n_tail"])
        checks[name] = [
            (
                d,
                float(np.cumsum(hist)[d]),
                binomial_cdf(n, tail["mean"] / 256, d / 256 * round(n)) * total,
            )
            for d in range(tail["anchor"] - 10, tail["anchor"] + 11, 5)
            if d >= 0
        ]
    out["checks"] = checks
    out["per_photo"] = per_photo
    out["per_photo_range"] = (float(np.quantile(boot, 0.05)), float(np.quantile(boot, 0.95)))
    plain = pair_histograms(
        plain_uploads,
        plain_enrolments,
        (frozenset({Kind.FULL, Kind.DIHEDRAL}), frozenset({Kind.FULL})),
    ).sum(axis=0)
    plain_tail = binomial_tail(plain, WHOLE_THRESHOLD)
    plain_tail["query_per_upload"], plain_tail["enrolled_per_photo"] = 8.0, 1.0
    out["plain"] = plain_tail
    out["plain_per_photo"] = 8.0 * plain_tail["p"]
    return out


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
    parser.add_argument(
        "--bootstrap", type=int, default=100, help="resamples for the estimate's uncertainty"
    )
    parser.add_argument(
        "--strip-also",
        type=int,
        action="append",
        default=[],
        metavar="T",
        help="also give recall and the false-match estimate with strip pairs at <= T "
        f"(the pair rule: {CLASS_THRESHOLD['strip']}); repeatable",
    )
    args = parser.parse_args()
    strip_also: list[int] = args.strip_also

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
    print(
        f"\n{'edit':30} {'ours':>8} {'plain PDQ':>10}  ours: median distance / hashes / ms"
        + "".join(f"  strip<={t}" for t in strip_also)
    )
    recall: dict[str, tuple[float, float]] = {}
    recall_also: dict[str, dict[int, float]] = {}
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
        recall_also[name] = {
            t: sum(found_with_strip(r.queries[name][0], r.enrolled, t) for r in results) / n
            for t in strip_also
        }
        mark = "" if goal else " (extra)"
        print(
            f"{name + mark:30} {100 * ours / n:7.1f}% {100 * peer / n:9.1f}%  "
            f"{statistics.median(dist) if dist else '-'} / {statistics.median(counts):.0f} / "
            f"{statistics.median(ms):.0f}"
            + "".join(f"  {100 * recall_also[name][t]:9.1f}%" for t in strip_also)
        )
    figures["recall"] = recall
    figures["recall_strip_also"] = recall_also

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

    if not unrelated:
        print("no unrelated pictures: no false-match estimate (see --unrelated-dir)")
        return
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
    # The strip class at each --strip-also threshold (the same fit, read at another distance).
    for t in strip_also:
        tails[f"strip<={t}"] = tail_fit(np.concatenate(minima["strip"]), t)
        print(
            f"  strip   d <= {t} (--strip-also): observed {tails[f'strip<={t}']['observed']}; "
            f"P exponential {tails[f'strip<={t}']['exponential']:.2e}, normal "
            f"{tails[f'strip<={t}']['normal']:.2e}"
        )
    # Each rule: its name's suffix -> per class, its threshold and the key of its fit.
    rules = {
        f" (strip<={t})" if t is not None else "": {
            c: (t, f"strip<={t}") if c == "strip" and t is not None else (CLASS_THRESHOLD[c], c)
            for c in CLASSES
        }
        for t in [None, *strip_also]
    }
    # Uncertainty: the same fits on bootstrap resamples of the uploads (each upload's row of
    # minima is kept whole: the pairs of one upload are not independent).
    rng = np.random.default_rng(1)
    boot: dict[str, list[float]] = {}
    for _ in range(args.bootstrap):
        pick = rng.integers(0, len(unrelated), len(unrelated))
        rows = {c: np.concatenate([minima[c][i] for i in pick]) for c in CLASSES}
        plain_fit = tail_fit(np.concatenate([peer_minima[i] for i in pick]), 31)
        for suffix, rule in rules.items():
            fits = {c: tail_fit(rows[c], rule[c][0]) for c in CLASSES}
            for model in ("exponential", "normal"):
                ours = sum(float(fits[c][model]) for c in CLASSES)
                plain = float(plain_fit[model])
                boot.setdefault(f"ours{suffix} {model}", []).append(ours)
                boot.setdefault(f"plain{suffix} {model}", []).append(plain)
                boot.setdefault(f"ratio{suffix} {model}", []).append(
                    ours / plain if plain else math.nan
                )
    for suffix, rule in rules.items():
        for model in ("exponential", "normal"):
            ours_p = sum(float(tails[rule[c][1]][model]) for c in CLASSES)
            peer_p = float(tails["plain"][model])
            spread = {
                k: (float(np.nanquantile(v, 0.05)), float(np.nanquantile(v, 0.95)))
                for k, v in boot.items()
            }
            for bank_size in (10_000_000 // 8, 10_000_000):
                line = (
                    f"  {model:11} bank of {bank_size:>10,} photos: ours{suffix} "
                    f"{bank_size * ours_p:.1e} false matches per upload, plain PDQ "
                    f"{bank_size * peer_p:.1e}"
                )
                if spread:
                    lo, hi = spread[f"ours{suffix} {model}"]
                    plo, phi = spread[f"plain{suffix} {model}"]
                    line += (
                        f" (bootstrap 5-95 %: ours {bank_size * lo:.1e}-{bank_size * hi:.1e}, "
                        f"plain {bank_size * plo:.1e}-{bank_size * phi:.1e})"
                    )
                print(line)
            if spread:
                rlo, rhi = spread[f"ratio{suffix} {model}"]
                print(
                    f"  {model:11} ours{suffix} / plain PDQ {ours_p / peer_p:.2f} "
                    f"(5-95 %: {rlo:.2f}-{rhi:.2f})"
                )
    figures["tails"] = tails

    # Sensitivity: the same fits without the pairs of two pictures from one folder. Tux Paint
    # keeps each drawing's recolourings, mirrors and series (planets, dreidels) in one folder:
    # related pictures that the near-duplicate filter (45 bits) lets through, and the lowest
    # unrelated distances are theirs.
    folders = np.array(
        [str(Path(u[0]).parent) for u in unrelated] + [f"photo {r.name}" for r in results]
    )
    others = [np.delete(folders != folders[i], i) for i in range(len(unrelated))]
    apart: dict[str, dict[str, float | int | str]] = {}
    apart_values = {
        c: np.concatenate([m[k] for m, k in zip(minima[c], others, strict=True)]) for c in CLASSES
    }
    for c in CLASSES:
        apart[c] = tail_fit(apart_values[c], CLASS_THRESHOLD[c])
    for t in strip_also:
        apart[f"strip<={t}"] = tail_fit(apart_values["strip"], t)
    plain_values = np.concatenate([m[k] for m, k in zip(peer_minima, others, strict=True)])
    apart["plain"] = tail_fit(plain_values, 31)
    print(f"\npictures of different folders only ({apart['whole']['pairs']} pairs):")
    for c in (*CLASSES, *(f"strip<={t}" for t in strip_also), "plain"):
        t = apart[c]
        print(
            f"  {c:7} observed {t['observed']}; P exponential {t['exponential']:.2e}, normal "
            f"{t['normal']:.2e}  ({t['note']})"
        )
    for suffix, rule in rules.items():
        keys = [rule[c][1] for c in CLASSES]
        for model in ("exponential", "normal"):
            ours_p = sum(float(apart[k][model]) for k in keys)
            peer_p = float(apart["plain"][model])
            print(
                f"  {model:11} bank of 1,250,000 photos: ours{suffix} {1_250_000 * ours_p:.1e}, "
                f"plain PDQ {1_250_000 * peer_p:.1e} false matches per upload (ratio "
                f"{ours_p / peer_p:.1f}); at 10,000,000 photos: ours {10_000_000 * ours_p:.1e}; "
                "shares whole / square / strip "
                + " / ".join(f"{float(apart[k][model]) / ours_p:.0%}" for k in keys)
            )
    figures["tails_other_folders"] = apart

    # The estimate per hash pair (docs/matching.md): uploads are the unrelated pictures, the
    # bank every picture (unrelated and photos), each upload against every other picture.
    plain_up = [
        [
            PdqVariant(hex=h, kind=Kind.FULL if k == 0 else Kind.DIHEDRAL, quality=100)
            for k, h in enumerate(u[3])
        ]
        for u in unrelated
    ]
    plain_bank = [[PdqVariant(hex=u[3][0], kind=Kind.FULL, quality=100)] for u in unrelated] + [
        [PdqVariant(hex=r.peer, kind=Kind.FULL, quality=100)] for r in results
    ]
    estimate = hash_pair_estimate([u[2] for u in unrelated], everyone, plain_up, plain_bank)
    print(
        f"\nmodel check, per hash pair (Daugman binomial), {len(unrelated)} unrelated uploads "
        f"x {len(everyone) - 1} pictures:"
    )
    for c in (*CLASSES, "plain"):
        t = estimate[c]
        assert isinstance(t, dict)
        print(
            f"  {c:7} {t['pairs']:.3g} hash pairs, mean {t['mean']:.1f} sd {t['sd']:.1f}; "
            f"N bulk {t['n_bulk']:.0f}, tail {t['n_tail']:.0f} (anchor d={t['anchor']}, "
            f"CDF {t['anchor_cdf']:.1e}); observed within threshold {t['observed']:.0f}; "
            f"P(pair) bulk {t['p_bulk']:.1e}, tail {t['p_tail']:.1e}; "
            f"{t['query_per_upload']:.1f} query x {t['enrolled_per_photo']:.2f} enrolled hashes"
        )
    checks = estimate["checks"]
    assert isinstance(checks, dict)
    for c, rows in checks.items():
        print(
            f"  model check {c}: "
            + ", ".join(f"d<={d}: seen {s:.0f} model {m:.0f}" for d, s, m in rows)
        )
    per_photo = float(estimate["per_photo"])  # type: ignore[arg-type]
    lo, hi = estimate["per_photo_range"]  # type: ignore[misc]
    plain_per_photo = float(estimate["plain_per_photo"])  # type: ignore[arg-type]
    for bank_size in (10_000_000 // 8, 10_000_000):
        print(
            f"  bank of {bank_size:>10,} photos: ours {bank_size * per_photo:.1e} false matches "
            f"per upload (bootstrap 5-95 %: {bank_size * lo:.1e}-{bank_size * hi:.1e}); "
            f"plain PDQ + dihedral {bank_size * plain_per_photo:.1e}"
        )
    figures["hash_pairs"] = estimate
    minima_path = ROOT / "bench" / ".cache" / f"robustness-minima-{args.half}.npz"
    minima_path.parent.mkdir(exist_ok=True)
    np.savez_compressed(
        minima_path,
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

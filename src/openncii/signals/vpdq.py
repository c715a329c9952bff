"""vPDQ: a video's fingerprint is the PDQ hashes of its sampled frames.

Why it is built this way:

- **Interoperable text.** Meta's reference (facebook/ThreatExchange ``vpdq``) writes one frame
  per line, ``frameNumber,quality,hash,timestamp`` with the time in seconds to three decimals.
  Partners exchange and archive hashes in that form, so we read and write it exactly, and
  refuse anything else with an :class:`~openncii.errors.InvalidHashError` that says which
  line is wrong (never echoing hash values, which are sensitive).
- **The reference's match rule.** Two videos match when, after dropping frames of quality
  below 50 on both sides, at least 80% of the frames of *each* side find a frame on the other
  side within Hamming distance 31. Comparing both directions makes a short clip that appears
  inside a long video a match only when they really share most of their content. (The C++
  tool counts ``distance < 31``; python-threatexchange and our PDQ convention count
  ``distance <= 31``, and python-threatexchange also drops repeated identical hashes first:
  ``dedupe=True`` reproduces that.)
- **Vectorised.** Videos have hundreds or thousands of sampled frames, and the rule compares
  every frame with every frame. Hashes are packed as four 64-bit words; XOR and a popcount
  give a block of distances at a time, in bounded memory.

Pure numpy: no media decoding, web or database imports.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

import numpy as np
import numpy.typing as npt

from openncii.errors import InvalidHashError
from openncii.signals.pdq import MATCH_THRESHOLD, MIN_QUALITY, PdqHash

__all__ = [
    "DEFAULT_MATCH_PERCENT",
    "TIMESTAMP_DECIMALS",
    "HashedFrame",
    "VpdqFeature",
    "VpdqMatch",
    "format_vpdq_text",
    "parse_vpdq_line",
    "parse_vpdq_text",
    "pdq_codes",
    "vpdq_match",
]

#: Both sides must have at least this percentage of their frames matched.
DEFAULT_MATCH_PERCENT: Final = 80.0
#: Decimals of the timestamp in the reference's text format.
TIMESTAMP_DECIMALS: Final = 3

_HEX_RE: Final = re.compile(r"[0-9a-f]{64}")
_INT_RE: Final = re.compile(r"[0-9]{1,10}")
_FLOAT_RE: Final = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
_MAX_QUALITY: Final = 100
# Distances are computed in blocks of at most this many pairs (x 32 bytes of scratch memory).
_BLOCK_PAIRS: Final = 1 << 20


class HashedFrame(Protocol):
    """Anything with a PDQ hex and a quality: :class:`VpdqFeature`, ``openncii.VideoFrameHash``."""

    @property
    def pdq(self) -> str: ...

    @property
    def quality(self) -> int: ...


@dataclass(frozen=True, slots=True)
class VpdqFeature:
    """The PDQ hash of one video frame: one line of the reference's text format.

    ``pdq`` is 64 lowercase hex characters (the reference's form); ``frame`` the 0-based frame
    number, ``timestamp`` in seconds. The field names are those of ``openncii hash --json``.
    """

    frame: int
    quality: int
    pdq: str
    timestamp: float

    def __post_init__(self) -> None:
        if isinstance(self.frame, bool) or not isinstance(self.frame, int) or self.frame < 0:
            raise InvalidHashError("a vPDQ frame number must be a whole number >= 0")
        if (
            isinstance(self.quality, bool)
            or not isinstance(self.quality, int)
            or not 0 <= self.quality <= _MAX_QUALITY
        ):
            raise InvalidHashError("a vPDQ frame quality must be a whole number from 0 to 100")
        if not isinstance(self.pdq, str) or _HEX_RE.fullmatch(self.pdq) is None:
            raise InvalidHashError("a vPDQ frame hash must be 64 lowercase hexadecimal characters")
        if (
            isinstance(self.timestamp, bool)
            or not isinstance(self.timestamp, int | float)
            or not math.isfinite(self.timestamp)
            or self.timestamp < 0
        ):
            raise InvalidHashError("a vPDQ timestamp must be a finite number of seconds >= 0")

    def __repr__(self) -> str:
        # Hash values are sensitive: never print them whole in reprs that may reach a log.
        return (
            f"VpdqFeature(frame={self.frame}, quality={self.quality}, "
            f"pdq={self.pdq[:4]}…, timestamp={self.timestamp:.3f})"
        )

    @property
    def hash(self) -> PdqHash:
        """The frame's hash as a :class:`PdqHash` (with this frame's quality)."""
        return PdqHash.from_hex(self.pdq, self.quality)

    def to_line(self) -> str:
        """This feature as one line of the reference's text format (no newline)."""
        return f"{self.frame},{self.quality},{self.pdq},{self.timestamp:.{TIMESTAMP_DECIMALS}f}"


def parse_vpdq_line(line: str, line_number: int = 1) -> VpdqFeature:
    """Parse one ``frameNumber,quality,hash,timestamp`` line.

    Surrounding white space is ignored and the hash may be in upper case; it is normalised to
    lower case. Raises :class:`InvalidHashError` naming ``line_number``.
    """
    where = f"vPDQ line {line_number}"
    fields = [field.strip() for field in line.strip().split(",")]
    if len(fields) != 4:
        raise InvalidHashError(
            f"{where}: expected 4 comma-separated fields (frame,quality,hash,timestamp), "
            f"found {len(fields)}"
        )
    frame_text, quality_text, hash_text, time_text = fields
    if _INT_RE.fullmatch(frame_text) is None:
        raise InvalidHashError(f"{where}: the frame number must be a whole number >= 0")
    if _INT_RE.fullmatch(quality_text) is None or int(quality_text) > _MAX_QUALITY:
        raise InvalidHashError(f"{where}: the quality must be a whole number from 0 to 100")
    pdq = hash_text.lower()
    if _HEX_RE.fullmatch(pdq) is None:
        raise InvalidHashError(f"{where}: the hash must be 64 hexadecimal characters")
    if _FLOAT_RE.fullmatch(time_text) is None:
        raise InvalidHashError(f"{where}: the timestamp must be a number of seconds >= 0")
    return VpdqFeature(
        frame=int(frame_text), quality=int(quality_text), pdq=pdq, timestamp=float(time_text)
    )


def parse_vpdq_text(text: str) -> list[VpdqFeature]:
    """Parse the reference's per-frame text format (one frame per line; blank lines ignored).

    Raises :class:`InvalidHashError` for a malformed line or when there is no frame at all
    (the reference refuses an empty hash file too).
    """
    features = [
        parse_vpdq_line(line, number)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip()
    ]
    if not features:
        raise InvalidHashError("the vPDQ text contains no frame hashes")
    return features


def format_vpdq_text(features: Iterable[VpdqFeature]) -> str:
    """Write features in the reference's text format, one line each, newline-terminated."""
    return "".join(feature.to_line() + "\n" for feature in features)


@dataclass(frozen=True, slots=True)
class VpdqMatch:
    """The outcome of comparing two videos' vPDQ hashes.

    ``query_percent`` is the percentage of the first video's usable frames (quality at or
    above the threshold) that have a frame within the distance on the second video;
    ``target_percent`` the same the other way round. ``is_match`` when both reach the
    required percentage. ``query_frames``/``target_frames`` count the usable frames.
    """

    query_percent: float
    target_percent: float
    is_match: bool
    query_frames: int
    target_frames: int

    def __bool__(self) -> bool:
        return self.is_match


def pdq_codes(features: Sequence[HashedFrame]) -> npt.NDArray[np.uint64]:
    """Pack the features' hashes as an ``(N, 4)`` array of 64-bit words (big-endian hex order)."""
    if not features:
        return np.zeros((0, 4), dtype=np.uint64)
    try:
        raw = b"".join(bytes.fromhex(feature.pdq) for feature in features)
    except ValueError as err:
        raise InvalidHashError("a vPDQ frame hash is not hexadecimal") from err
    if len(raw) != 32 * len(features):
        raise InvalidHashError("a vPDQ frame hash must be 64 hexadecimal characters")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(features), 4)


def vpdq_match(
    a: Sequence[HashedFrame],
    b: Sequence[HashedFrame],
    *,
    distance_threshold: int = MATCH_THRESHOLD,
    quality_threshold: int = MIN_QUALITY,
    match_percent: float = DEFAULT_MATCH_PERCENT,
    dedupe: bool = False,
) -> VpdqMatch:
    """Compare two videos' frame hashes with the vPDQ rule.

    Frames with quality below ``quality_threshold`` are dropped on both sides (and, with
    ``dedupe``, repeated identical hashes as python-threatexchange does). A frame is matched
    when some frame of the other side is within ``distance_threshold`` bits (inclusive). The
    videos match when both percentages are at least ``match_percent``. If either side has no
    usable frame, both percentages are 0 and there is no match, as in the reference.
    """
    query = _usable(a, quality_threshold, dedupe)
    target = _usable(b, quality_threshold, dedupe)
    if not query or not target:
        return VpdqMatch(0.0, 0.0, False, len(query), len(target))
    query_hit, target_hit = _matched(pdq_codes(query), pdq_codes(target), distance_threshold)
    query_percent = int(query_hit.sum()) * 100.0 / len(query)
    target_percent = int(target_hit.sum()) * 100.0 / len(target)
    return VpdqMatch(
        query_percent=query_percent,
        target_percent=target_percent,
        is_match=query_percent >= match_percent and target_percent >= match_percent,
        query_frames=len(query),
        target_frames=len(target),
    )


def _usable(
    features: Sequence[HashedFrame], quality_threshold: int, dedupe: bool
) -> list[HashedFrame]:
    """The frames that count: quality filter, after dropping repeated hashes if ``dedupe``."""
    kept = list(features)
    if dedupe:  # python-threatexchange's order: first occurrence of each hash, then the filter
        seen: set[str] = set()
        unique: list[HashedFrame] = []
        for feature in kept:
            key = feature.pdq.lower()
            if key not in seen:
                seen.add(key)
                unique.append(feature)
        kept = unique
    return [feature for feature in kept if feature.quality >= quality_threshold]


def _matched(
    query: npt.NDArray[np.uint64], target: npt.NDArray[np.uint64], threshold: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """For each row of each side: is some row of the other side within ``threshold`` bits?"""
    query_hit = np.zeros(len(query), dtype=np.bool_)
    target_hit = np.zeros(len(target), dtype=np.bool_)
    rows = max(1, _BLOCK_PAIRS // max(1, len(target)))
    for start in range(0, len(query), rows):
        block = query[start : start + rows]
        distances = _popcount(block[:, None, :] ^ target[None, :, :]).sum(axis=2, dtype=np.uint16)
        close = distances <= threshold
        query_hit[start : start + len(block)] = close.any(axis=1)
        target_hit |= close.any(axis=0)
    return query_hit, target_hit


def _popcount(words: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """Set bits of each 64-bit word."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(words)
    as_bytes = words.view(np.uint8).reshape(*words.shape, 8)
    counts: npt.NDArray[np.uint8] = _BYTE_POPCOUNT[as_bytes].sum(axis=-1, dtype=np.uint8)
    return counts


_BYTE_POPCOUNT: Final = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)

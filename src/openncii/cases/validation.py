"""Validation of submitted hashes: known types, exact hex, enough quality, nothing degenerate.

Input is plain values (the API layer turns JSON into these); output is the normalised form that
is stored. Every refusal is a :class:`~openncii.errors.HashRejectedError` naming the position of
the hash and saying what is wrong, never the value.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from openncii.cases.denylist import DenyList
from openncii.errors import (
    CaseRejectedError,
    HashRejectedError,
    InvalidHashError,
    TooManyHashesError,
)
from openncii.signals.hexcode import short_hash
from openncii.signals.pdq import MIN_QUALITY
from openncii.signals.registry import MD5, PDQ, VPDQ, pdq_type_of_kind
from openncii.signals.variants import MAX_ENROLLED

__all__ = [
    "DEGENERATE_MD5",
    "EMPTY_FILE_MD5",
    "MAX_VPDQ_FRAMES",
    "Md5Submission",
    "PdqSubmission",
    "PhotoSubmission",
    "Submission",
    "ValidHash",
    "VariantSubmission",
    "VpdqFrameSubmission",
    "VpdqSubmission",
    "count_files",
    "validate_hashes",
]

#: MD5 of zero bytes: what a failed or empty upload hashes to. Refused like all-zeros.
EMPTY_FILE_MD5: Final = "d41d8cd98f00b204e9800998ecf8427e"
#: MD5 values of no real video (empty or blank files): refused.
DEGENERATE_MD5: Final = frozenset({"0" * 32, "f" * 32, EMPTY_FILE_MD5})
#: Most frames one vPDQ signature may hold (one per second for over an hour).
MAX_VPDQ_FRAMES: Final = 5000


@dataclass(frozen=True, slots=True)
class PdqSubmission:
    value: str
    quality: int


@dataclass(frozen=True, slots=True)
class Md5Submission:
    value: str


@dataclass(frozen=True, slots=True)
class VpdqFrameSubmission:
    pdq: str
    quality: int
    timestamp: float
    frame: int | None = None


@dataclass(frozen=True, slots=True)
class VpdqSubmission:
    frames: tuple[VpdqFrameSubmission, ...]


@dataclass(frozen=True, slots=True)
class VariantSubmission:
    """One PDQ hash of a region of a photo (robust matching): its hex, kind and quality."""

    pdq: str
    kind: str
    quality: int


@dataclass(frozen=True, slots=True)
class PhotoSubmission:
    """One photo: the hashes the device enrolled for it (``openncii.enroll_file``)."""

    variants: tuple[VariantSubmission, ...]


Submission = PdqSubmission | Md5Submission | VpdqSubmission | PhotoSubmission


@dataclass(frozen=True, slots=True)
class ValidHash:
    """A validated, normalised hash ready to store.

    ``value`` is lowercase hex (for vPDQ the SHA-256 of ``payload``, the canonical signature).
    """

    signal_type: str
    value: str
    quality: int | None = None
    payload: str | None = None
    #: For a photo's hashes: the position of the photo among the submission's entries.
    photo: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.signal_type, self.value)

    @property
    def prefix(self) -> str:
        return short_hash(self.value)


def count_files(submissions: Sequence[Submission]) -> int:
    """The photos and videos of a submission, as the person chose them: a photo (or a bare PDQ
    hash) is one, a video is its MD5 with at most one vPDQ signature beside it."""
    photos = sum(isinstance(s, PhotoSubmission | PdqSubmission) for s in submissions)
    md5s = sum(isinstance(s, Md5Submission) for s in submissions)
    signatures = sum(isinstance(s, VpdqSubmission) for s in submissions)
    return photos + max(md5s, signatures)


def _count_hashes(submissions: Sequence[Submission]) -> int:
    return sum(len(s.variants) if isinstance(s, PhotoSubmission) else 1 for s in submissions)


def validate_hashes(
    submissions: Sequence[Submission],
    denylist: DenyList,
    max_hashes: int,
    max_files: int | None = None,
) -> list[ValidHash]:
    """Validate every submission; return the distinct hashes in order of first appearance.

    A case holds at most ``max_files`` photos and videos (:func:`count_files`; ``None``: no
    such limit) and at most ``max_hashes`` hashes (a photo brings up to ``MAX_ENROLLED``). Raises
    :class:`CaseRejectedError` (no hashes), :class:`TooManyHashesError` or the
    :class:`HashRejectedError` of the first bad hash. All or nothing: no partial case.
    """
    if not submissions:
        raise CaseRejectedError("A case needs at least one hash.")
    files = count_files(submissions)
    if max_files is not None and files > max_files:
        raise TooManyHashesError(
            f"A case can hold at most {max_files} photos and videos; this request has {files}. "
            "Please split them over several cases."
        )
    count = _count_hashes(submissions)
    if count > max_hashes:
        raise TooManyHashesError(
            f"A case can hold at most {max_hashes} hashes; this request has {count}. "
            "Please split them over several cases."
        )
    distinct: dict[tuple[str, str], ValidHash] = {}
    for index, submission in enumerate(submissions):
        if isinstance(submission, PhotoSubmission):
            for valid in _validate_photo(index, submission, denylist):
                distinct.setdefault(valid.key, valid)
            continue
        valid = _validate_one(index, submission, denylist)
        distinct.setdefault(valid.key, valid)
    return list(distinct.values())


def _validate_photo(index: int, photo: PhotoSubmission, denylist: DenyList) -> list[ValidHash]:
    where = f"Hash {index + 1}"
    if not 1 <= len(photo.variants) <= MAX_ENROLLED:
        raise HashRejectedError(
            f"{where}: a photo has between 1 and {MAX_ENROLLED} hashes.", index=index
        )
    out: list[ValidHash] = []
    for position, variant in enumerate(photo.variants):
        at = f"{where}, variant {position + 1}"
        try:
            signal = pdq_type_of_kind(variant.kind)
        except InvalidHashError as exc:
            raise HashRejectedError(f"{at}: {exc}.", index=index) from None
        value = _valid_pdq(index, at, variant.pdq, variant.quality, denylist)
        out.append(ValidHash(signal.key, value, quality=variant.quality, photo=index))
    return out


def _validate_one(index: int, submission: Submission, denylist: DenyList) -> ValidHash:
    where = f"Hash {index + 1}"
    if isinstance(submission, PdqSubmission):
        value = _valid_pdq(index, where, submission.value, submission.quality, denylist)
        return ValidHash(PDQ.key, value, quality=submission.quality, photo=index)
    if isinstance(submission, Md5Submission):
        try:
            value = MD5.normalize(submission.value)
        except InvalidHashError as exc:
            raise HashRejectedError(f"{where}: {exc}.", index=index) from None
        if value in DEGENERATE_MD5:
            raise HashRejectedError(
                f"{where}: this MD5 is that of an empty or blank file, not of a real video.",
                index=index,
            )
        return ValidHash(MD5.key, value)
    assert isinstance(submission, VpdqSubmission)
    return _valid_vpdq(index, where, submission, denylist)


def _valid_pdq(index: int, where: str, text: str, quality: int, denylist: DenyList) -> str:
    if not 0 <= quality <= 100:
        raise HashRejectedError(f"{where}: PDQ quality is between 0 and 100.", index=index)
    try:
        value = PDQ.normalize(text)
    except InvalidHashError as exc:
        raise HashRejectedError(f"{where}: {exc}.", index=index) from None
    if quality < MIN_QUALITY:
        raise HashRejectedError(
            f"{where}: the image is too plain to fingerprint reliably (quality {quality}, "
            f"the minimum is {MIN_QUALITY}).",
            index=index,
        )
    if denylist.matches(value):
        raise HashRejectedError(
            f"{where}: this fingerprint is that of a blank, single-colour or gradient image, "
            "which would match many harmless images; it cannot be shared.",
            index=index,
        )
    return value


def _valid_vpdq(
    index: int, where: str, submission: VpdqSubmission, denylist: DenyList
) -> ValidHash:
    frames = submission.frames
    if not frames:
        raise HashRejectedError(f"{where}: a vPDQ signature needs at least one frame.", index=index)
    if len(frames) > MAX_VPDQ_FRAMES:
        raise HashRejectedError(
            f"{where}: a vPDQ signature holds at most {MAX_VPDQ_FRAMES} frames.", index=index
        )
    lines: list[str] = []
    useful = 0
    for position, frame in enumerate(frames):
        at = f"{where}, frame {position + 1}"
        if not 0 <= frame.quality <= 100:
            raise HashRejectedError(f"{at}: PDQ quality is between 0 and 100.", index=index)
        if not math.isfinite(frame.timestamp) or frame.timestamp < 0:
            raise HashRejectedError(f"{at}: the timestamp must be 0 or more.", index=index)
        number = position if frame.frame is None else frame.frame
        if number < 0:
            raise HashRejectedError(f"{at}: the frame number must be 0 or more.", index=index)
        try:
            value = PDQ.normalize(frame.pdq)
        except InvalidHashError as exc:
            raise HashRejectedError(f"{at}: {exc}.", index=index) from None
        if frame.quality >= MIN_QUALITY and not denylist.matches(value):
            useful += 1
        lines.append(f"{number},{frame.quality},{value},{frame.timestamp:.3f}")
    if useful == 0:
        raise HashRejectedError(
            f"{where}: no frame of this video has enough detail to fingerprint (all are blank, "
            "plain or of low quality).",
            index=index,
        )
    payload = "\n".join(lines)
    return ValidHash(VPDQ.key, VPDQ.identity(payload), payload=payload)

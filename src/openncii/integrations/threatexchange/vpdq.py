"""vPDQ for python-threatexchange without the C++ ``vpdq`` package: ``openncii_vpdq``.

python-threatexchange's own ``vpdq`` extension imports the ``vpdq`` package, which PyPI ships
only as source: it builds against FFmpeg's development headers with CMake and a C++ compiler.
This signal type needs neither: it hashes videos with OpenNCII's own vPDQ (the reference's
frame sampling and pixels, see ``docs/hashing.md``) and compares them with the reference's
rule (80 % of the usable frames of each side within distance 31, quality >= 50).

A signal is the reference's text (``frame,quality,pdq,timestamp`` per frame), as the OpenNCII
feed sends it, on one line: frames are separated by ``;`` (the CLI and HMA keep one signal
per line).
"""

from __future__ import annotations

import json
import pathlib
import typing as t
from dataclasses import dataclass

from threatexchange.content_type.content_base import ContentType
from threatexchange.content_type.video import VideoContent
from threatexchange.signal_type import index, signal_base

from openncii.errors import InvalidHashError
from openncii.signals.vpdq import VpdqFeature, parse_vpdq_text, vpdq_match

__all__ = [
    "STOCK_VPDQ_NAME",
    "OpenNCIIVideoPdqSignal",
    "VpdqIndex",
    "VpdqSimilarity",
    "from_feed_value",
    "to_feed_value",
    "to_stock_signal",
]

_SEPARATOR: t.Final = ";"


def from_feed_value(text: str) -> str:
    """The signal string of a vPDQ signature as the feed sends it (one frame per line)."""
    return _SEPARATOR.join(line.strip() for line in text.splitlines() if line.strip())


def to_feed_value(signal: str) -> str:
    """The feed's form of a signal string (what ``SubmitFeedback`` recognises)."""
    return "\n".join(part.strip() for part in signal.split(_SEPARATOR) if part.strip())


#: The name of python-threatexchange's own vPDQ signal type (``threatexchange.extensions.vpdq``).
STOCK_VPDQ_NAME: t.Final = "vpdq"


def to_stock_signal(text: str) -> str:
    """A feed vPDQ signature in the form of python-threatexchange's own ``vpdq`` type.

    That form is a JSON list of ``"pdq,quality,timestamp"`` strings (the timestamp with three
    significant digits, as its ``VpdqCompactFeature`` writes it); it has no frame numbers.
    """
    return json.dumps([f"{f.pdq},{f.quality},{f.timestamp:.3}" for f in parse_vpdq_text(text)])


def _features(signal: str) -> list[VpdqFeature]:
    return parse_vpdq_text(to_feed_value(signal))


@dataclass
class VpdqSimilarity(index.SignalSimilarityInfo):
    """How much of each video matched: the query's frames, then the indexed video's."""

    query_percent: float
    compared_percent: float

    def pretty_str(self) -> str:
        return f"{self.query_percent:.0f}%[{self.compared_percent:.0f}%]"


class OpenNCIIVideoPdqSignal(signal_base.SimpleSignalType, signal_base.FileHasher):
    """vPDQ video fingerprints, hashed and matched by OpenNCII (no C++ ``vpdq`` needed)."""

    @classmethod
    def get_name(cls) -> str:
        return "openncii_vpdq"

    @classmethod
    def get_content_types(cls) -> list[type[ContentType]]:
        return [VideoContent]

    @classmethod
    def get_index_cls(cls) -> type[VpdqIndex[t.Any]]:
        return VpdqIndex

    @classmethod
    def validate_signal_str(cls, signal_str: str) -> str:
        """The signal in its canonical form; :class:`ValueError` if it is not a vPDQ signature."""
        features = _features(signal_str)  # InvalidHashError is a ValueError
        return _SEPARATOR.join(feature.to_line() for feature in features)

    @classmethod
    def hash_from_file(cls, file: pathlib.Path) -> str:
        from openncii.hashing import hash_file

        hashes = hash_file(file)
        if hashes.vpdq is None:
            raise ValueError("not a video: openncii_vpdq hashes videos")
        return _SEPARATOR.join(
            VpdqFeature(frame.frame, frame.quality, frame.pdq, frame.timestamp).to_line()
            for frame in hashes.vpdq
        )

    @classmethod
    def compare_hash(cls, hash1: str, hash2: str) -> signal_base.SignalComparisonResult:
        result = vpdq_match(_features(hash1), _features(hash2), dedupe=True)
        return signal_base.SignalComparisonResult(
            result.is_match, VpdqSimilarity(result.query_percent, result.target_percent)
        )

    @staticmethod
    def get_examples() -> list[str]:
        frame = "f" * 16 + "0" * 16 + "a5" * 16
        return [f"0,100,{frame},0.000;1,100,{frame},1.000"]


_T = t.TypeVar("_T")


class VpdqIndex(index.SignalTypeIndex[_T]):
    """Every indexed video compared with the query by the vPDQ rule (vectorised per video)."""

    def __init__(self) -> None:
        self._entries: list[tuple[list[VpdqFeature], _T]] = []

    def add(self, signal_str: str, entry: _T) -> None:
        try:
            self._entries.append((_features(signal_str), entry))
        except InvalidHashError as exc:
            raise ValueError(str(exc)) from None

    def query(self, query: str) -> t.Sequence[index.IndexMatch[_T]]:
        wanted = _features(query)
        found: list[index.IndexMatch[_T]] = []
        for features, entry in self._entries:
            result = vpdq_match(wanted, features, dedupe=True)
            if result.is_match:
                similarity = VpdqSimilarity(result.query_percent, result.target_percent)
                found.append(
                    index.IndexMatchUntyped[index.SignalSimilarityInfo, _T](similarity, entry)
                )
        return found

    def __len__(self) -> int:
        return len(self._entries)

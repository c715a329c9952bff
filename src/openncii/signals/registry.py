"""The signal types OpenNCII stores, exchanges and matches: one small class each, one registry.

A signal type is every fact about one kind of hash, in one place:

- ``key``: the storage key (``hashes.signal_type`` on the server, the partner store's
  ``signal_type``, the victim API's ``type``, the matcher's ``signal_type``), e.g. ``"pdq"``;
- ``wire_name``: the StopNCII ``signalType`` of the partner feed, e.g. ``"ImagePDQ"``, and
  ``stock``: whether stock StopNCII clients (python-threatexchange) know it; they skip the
  records of the types they do not know, without failing (``VideoPDQ`` is OpenNCII's own);
- :meth:`~SignalType.normalize`: the canonical form of a value, or
  :class:`~openncii.errors.InvalidHashError` saying what is wrong (never echoing the value);
- :meth:`~SignalType.identity`: what identifies a value in storage (at most 64 characters:
  the value itself, or for vPDQ the SHA-256 hex of the signature text);
- :meth:`~SignalType.lookup`: the identity a feed ``hashValue`` given *without* its type
  (``SubmitFeedback``) may stand for, or ``None``;
- :meth:`~SignalType.wire_value`: the ``hashValue`` the feed sends for a stored hash;
- :meth:`~SignalType.compare`: the match rule and the distance (:class:`Comparison`).

:data:`SIGNAL_TYPES` lists them in their canonical order (a value that several types accept is
looked up in this order); :func:`by_key` and :func:`by_wire_name` find one. The migration that
builds the feed's records in PostgreSQL repeats the ``key -> wire_name`` map in SQL;
``tests/test_signal_registry.py`` proves that they agree.

Robust matching's PDQ hashes of regions of a photo (``docs/matching.md``) are types of their own,
one per enrolled kind: ``pdq`` is the whole picture (kind ``full``, ``ImagePDQ`` as StopNCII
has it), ``pdq_trim``, ``pdq_square`` and ``pdq_strip`` (:class:`PdqVariantSignal`) the other
kinds. So the kind travels with each hash wherever its type does (the case API, the server's
store, the feed, the partner store), and two hashes of the same value but different kinds stay
two records. ``variant_kind`` names the kind (a :class:`openncii.signals.variants.Kind` value);
``variant`` says the feed sends the type only to clients that ask for variants (stock clients
would log every such record, hash value included, as an error: ``docs/partners.md``).

Adding a type is a subclass and one line in :data:`SIGNAL_TYPES` (``docs/contributing.md``
lists the files a new type touches).

Light on purpose: no numpy at import time (the hash code is imported where a comparison
needs it), no web or database imports.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

from openncii.errors import InvalidHashError
from openncii.signals.hexcode import hex_hamming_distance, normalize_hex
from openncii.signals.md5 import normalize_md5

__all__ = [
    "MD5",
    "PDQ",
    "PDQ_KEYS",
    "PDQ_SQUARE",
    "PDQ_STRIP",
    "PDQ_TRIM",
    "PDQ_TYPES",
    "SIGNAL_TYPES",
    "VPDQ",
    "Comparison",
    "Md5Signal",
    "PdqSignal",
    "PdqVariantSignal",
    "SignalType",
    "VpdqSignal",
    "by_key",
    "by_wire_name",
    "feed_keys",
    "keys",
    "pdq_type_of_kind",
    "wire_names",
]

_HEX64: Final = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two values of one signal type compared: whether they match, and how far apart they are
    (PDQ: Hamming bits; MD5: 0 when equal, else 1; vPDQ: the percentage of frames that found
    no partner on the side that matched less, rounded up)."""

    match: bool
    distance: int


class SignalType:
    """One kind of hash (see the module docstring). Subclasses set the class attributes and
    implement :meth:`normalize` and :meth:`compare`; instances hold no state."""

    key: ClassVar[str]
    wire_name: ClassVar[str]
    #: The name people know it by, in messages ("PDQ").
    label: ClassVar[str]
    media: ClassVar[Literal["image", "video"]]
    #: Whether stock StopNCII clients know this ``signalType`` (others skip such records).
    stock: ClassVar[bool] = True
    #: Whether the feed sends this type only to clients that ask for robust-matching variants.
    variant: ClassVar[bool] = False

    def normalize(self, text: str) -> str:
        """The canonical form of ``text``; :class:`InvalidHashError` if it is not a value of
        this type."""
        raise NotImplementedError

    def identity(self, value: str) -> str:
        """What identifies the normalised ``value`` in storage (at most 64 characters)."""
        return value

    def lookup(self, text: str) -> str | None:
        """The identity that ``text`` (a ``hashValue`` sent without its type) stands for when
        it is a value of this type, else ``None``."""
        try:
            return self.identity(self.normalize(text))
        except InvalidHashError:
            return None

    def wire_value(self, value: str, payload: str | None) -> str:
        """The ``hashValue`` the feed sends for a stored hash (its identity ``value`` and, for
        some types, the ``payload`` stored beside it)."""
        return value

    def compare(self, a: str, b: str) -> Comparison:
        """Compare two values of this type (normalised first; :class:`InvalidHashError`)."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<signal type {self.key} ({self.wire_name})>"


class PdqSignal(SignalType):
    """PDQ of an image: 64 hex characters (256 bits); a match is within 31 bits."""

    key = "pdq"
    wire_name = "ImagePDQ"
    label = "PDQ"
    media = "image"
    #: The region of the picture hashed (``openncii.signals.variants.Kind``): the whole of it.
    variant_kind: ClassVar[str] = "full"
    #: Characters of the hex form.
    hex_length: ClassVar[int] = 64

    @property
    def threshold(self) -> int:
        """Largest Hamming distance that is still a match."""
        from openncii.signals.pdq import MATCH_THRESHOLD

        return MATCH_THRESHOLD

    def normalize(self, text: str) -> str:
        return normalize_hex(text, length=self.hex_length, name="a PDQ hash")

    def compare(self, a: str, b: str) -> Comparison:
        distance = hex_hamming_distance(self.normalize(a), self.normalize(b))
        return Comparison(distance <= self.threshold, distance)


class PdqVariantSignal(PdqSignal):
    """PDQ of a region of a photo (robust matching): a square, a strip or the trimmed picture.

    Values are PDQ hashes like any other; what differs is the kind (``variant_kind``), which
    decides what they are compared with and at what distance
    (:func:`openncii.signals.variants.pair_threshold`): :meth:`compare` applies the rule of two
    hashes of this same kind.
    """

    stock = False
    variant = True

    def compare(self, a: str, b: str) -> Comparison:
        from openncii.signals.pdq import hamming_distance
        from openncii.signals.variants import pair_threshold

        distance = hamming_distance(self.normalize(a), self.normalize(b))
        limit = pair_threshold(self.variant_kind, self.variant_kind)
        return Comparison(limit is not None and distance <= limit, distance)


class PdqTrimSignal(PdqVariantSignal):
    """PDQ of a photo with its flat borders taken off (kind ``trim``)."""

    key = "pdq_trim"
    wire_name = "ImagePDQTrim"
    label = "PDQ (trimmed)"
    variant_kind = "trim"


class PdqSquareSignal(PdqVariantSignal):
    """PDQ of a centred square of a photo (kind ``square``)."""

    key = "pdq_square"
    wire_name = "ImagePDQSquare"
    label = "PDQ (square)"
    variant_kind = "square"


class PdqStripSignal(PdqVariantSignal):
    """PDQ of a photo without its bottom or top quarter (kind ``strip``)."""

    key = "pdq_strip"
    wire_name = "ImagePDQStrip"
    label = "PDQ (strip)"
    variant_kind = "strip"


class Md5Signal(SignalType):
    """MD5 of a video file's bytes: 32 hex characters; a match is equality."""

    key = "md5"
    wire_name = "VideoMD5"
    label = "MD5"
    media = "video"

    def normalize(self, text: str) -> str:
        return normalize_md5(text)

    def compare(self, a: str, b: str) -> Comparison:
        same = self.normalize(a) == self.normalize(b)
        return Comparison(same, 0 if same else 1)


class VpdqSignal(SignalType):
    """vPDQ of a video: the reference's text (one ``frame,quality,pdq,timestamp`` line per
    sampled frame), kept as sent and identified by its SHA-256; the vPDQ match rule."""

    key = "vpdq"
    wire_name = "VideoPDQ"
    label = "vPDQ"
    media = "video"
    stock = False

    def normalize(self, text: str) -> str:
        from openncii.signals.vpdq import parse_vpdq_text

        parse_vpdq_text(text)  # validates; the text itself is what identifies the signature
        return text

    def identity(self, value: str) -> str:
        return hashlib.sha256(value.encode("utf-8")).hexdigest()

    def lookup(self, text: str) -> str | None:
        # Either the identity itself (64 hex) or a signature as the feed sends it.
        stripped = text.strip()
        lower = stripped.lower()
        if _HEX64.fullmatch(lower):
            return lower
        if "," in stripped:
            return self.identity(stripped)
        return None

    def wire_value(self, value: str, payload: str | None) -> str:
        return payload if payload else value

    def compare(self, a: str, b: str) -> Comparison:
        from openncii.signals.vpdq import parse_vpdq_text, vpdq_match

        result = vpdq_match(parse_vpdq_text(a), parse_vpdq_text(b))
        missed = 100.0 - min(result.query_percent, result.target_percent)
        return Comparison(result.is_match, math.ceil(missed))


PDQ: Final = PdqSignal()
MD5: Final = Md5Signal()
VPDQ: Final = VpdqSignal()
PDQ_TRIM: Final = PdqTrimSignal()
PDQ_SQUARE: Final = PdqSquareSignal()
PDQ_STRIP: Final = PdqStripSignal()

#: Every signal type, in canonical order.
SIGNAL_TYPES: Final[tuple[SignalType, ...]] = (PDQ, MD5, VPDQ, PDQ_TRIM, PDQ_SQUARE, PDQ_STRIP)
#: The PDQ types of photos, one per enrolled kind (``full`` first).
PDQ_TYPES: Final[tuple[PdqSignal, ...]] = (PDQ, PDQ_TRIM, PDQ_SQUARE, PDQ_STRIP)
#: Their storage keys: a stored hash of one of these is a PDQ code, whatever its kind.
PDQ_KEYS: Final[frozenset[str]] = frozenset(t.key for t in PDQ_TYPES)

_BY_KEY: Final[Mapping[str, SignalType]] = {t.key: t for t in SIGNAL_TYPES}
_BY_WIRE: Final[Mapping[str, SignalType]] = {t.wire_name: t for t in SIGNAL_TYPES}


def by_key(key: str) -> SignalType:
    """The signal type stored as ``key``; :class:`InvalidHashError` for an unknown one."""
    found = _BY_KEY.get(key)
    if found is None:
        raise InvalidHashError(f"signal_type is one of {', '.join(keys())}")
    return found


def by_wire_name(name: str) -> SignalType | None:
    """The signal type whose StopNCII ``signalType`` is ``name``, or ``None`` (``VideoTMK``,
    or anything else this version does not know)."""
    return _BY_WIRE.get(name)


def feed_keys(variants: bool) -> tuple[str, ...]:
    """The storage keys the feed sends to a client (with or without the variant types)."""
    return tuple(t.key for t in SIGNAL_TYPES if variants or not t.variant)


def pdq_type_of_kind(kind: str) -> PdqSignal:
    """The PDQ signal type that stores an enrolled hash of ``kind`` (``"full"`` -> ``pdq``,
    ``"square"`` -> ``pdq_square``, ...); :class:`InvalidHashError` for another kind (a
    ``dihedral`` hash is computed by platforms, never enrolled)."""
    for signal in PDQ_TYPES:
        if signal.variant_kind == kind:
            return signal
    kinds = ", ".join(t.variant_kind for t in PDQ_TYPES)
    raise InvalidHashError(f"the kind of an enrolled PDQ hash is one of {kinds}")


def keys() -> tuple[str, ...]:
    """The storage keys, in canonical order."""
    return tuple(_BY_KEY)


def wire_names() -> dict[str, str]:
    """Storage key -> StopNCII ``signalType``, in canonical order."""
    return {t.key: t.wire_name for t in SIGNAL_TYPES}

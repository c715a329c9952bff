"""The partner API's wire format, read strictly: pages of hash records and feedback answers.

Everything the server sends is checked here before anything is stored: a page is either parsed
completely or rejected with :class:`~openncii.errors.FeedProtocolError` (never another exception),
so a malformed answer can never be half-written into the local store. Error messages name the
field that is wrong, never a hash value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson

from openncii.errors import FeedProtocolError, InvalidHashError
from openncii.signals.registry import MD5, PDQ, VPDQ, SignalType, by_key, by_wire_name
from openncii.stopncii import (
    CASE_STATUSES,
    FEEDBACK_VALUES,
    HASH_STATUSES,
    PARTNER_FEEDBACK_VALUES,
)

__all__ = [
    "CASE_STATUSES",
    "FEEDBACK_VALUES",
    "HASH_STATUSES",
    "PARTNER_FEEDBACK_VALUES",
    "SIGNAL_MD5",
    "SIGNAL_PDQ",
    "SIGNAL_VPDQ",
    "CSPFeedback",
    "FeedPage",
    "FeedbackAnswer",
    "HashRecord",
    "hash_key",
    "parse_feedback_answer",
    "parse_page",
]

#: The storage keys of the signal types the partner side names (the registry's).
SIGNAL_PDQ: Final = PDQ.key
SIGNAL_MD5: Final = MD5.key
SIGNAL_VPDQ: Final = VPDQ.key

_MAX_JSON_INT: Final = 2**53
_MAX_VALUE_CHARS: Final = 1_000_000
_MAX_TOKEN_CHARS: Final = 10_000


@dataclass(frozen=True, slots=True)
class CSPFeedback:
    """Another participating company's outcome for a hash (``CSPFeedbacks`` on the wire)."""

    feedback: str
    tags: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class HashRecord:
    """One record of the feed: a full snapshot of one hash.

    ``signal_type`` is the storage key (``"pdq"``, ``"md5"``, ``"vpdq"``), ``wire_type`` the
    ``signalType`` as sent. ``value`` is the hash as sent (lowercase hex; for vPDQ the signature
    text, one ``frame,quality,pdq,timestamp`` line per frame) and ``key`` what identifies it:
    the value itself, or for vPDQ the SHA-256 hex of the signature (the server's own key, which
    SubmitFeedback accepts). ``case_refs`` maps opaque case references to case status.
    """

    signal_type: str
    wire_type: str
    value: str
    key: str
    status: str
    case_refs: Mapping[str, str]
    feedbacks: tuple[CSPFeedback, ...]
    last_modified: int

    @property
    def active(self) -> bool:
        """Whether partners should match against this hash (``hashStatus`` is ``Active``)."""
        return self.status == "Active"

    def __repr__(self) -> str:
        # Hash values are sensitive: never whole in reprs that may reach a log.
        return (
            f"HashRecord(signal_type={self.signal_type!r}, key={self.key[:4]}…, "
            f"status={self.status!r}, cases={len(self.case_refs)})"
        )


@dataclass(frozen=True, slots=True)
class FeedPage:
    """One ``FetchHashes`` answer, checked. ``records`` holds the known signal types only;
    ``skipped`` counts records of other types (``VideoTMK``...), which are ignored."""

    records: tuple[HashRecord, ...]
    next_page_token: str | None
    next_set_timestamp: int
    has_more: bool
    count: int
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class FeedbackAnswer:
    """The ``SubmitFeedback`` answer: items recorded, positions of hashes not in the bank."""

    count: int
    not_found: tuple[int, ...]


def hash_key(signal_type: str, value: str) -> str:
    """The key that identifies a hash of this type (its storage key): the value, or for vPDQ
    its SHA-256 hex (:meth:`openncii.signals.registry.SignalType.identity`)."""
    return by_key(signal_type).identity(value)


def _load(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise FeedProtocolError("The server's answer is not JSON.") from None
    if not isinstance(data, dict):
        raise FeedProtocolError("The server's answer is not a JSON object.")
    return data


def _int(data: Mapping[str, Any], name: str, where: str) -> int:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_JSON_INT:
        raise FeedProtocolError(f"{where}: {name} is not a whole number >= 0.")
    return value


def _str(data: Mapping[str, Any], name: str, where: str) -> str:
    value = data.get(name)
    if not isinstance(value, str):
        raise FeedProtocolError(f"{where}: {name} is not a string.")
    return value


def _value(signal_type: SignalType, text: str, where: str) -> str:
    if len(text) > _MAX_VALUE_CHARS:
        raise FeedProtocolError(f"{where}: hashValue is too long.")
    try:
        return signal_type.normalize(text)
    except InvalidHashError:
        raise FeedProtocolError(
            f"{where}: hashValue is not a {signal_type.label} hash ({signal_type.wire_name})."
        ) from None


def _case_refs(data: Mapping[str, Any], where: str) -> dict[str, str]:
    refs = data.get("caseNumbers", {})
    if refs is None:
        return {}
    if not isinstance(refs, dict):
        raise FeedProtocolError(f"{where}: caseNumbers is not an object.")
    for ref, status in refs.items():
        if not isinstance(status, str) or status not in CASE_STATUSES:
            raise FeedProtocolError(f"{where}: caseNumbers has an unknown case status.")
        if not ref:
            raise FeedProtocolError(f"{where}: caseNumbers has an empty reference.")
    return dict(refs)


def _feedbacks(data: Mapping[str, Any], where: str) -> tuple[CSPFeedback, ...]:
    items = data.get("CSPFeedbacks", [])
    if items is None:
        return ()
    if not isinstance(items, list):
        raise FeedProtocolError(f"{where}: CSPFeedbacks is not a list.")
    found: list[CSPFeedback] = []
    for item in items:
        if not isinstance(item, dict):
            raise FeedProtocolError(f"{where}: a CSPFeedbacks entry is not an object.")
        value = _str(item, "feedbackValue", f"{where}, CSPFeedbacks")
        source = item.get("source", "")
        tags = item.get("tags", [])
        if tags is None:
            tags = []
        if not isinstance(source, str):
            raise FeedProtocolError(f"{where}: a CSPFeedbacks source is not a string.")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise FeedProtocolError(f"{where}: CSPFeedbacks tags are not a list of strings.")
        found.append(CSPFeedback(value, tuple(tags), source))
    return tuple(found)


def _record(data: Any, where: str) -> HashRecord | None:
    if not isinstance(data, dict):
        raise FeedProtocolError(f"{where} is not an object.")
    wire_type = _str(data, "signalType", where)
    signal_type = by_wire_name(wire_type)
    if signal_type is None:
        return None  # a type this client does not know: skipped, as python-threatexchange does
    status = _str(data, "hashStatus", where)
    if status not in HASH_STATUSES:
        raise FeedProtocolError(f"{where}: hashStatus is not one of {', '.join(HASH_STATUSES)}.")
    value = _value(signal_type, _str(data, "hashValue", where), where)
    return HashRecord(
        signal_type=signal_type.key,
        wire_type=wire_type,
        value=value,
        key=signal_type.identity(value),
        status=status,
        case_refs=_case_refs(data, where),
        feedbacks=_feedbacks(data, where),
        last_modified=_int(data, "lastModtimestamp", where),
    )


def parse_page(body: bytes) -> FeedPage:
    """Check and parse a ``FetchHashes`` answer; :class:`FeedProtocolError` if anything is off."""
    data = _load(body)
    where = "FetchHashes"
    records = data.get("hashRecords")
    if not isinstance(records, list):
        raise FeedProtocolError(f"{where}: hashRecords is not a list.")
    count = _int(data, "count", where)
    if count != len(records):
        raise FeedProtocolError(f"{where}: count is not the number of hashRecords.")
    has_more = data.get("hasMoreRecords")
    if not isinstance(has_more, bool):
        raise FeedProtocolError(f"{where}: hasMoreRecords is not true or false.")
    token = data.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise FeedProtocolError(f"{where}: nextPageToken is not a string.")
    if has_more and not token:
        raise FeedProtocolError(f"{where}: hasMoreRecords is true but there is no nextPageToken.")
    if token is not None and len(token) > _MAX_TOKEN_CHARS:
        raise FeedProtocolError(f"{where}: nextPageToken is too long.")
    next_set = _int(data, "nextSetTimestamp", where)
    parsed = [_record(item, f"{where} hashRecords[{i}]") for i, item in enumerate(records)]
    kept = tuple(r for r in parsed if r is not None)
    return FeedPage(
        records=kept,
        next_page_token=token if has_more else None,
        next_set_timestamp=next_set,
        has_more=has_more,
        count=count,
        skipped=len(parsed) - len(kept),
    )


def parse_feedback_answer(body: bytes) -> FeedbackAnswer:
    """Check and parse a ``SubmitFeedback`` answer (``notFound`` is optional)."""
    data = _load(body)
    count = _int(data, "count", "SubmitFeedback")
    missing = data.get("notFound", [])
    if missing is None:
        missing = []
    if not isinstance(missing, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in missing
    ):
        raise FeedProtocolError("SubmitFeedback: notFound is not a list of positions.")
    return FeedbackAnswer(count, tuple(missing))

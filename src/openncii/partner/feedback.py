"""Report outcomes for bank hashes (``SubmitFeedback``) and record them in the local store.

:func:`report_outcomes` is what ``openncii partner feedback`` and ``openncii partner scan
--feedback`` do: it sends the outcomes in requests of at most :data:`DEFAULT_PAGE_SIZE` items
(the most the API takes) and records each one in the store's outcomes, with whether the server
holds the hash. A request that fails raises the client's error; the outcomes of the requests
before it stay recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from openncii.partner._wire import SIGNAL_MD5, SIGNAL_PDQ, SIGNAL_VPDQ
from openncii.partner.client import DEFAULT_PAGE_SIZE, FeedbackItem, FeedClient
from openncii.partner.store import Outcome, PartnerStore

__all__ = ["FeedbackReport", "report_outcomes", "signal_type_of"]


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    """What :func:`report_outcomes` did: the hashes sent (in order) and those the server does
    not hold (their outcomes are recorded locally all the same, as not recorded)."""

    sent: tuple[str, ...]
    not_found: tuple[str, ...]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def signal_type_of(store: PartnerStore, hash_value: str) -> str | None:
    """The signal type of a hash as the feed sent it: MD5 for 32 hex characters, else PDQ or
    vPDQ when the store holds it (a vPDQ record is named by its SHA-256); ``None`` otherwise."""
    if len(hash_value) == 32:
        return SIGNAL_MD5
    for candidate in (SIGNAL_PDQ, SIGNAL_VPDQ):
        if store.get(candidate, hash_value) is not None:
            return candidate
    return None


def report_outcomes(
    client: FeedClient,
    store: PartnerStore,
    hashes: Mapping[str, str | None],
    feedback: str,
    tags: tuple[str, ...] = (),
    *,
    clock: Callable[[], datetime] = _utc_now,
) -> FeedbackReport:
    """Send ``feedback`` (with ``tags``) for every hash of ``hashes`` (hash value -> its signal
    type, or ``None`` when unknown), in sorted order and batches of :data:`DEFAULT_PAGE_SIZE`,
    and record each outcome in ``store``."""
    ordered = sorted(hashes)
    not_found: list[str] = []
    for start in range(0, len(ordered), DEFAULT_PAGE_SIZE):
        batch = ordered[start : start + DEFAULT_PAGE_SIZE]
        answer = client.submit_feedback([FeedbackItem(h, feedback, tags) for h in batch])
        missing = set(answer.not_found)
        now = clock()
        for position, value in enumerate(batch):
            recorded = position not in missing
            if not recorded:
                not_found.append(value)
            store.record_outcome(Outcome(value, hashes[value], feedback, tags, now, recorded))
    return FeedbackReport(tuple(ordered), tuple(not_found))

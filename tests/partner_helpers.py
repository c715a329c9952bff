"""Helpers for the partner-API tests: partners with keys and a raw-HTTP feed reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from openncii.partners import add_partner

FETCH = "/v1/FetchHashes"
FEEDBACK = "/v1/SubmitFeedback"
SUBMIT = "/v1/SubmitHashes"


def new_partner(sessions: Any, name: str, *, can_submit: bool = False) -> str:
    """Create a partner directly in the database; return its API key."""
    with sessions() as session:
        return add_partner(session, name, datetime.now(UTC), can_submit=can_submit).key


def key_headers(key: str) -> dict[str, str]:
    """The headers python-threatexchange sends (the same key in both)."""
    return {"Ocp-Apim-Subscription-Key": key, "x-functions-key": key}


@dataclass
class FeedReader:
    """A partner's local copy of the feed, kept with raw HTTP calls (any httpx-like client)."""

    client: Any
    key: str
    page_size: int = 800
    checkpoint: int = 0
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    checkpoints: list[int] = field(default_factory=list)
    #: Ask for robust matching's variant records too (``variants=1``, OpenNCII's own).
    variants: bool = False

    def fetch(self) -> list[dict[str, Any]]:
        """One fetch from the saved checkpoint to the end; returns the records received."""
        received: list[dict[str, Any]] = []
        token = ""
        while True:
            params: dict[str, Any] = {"startTimestamp": self.checkpoint, "pageSize": self.page_size}
            if token:
                params["nextPageToken"] = token
            if self.variants:
                params["variants"] = 1
            response = self.client.get(FETCH, params=params, headers=key_headers(self.key))
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["count"] == len(page["hashRecords"])
            assert page["count"] <= self.page_size
            received.extend(page["hashRecords"])
            for record in page["hashRecords"]:
                self.records[(record["signalType"], record["hashValue"])] = record
            self.checkpoints.append(page["nextSetTimestamp"])
            if not page["hasMoreRecords"]:
                self.checkpoint = page["nextSetTimestamp"]
                return received
            token = page["nextPageToken"]
            assert token

    def active(self) -> set[tuple[str, str]]:
        return {k for k, r in self.records.items() if r["hashStatus"] == "Active"}


def feed_record(
    signal: str, value: str, status: str = "Active", ref: str = "ref-a"
) -> dict[str, Any]:
    """One ``hashRecords`` entry as the partner API sends it."""
    return {
        "lastModtimestamp": 1,
        "signalType": signal,
        "hashValue": value,
        "hashStatus": status,
        "caseNumbers": {ref: "Active" if status == "Active" else "Withdrawn"},
        "CSPFeedbacks": [],
    }


def store_page(store: Any, records: list[dict[str, Any]], now: datetime | None = None) -> None:
    """Apply one feed page (built from ``feed_record`` entries) to a partner store, through
    the same parser and transaction a sync uses; the sync completes at ``now`` (default: a
    fixed day)."""
    import json

    from openncii.partner import parse_page

    body = json.dumps(
        {
            "count": len(records),
            "nextPageToken": None,
            "nextSetTimestamp": 2,
            "hasMoreRecords": False,
            "hashRecords": records,
        }
    ).encode()
    page = parse_page(body)
    store.apply_page(
        page.records,
        next_page_token=None,
        next_start_timestamp=2,
        now=now or datetime(2026, 11, 1, tzinfo=UTC),
    )


def balanced_pdq(rng: Any) -> str:
    """A random PDQ hex with exactly 128 of 256 bits set, like real PDQ hashes
    (``rng``: a ``numpy.random.Generator``)."""
    import numpy as np

    bits = np.zeros(256, dtype=np.uint8)
    bits[rng.choice(256, 128, replace=False)] = 1
    return bytes(np.packbits(bits)).hex()


def flip_pdq(value: str, count: int, rng: Any) -> str:
    """``value`` with ``count`` distinct bits flipped: a hash exactly ``count`` bits away."""
    number = int(value, 16)
    for bit in rng.choice(256, count, replace=False):
        number ^= 1 << int(bit)
    return f"{number:064x}"

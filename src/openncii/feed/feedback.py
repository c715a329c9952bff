"""Partner feedback (``SubmitFeedback``): a partner's outcome for hashes of the bank.

The checks of feedback values and tags, and the upsert of a partner's feedback, serve
submissions too (:mod:`openncii.feed.submissions`). No FastAPI and no HTTP here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from openncii.db.feed_clock import advance_feed_clock, stamp_hashes
from openncii.db.models import Feedback, HashRecord
from openncii.db.upsert import insert_for
from openncii.errors import PartnerRequestError
from openncii.signals.registry import SIGNAL_TYPES
from openncii.stopncii import PARTNER_FEEDBACK_VALUES

__all__ = [
    "MAX_BATCH",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "FeedbackItem",
    "FeedbackResult",
    "check_feedback_value",
    "check_tags",
    "submit_feedback",
    "upsert_feedback",
]

#: Most items one SubmitFeedback or SubmitHashes request may carry.
MAX_BATCH: Final = 1000
MAX_TAGS: Final = 20
MAX_TAG_CHARS: Final = 100


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    """One ``hashFeedbacks`` entry: a hash (no signal type on the wire), a value and tags."""

    hash_value: str
    feedback: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedbackResult:
    """How many items were recorded, and the positions of hashes not in the bank."""

    recorded: int
    unknown: tuple[int, ...] = field(default_factory=tuple)


def check_tags(tags: Sequence[str], where: str) -> tuple[str, ...]:
    if len(tags) > MAX_TAGS:
        raise PartnerRequestError(f"{where}: at most {MAX_TAGS} tags.")
    for tag in tags:
        if not 0 < len(tag) <= MAX_TAG_CHARS:
            raise PartnerRequestError(f"{where}: a tag is 1 to {MAX_TAG_CHARS} characters.")
    return tuple(dict.fromkeys(tags))


def check_feedback_value(value: str, where: str) -> str:
    """``value`` if a platform may report it (``Withdrawn`` and ``Deleted`` are not theirs)."""
    if value not in PARTNER_FEEDBACK_VALUES:
        raise PartnerRequestError(
            f"{where}: feedbackValue is one of {', '.join(PARTNER_FEEDBACK_VALUES)}."
        )
    return value


def _candidates(hash_value: str) -> list[tuple[str, str]]:
    """The stored (signal type, value) pairs a wire ``hashValue`` (sent without its type) may
    stand for, in the registry's order (the first one the bank holds is taken)."""
    return [
        (kind.key, identity)
        for kind in SIGNAL_TYPES
        for identity in [kind.lookup(hash_value)]
        if identity is not None
    ]


def submit_feedback(
    session: Session, partner_id: int, items: Sequence[FeedbackItem], now: datetime
) -> FeedbackResult:
    """Record a partner's outcome for each hash, in one transaction.

    The records change (their ``CSPFeedbacks``), so they get one new feed position. Hashes not
    in the bank are reported by position, not stored.
    """
    if len(items) > MAX_BATCH:
        raise PartnerRequestError(f"At most {MAX_BATCH} feedback items per request.")
    checked = [
        (
            i,
            _candidates(item.hash_value),
            check_feedback_value(item.feedback, f"hashFeedbacks[{i}]"),
            check_tags(item.tags, f"hashFeedbacks[{i}]"),
        )
        for i, item in enumerate(items)
    ]
    keys = {key for _, candidates, _, _ in checked for key in candidates}
    with session.begin():
        found: dict[tuple[str, str], int] = {}
        if keys:
            for hash_id, signal_type, value in session.execute(
                select(HashRecord.id, HashRecord.signal_type, HashRecord.value).where(
                    tuple_(HashRecord.signal_type, HashRecord.value).in_(sorted(keys))
                )
            ):
                found[(signal_type, value)] = int(hash_id)
        latest: dict[int, tuple[str, str]] = {}
        unknown: list[int] = []
        for i, candidates, value, tags in checked:
            match = next((found[k] for k in candidates if k in found), None)
            if match is None:
                unknown.append(i)
            else:
                latest[match] = (value, json.dumps(list(tags)))  # the last item for a hash wins
        if latest:
            upsert_feedback(session, partner_id, latest, now)
            seq = advance_feed_clock(session)
            stamp_hashes(session, latest.keys(), seq, now)
    return FeedbackResult(len(items) - len(unknown), tuple(unknown))


def upsert_feedback(
    session: Session, partner_id: int, values: dict[int, tuple[str, str]], now: datetime
) -> None:
    statement = insert_for(session, Feedback).values(
        [
            {
                "hash_id": hash_id,
                "partner_id": partner_id,
                "value": value,
                "tags": tags,
                "updated_at": now,
            }
            for hash_id, (value, tags) in sorted(values.items())
        ]
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["hash_id", "partner_id"],
            set_={
                "value": statement.excluded.value,
                "tags": statement.excluded.tags,
                "updated_at": statement.excluded.updated_at,
            },
        )
    )

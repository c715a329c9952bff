"""Hash review for the helpline console: the queue of hashes that need a human look and what
staff do with them (open, disable, re-enable, the deny-list). Never an image.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.review.actions import (
    MAX_REASON,
    DeniedEntry,
    DisabledEntry,
    OpenedHash,
    deny_value,
    disable_hash,
    enable_hash,
    list_denied,
    list_disabled,
    open_hash,
    remove_denied,
)
from openncii.review.queue import (
    NETWORK_DAYS,
    REASONS,
    Reason,
    ReviewItem,
    ReviewQueue,
    ReviewRules,
    queue_items,
    review_queue,
    review_reasons,
)

__all__ = [
    "MAX_REASON",
    "NETWORK_DAYS",
    "REASONS",
    "DeniedEntry",
    "DisabledEntry",
    "OpenedHash",
    "Reason",
    "ReviewItem",
    "ReviewQueue",
    "ReviewRules",
    "deny_value",
    "disable_hash",
    "enable_hash",
    "list_denied",
    "list_disabled",
    "open_hash",
    "queue_items",
    "remove_denied",
    "review_queue",
    "review_reasons",
]

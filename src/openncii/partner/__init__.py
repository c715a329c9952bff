"""The partner side: what a participating platform runs.

- :class:`FeedClient` syncs the StopNCII-compatible hash feed of an OpenNCII server into a
  local :class:`PartnerStore` (a SQLite file) and reports outcomes with ``SubmitFeedback``.
- :class:`PartnerStore` is the local copy of the bank, with the reads a matcher needs
  (:meth:`~PartnerStore.pdq_codes`, :meth:`~PartnerStore.active`,
  :meth:`~PartnerStore.changes_since`).
- :func:`report_outcomes` reports outcomes in batches and records them in the store.

No server code is imported here (no ``openncii.api``, ``cases``, ``feed`` or ``db``).
"""

from __future__ import annotations

from openncii.partner._wire import (
    FEEDBACK_VALUES,
    HASH_STATUSES,
    PARTNER_FEEDBACK_VALUES,
    SIGNAL_MD5,
    SIGNAL_PDQ,
    SIGNAL_VPDQ,
    CSPFeedback,
    FeedbackAnswer,
    FeedPage,
    HashRecord,
    hash_key,
    parse_page,
)
from openncii.partner.client import (
    DEFAULT_PAGE_SIZE,
    MAX_CHECKPOINT_AGE,
    FeedbackItem,
    FeedClient,
    RetryPolicy,
    SyncProgress,
    SyncResult,
)
from openncii.partner.feedback import FeedbackReport, report_outcomes, signal_type_of
from openncii.partner.store import (
    SCHEMA_VERSION,
    ChangeSet,
    Outcome,
    PageCounts,
    PartnerStore,
    StoredHash,
    SyncState,
)

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "FEEDBACK_VALUES",
    "HASH_STATUSES",
    "MAX_CHECKPOINT_AGE",
    "PARTNER_FEEDBACK_VALUES",
    "SCHEMA_VERSION",
    "SIGNAL_MD5",
    "SIGNAL_PDQ",
    "SIGNAL_VPDQ",
    "CSPFeedback",
    "ChangeSet",
    "FeedClient",
    "FeedPage",
    "FeedbackAnswer",
    "FeedbackItem",
    "FeedbackReport",
    "HashRecord",
    "Outcome",
    "PageCounts",
    "PartnerStore",
    "RetryPolicy",
    "StoredHash",
    "SyncProgress",
    "SyncResult",
    "SyncState",
    "hash_key",
    "parse_page",
    "report_outcomes",
    "signal_type_of",
]

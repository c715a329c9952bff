"""The StopNCII API's enumerations, shared by the server (``partners/``, ``feed/``) and the
partner side (``partner/``): wire values, never derived from class names."""

from __future__ import annotations

from typing import Final

__all__ = ["CASE_STATUSES", "FEEDBACK_VALUES", "HASH_STATUSES"]

#: Hash statuses (``hashStatus``) and case statuses (``caseNumbers`` values).
HASH_STATUSES: Final = ("Received", "Active", "Withdrawn", "Deleted")
CASE_STATUSES: Final = HASH_STATUSES
#: Partner feedback values (``SubmitFeedback``'s ``feedbackValue``).
FEEDBACK_VALUES: Final = (
    "None",
    "QualityUnknown",
    "PendingReview",
    "Blocked",
    "NotBlocked",
    "Withdrawn",
    "Deleted",
)

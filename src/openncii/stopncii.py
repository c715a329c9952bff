"""The StopNCII API's enumerations, shared by the server (``partners/``, ``feed/``) and the
partner side (``partner/``): wire values, never derived from class names."""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = [
    "CASE_STATUSES",
    "FEEDBACK_VALUES",
    "HASH_STATUSES",
    "PARTNER_FEEDBACK_VALUES",
    "PartnerFeedback",
]

#: Hash statuses (``hashStatus``) and case statuses (``caseNumbers`` values).
HASH_STATUSES: Final = ("Received", "Active", "Withdrawn", "Deleted")
CASE_STATUSES: Final = HASH_STATUSES
#: Every feedback value of the wire enum (``CSPFeedbacks`` of a feed record may carry any).
FEEDBACK_VALUES: Final = (
    "None",
    "QualityUnknown",
    "PendingReview",
    "Blocked",
    "NotBlocked",
    "Withdrawn",
    "Deleted",
)

#: What a platform may report for a hash (``SubmitFeedback``, the ``CSPFeedbacks`` of
#: ``SubmitHashes``): its own finding. ``Withdrawn`` and ``Deleted`` are the owner's decisions
#: (a case status), never a platform's: the API refuses them, so a person never reads
#: "Withdrawn" beside a platform's name while the hash is still active. ``None`` tags without
#: an outcome, as python-threatexchange documents.
PartnerFeedback = Literal["None", "QualityUnknown", "PendingReview", "Blocked", "NotBlocked"]
PARTNER_FEEDBACK_VALUES: Final[tuple[str, ...]] = get_args(PartnerFeedback)

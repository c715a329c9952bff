"""Partners (participating companies): helpline management and their feedback on hashes.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.partners.service import (
    FEEDBACK_VALUES,
    NO_PARTNERS_WARNING,
    NewPartner,
    PartnerInfo,
    PartnerStats,
    RotatedKey,
    add_partner,
    authenticate_partner,
    feedback_counts,
    key_accepted,
    list_partners,
    partner_stats,
    public_partner_names,
    record_feedback,
    record_fetch,
    record_refusal,
    rename_partner,
    revoke_partner,
    rotate_partner_key,
    set_can_submit,
)

__all__ = [
    "FEEDBACK_VALUES",
    "NO_PARTNERS_WARNING",
    "NewPartner",
    "PartnerInfo",
    "PartnerStats",
    "RotatedKey",
    "add_partner",
    "authenticate_partner",
    "feedback_counts",
    "key_accepted",
    "list_partners",
    "partner_stats",
    "public_partner_names",
    "record_feedback",
    "record_fetch",
    "record_refusal",
    "rename_partner",
    "revoke_partner",
    "rotate_partner_key",
    "set_can_submit",
]

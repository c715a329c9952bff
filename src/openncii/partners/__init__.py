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
    add_partner,
    authenticate_partner,
    list_partners,
    public_partner_names,
    record_feedback,
    revoke_partner,
)

__all__ = [
    "FEEDBACK_VALUES",
    "NO_PARTNERS_WARNING",
    "NewPartner",
    "PartnerInfo",
    "add_partner",
    "authenticate_partner",
    "list_partners",
    "public_partner_names",
    "record_feedback",
    "revoke_partner",
]

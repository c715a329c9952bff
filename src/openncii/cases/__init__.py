"""The case service (domain layer): cases, their hashes, PINs, eligibility and abuse controls.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.cases.abuse import LockoutPolicy, RateLimit
from openncii.cases.denylist import DenyList
from openncii.cases.eligibility import Eligibility
from openncii.cases.pins import Argon2Parameters, PinHasher, PinSlots
from openncii.cases.service import (
    CaseRules,
    CaseStatus,
    CreatedCase,
    HashOutcome,
    HashStatus,
    case_status,
    create_case,
    store_case,
    withdraw_case,
)
from openncii.cases.validation import (
    Md5Submission,
    PdqSubmission,
    PhotoSubmission,
    Submission,
    VariantSubmission,
    VpdqFrameSubmission,
    VpdqSubmission,
)

__all__ = [
    "Argon2Parameters",
    "CaseRules",
    "CaseStatus",
    "CreatedCase",
    "DenyList",
    "Eligibility",
    "HashOutcome",
    "HashStatus",
    "LockoutPolicy",
    "Md5Submission",
    "PdqSubmission",
    "PhotoSubmission",
    "PinHasher",
    "PinSlots",
    "RateLimit",
    "Submission",
    "VariantSubmission",
    "VpdqFrameSubmission",
    "VpdqSubmission",
    "case_status",
    "create_case",
    "store_case",
    "withdraw_case",
]

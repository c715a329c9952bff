"""Wire schemas (pydantic) of the victim API (``/api/v1``: unknown fields are refused) and of the
partner API (``/v1``, StopNCII's wire names: unknown fields are ignored, as partners' clients
send more than we read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from openncii.cases.validation import MAX_VPDQ_FRAMES
from openncii.feed import MAX_BATCH
from openncii.serving.errors import error_codes
from openncii.signals.variants import MAX_ENROLLED
from openncii.stopncii import PartnerFeedback

__all__ = [
    "CSPFeedbackIn",
    "CSPFeedbackOut",
    "CaseCreateIn",
    "CaseCreatedOut",
    "CaseCredentialsIn",
    "CaseStatusOut",
    "EligibilityIn",
    "ErrorOut",
    "FetchHashesOut",
    "FieldErrorOut",
    "HashFeedbackIn",
    "HashIn",
    "HashRecordIn",
    "HashRecordOut",
    "HashStatusOut",
    "HelplineOut",
    "HelplinesOut",
    "LimitsOut",
    "Md5In",
    "OutcomeOut",
    "PartnerOut",
    "PartnersOut",
    "PdqIn",
    "PhotoIn",
    "SubmitFeedbackIn",
    "SubmitFeedbackOut",
    "SubmitHashesIn",
    "SubmitHashesOut",
    "VariantIn",
    "VpdqFrameIn",
    "VpdqIn",
]

_HEX_FIELD_MAX: Final = 128
_LANGUAGE_PATTERN: Final = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,3}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class EligibilityIn(_Strict):
    """The five answers; all must be ``true`` to open a case."""

    in_image: bool = Field(description="The person submitting is the person in the image.")
    adult_when_taken: bool = Field(description="They were 18 or older when it was taken.")
    adult_now: bool = Field(description="They are 18 or older now.")
    has_content: bool = Field(description="They still have the image or video.")
    intimate: bool = Field(description="It is nude, semi-nude or sexual.")


# The ``type`` of each hash is its signal type's storage key (openncii.signals.registry; pydantic
# needs the literals, tests/test_signal_registry.py checks them).
class PdqIn(_Strict):
    type: Literal["pdq"]
    value: str = Field(max_length=_HEX_FIELD_MAX, description="64 hex digits.")
    quality: int = Field(ge=0, le=100, description="PDQ quality (at least 50 is accepted).")


class Md5In(_Strict):
    type: Literal["md5"]
    value: str = Field(max_length=_HEX_FIELD_MAX, description="32 hex digits.")


class VpdqFrameIn(_Strict):
    pdq: str = Field(max_length=_HEX_FIELD_MAX, description="64 hex digits.")
    quality: int = Field(ge=0, le=100)
    timestamp: float = Field(ge=0, description="Seconds from the start of the video.")
    frame: int | None = Field(default=None, ge=0, description="Frame number (optional).")


class VpdqIn(_Strict):
    type: Literal["vpdq"]
    frames: list[VpdqFrameIn] = Field(min_length=1, max_length=MAX_VPDQ_FRAMES)


class VariantIn(_Strict):
    pdq: str = Field(max_length=_HEX_FIELD_MAX, description="64 hex digits.")
    # The enrolled kinds (openncii.signals.variants.ENROLLED_KINDS; a test checks them).
    kind: Literal["full", "trim", "square", "strip"] = Field(
        description="The region of the photo hashed (docs/matching.md)."
    )
    quality: int = Field(ge=0, le=100, description="PDQ quality (at least 50 is accepted).")


class PhotoIn(_Strict):
    """One photo: the PDQ hashes of its regions that the device enrolled, with their kinds
    (what ``openncii.enroll_file`` and the web app's ``variants.js`` compute)."""

    type: Literal["photo"]
    variants: list[VariantIn] = Field(min_length=1, max_length=MAX_ENROLLED)


HashIn = Annotated[PdqIn | Md5In | VpdqIn | PhotoIn, Field(discriminator="type")]


class CaseCreateIn(_Strict):
    eligibility: EligibilityIn
    hashes: list[HashIn] = Field(min_length=1, max_length=10_000)
    language: str | None = Field(
        default=None, max_length=35, pattern=_LANGUAGE_PATTERN, description="BCP 47 tag."
    )


class CaseCreatedOut(BaseModel):
    case_number: str = Field(description="Shown grouped: XXXX-XXXX-XXXX. Cannot be recovered.")
    pin: str = Field(
        description="16 digits shown grouped: 1234-5678-9012-3456 (accepted with or without "
        "spaces or dashes). Shown once. Cannot be recovered."
    )
    hash_count: int = Field(description="Distinct hashes stored.")
    file_count: int = Field(description="Photos and videos they came from.")


class CaseCredentialsIn(_Strict):
    case_number: str = Field(max_length=64)
    pin: str = Field(
        max_length=64,
        description="16 digits (or 8, a case opened before PINs had 16); spaces and dashes "
        "are ignored.",
    )


class OutcomeOut(BaseModel):
    partner: str
    outcome: str = Field(description="PendingReview, Blocked, NotBlocked, ...")
    at: datetime


class HashStatusOut(BaseModel):
    type: str
    prefix: str = Field(description="The first characters of the hash, to tell them apart.")
    photo: int | None = Field(
        default=None, description="Which photo of the case it belongs to (its entry's position)."
    )
    outcomes: list[OutcomeOut]


class CaseStatusOut(BaseModel):
    case_number: str
    status: Literal["active", "withdrawn"]
    created_at: datetime
    withdrawn_at: datetime | None
    hashes: list[HashStatusOut]


class LimitsOut(BaseModel):
    max_files_per_case: int = Field(description="The most photos and videos one case may hold.")
    max_hashes_per_case: int = Field(description="The most hashes one case may hold.")
    max_body_bytes: int = Field(description="The largest request body, in bytes.")


class PartnerOut(BaseModel):
    name: str


class PartnersOut(BaseModel):
    partners: list[PartnerOut]


class HelplineOut(BaseModel):
    country: str = Field(description="ISO 3166-1 alpha-2 code of the country it serves.")
    language: str = Field(description="The page language it is shown in.")
    name: str
    url: str
    phone: str | None = None


class HelplinesOut(BaseModel):
    helplines: list[HelplineOut]


class FieldErrorOut(BaseModel):
    loc: str = Field(description="Where in the request, e.g. body.hashes.0.value.")
    msg: str


class ErrorOut(BaseModel):
    """Every refusal: a sentence for people and a stable code for programs (some codes add a
    field: ``question`` and ``help_url`` for not_eligible, ``index`` for hash_rejected,
    ``errors`` for invalid_request, ``tries_left`` for a wrong case number or PIN,
    ``challenge`` for a case creation over the per-client limit)."""

    detail: str
    code: str = Field(description=", ".join(error_codes()))
    question: str | None = None
    help_url: str | None = None
    index: int | None = None
    errors: list[FieldErrorOut] | None = None
    tries_left: int | None = None
    challenge: str | None = None


# --------------------------------------------------------------------------------------------------
# Partner API (/v1): StopNCII's wire names
# --------------------------------------------------------------------------------------------------


class CSPFeedbackOut(BaseModel):
    feedbackValue: str  # noqa: N815 - wire name
    tags: list[str]
    source: str


class HashRecordOut(BaseModel):
    lastModtimestamp: int  # noqa: N815 - wire name
    signalType: str  # noqa: N815 - wire name
    hashValue: str  # noqa: N815 - wire name
    hashStatus: str  # noqa: N815 - wire name
    caseNumbers: dict[str, str]  # noqa: N815 - wire name
    CSPFeedbacks: list[CSPFeedbackOut]


class FetchHashesOut(BaseModel):
    """One page of the feed (documentation only: the answer is built without pydantic)."""

    count: int
    nextPageToken: str | None  # noqa: N815 - wire name
    nextSetTimestamp: int  # noqa: N815 - wire name
    hasMoreRecords: bool  # noqa: N815 - wire name
    hashRecords: list[HashRecordOut]  # noqa: N815 - wire name


_Tags = Annotated[list[Annotated[str, Field(max_length=1000)]], Field(max_length=1000)]
_HashValue = Annotated[str, Field(min_length=1, max_length=400_000)]


class _WireModel(BaseModel):
    # Partners' clients may send more than we read (python-threatexchange sends lastModtimestamp).
    model_config = ConfigDict(extra="ignore", frozen=True)


_FEEDBACK_DESCRIPTION: Final = (
    "What the platform found. Withdrawn and Deleted are the owner's decisions, not a platform's: "
    "they are refused (422)."
)


class HashFeedbackIn(_WireModel):
    hashValue: _HashValue  # noqa: N815 - wire name
    feedbackValue: PartnerFeedback = Field(description=_FEEDBACK_DESCRIPTION)  # noqa: N815
    tags: _Tags = []


class SubmitFeedbackIn(_WireModel):
    count: int
    hashFeedbacks: list[HashFeedbackIn] = Field(max_length=MAX_BATCH)  # noqa: N815 - wire name


class SubmitFeedbackOut(BaseModel):
    count: int = Field(description="Feedback items recorded.")
    notFound: list[int] = Field(  # noqa: N815 - wire name
        description="Positions (0-based) of hashes that are not in the bank."
    )


class CSPFeedbackIn(_WireModel):
    feedbackValue: PartnerFeedback = Field(description=_FEEDBACK_DESCRIPTION)  # noqa: N815
    tags: _Tags = []


class HashRecordIn(_WireModel):
    signalType: str = Field(max_length=100)  # noqa: N815 - wire name
    hashValue: _HashValue  # noqa: N815 - wire name
    CSPFeedbacks: list[CSPFeedbackIn] = Field(default=[], max_length=10)


class SubmitHashesIn(_WireModel):
    count: int
    hashRecords: list[HashRecordIn] = Field(max_length=MAX_BATCH)  # noqa: N815 - wire name


class SubmitHashesOut(BaseModel):
    count: int = Field(description="Distinct hashes stored.")

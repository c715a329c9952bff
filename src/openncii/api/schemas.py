"""Wire schemas (pydantic) of the victim API (``/api/v1``: unknown fields are refused) and of the
partner API (``/v1``, StopNCII's wire names: unknown fields are ignored, as partners' clients
send more than we read)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

from openncii.cases.validation import MAX_VPDQ_FRAMES
from openncii.feed import MAX_BATCH, MAX_TAG_CHARS, MAX_TAGS, submitted_type_names
from openncii.serving.errors import error_codes
from openncii.signals.pdq import MIN_QUALITY
from openncii.signals.registry import MD5, PDQ
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
    "OrganisationOut",
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
# What the hashes look like, as the OpenAPI document states it. The models do not enforce these
# patterns: the domain validation does (it also accepts surrounding whitespace and answers
# `hash_rejected` with the position of the hash, which the web app shows).
PDQ_PATTERN: Final = "^[0-9a-fA-F]{64}$"
MD5_PATTERN: Final = "^[0-9a-fA-F]{32}$"


_TRUE: Final[dict[str, Any]] = {"const": True}


def _whole_number(value: Any) -> Any:
    # JSON Schema's "integer" includes 5.0; booleans and strings stay refused.
    return int(value) if isinstance(value, float) and value.is_integer() else value


#: A JSON integer: 5 or 5.0, never true, "5" or 5.5 (the document's "integer").
WholeNumber = Annotated[StrictInt, BeforeValidator(_whole_number)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class EligibilityIn(_Strict):
    """The five answers; all must be ``true`` to open a case."""

    # Documented as `true` only: any `false` is refused (422 `not_eligible`, with the question
    # and where to get help), so the models take a bool to give that answer.
    in_image: bool = Field(
        description="The person submitting is the person in the image.", json_schema_extra=_TRUE
    )
    adult_when_taken: bool = Field(
        description="They were 18 or older when it was taken.", json_schema_extra=_TRUE
    )
    adult_now: bool = Field(description="They are 18 or older now.", json_schema_extra=_TRUE)
    has_content: bool = Field(
        description="They still have the image or video.", json_schema_extra=_TRUE
    )
    intimate: bool = Field(description="It is nude, semi-nude or sexual.", json_schema_extra=_TRUE)


# The ``type`` of each hash is its signal type's storage key (openncii.signals.registry; pydantic
# needs the literals, tests/test_signal_registry.py checks them).
_SHAREABLE: Final = (
    " Hashes of blank, single-colour or gradient images are refused (`hash_rejected`)."
)


class PdqIn(_Strict):
    type: Literal["pdq"]
    value: str = Field(
        max_length=_HEX_FIELD_MAX,
        description="64 hex digits." + _SHAREABLE,
        json_schema_extra={"pattern": PDQ_PATTERN},
    )
    quality: WholeNumber = Field(
        ge=0,
        le=100,
        description=f"PDQ quality; below {MIN_QUALITY} is refused (`hash_rejected`).",
        json_schema_extra={"minimum": MIN_QUALITY},
    )


class Md5In(_Strict):
    type: Literal["md5"]
    value: str = Field(
        max_length=_HEX_FIELD_MAX,
        description="32 hex digits; the MD5 of an empty or blank file is refused.",
        json_schema_extra={"pattern": MD5_PATTERN},
    )


class VpdqFrameIn(_Strict):
    pdq: str = Field(
        max_length=_HEX_FIELD_MAX,
        description="64 hex digits.",
        json_schema_extra={"pattern": PDQ_PATTERN},
    )
    quality: WholeNumber = Field(ge=0, le=100)
    timestamp: float = Field(ge=0, description="Seconds from the start of the video.")
    frame: Annotated[StrictInt, Field(ge=0), BeforeValidator(_whole_number)] | None = Field(
        default=None, description="Frame number (optional)."
    )


class VpdqIn(_Strict):
    type: Literal["vpdq"]
    frames: list[VpdqFrameIn] = Field(
        min_length=1,
        max_length=MAX_VPDQ_FRAMES,
        description=f"At least one frame of quality {MIN_QUALITY} or more whose hash is not "
        "that of a blank image.",
    )


class VariantIn(_Strict):
    pdq: str = Field(
        max_length=_HEX_FIELD_MAX,
        description="64 hex digits." + _SHAREABLE,
        json_schema_extra={"pattern": PDQ_PATTERN},
    )
    # The enrolled kinds (openncii.signals.variants.ENROLLED_KINDS; a test checks them).
    kind: Literal["full", "trim", "square", "strip"] = Field(
        description="The region of the photo hashed (docs/matching.md)."
    )
    quality: WholeNumber = Field(
        ge=0,
        le=100,
        description=f"PDQ quality; below {MIN_QUALITY} is refused (`hash_rejected`).",
        json_schema_extra={"minimum": MIN_QUALITY},
    )


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
    disabled: bool = Field(
        default=False,
        description="The helpline disabled this hash after review: no partner receives it "
        "any more (the person can contact the helpline about it).",
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


class OrganisationOut(BaseModel):
    """The organisation running the service, as the pages name it; ``null``: not set (the
    pages then say nothing about it)."""

    name: str | None = Field(default=None, description="Its name.")
    phone: str | None = Field(default=None, description="The helpline's phone number.")
    email: str | None = Field(default=None, description="The helpline's e-mail address.")
    url: str | None = Field(default=None, description="The helpline's web site (https).")
    privacy_url: str | None = Field(default=None, description="Its privacy policy (https).")


class FieldErrorOut(BaseModel):
    loc: str = Field(description="Where in the request, e.g. body.hashes.0.value.")
    msg: str


class ErrorOut(BaseModel):
    """Every refusal: a sentence for people and a stable code for programs (some codes add a
    field: ``question`` and ``help_url`` for not_eligible, ``index`` for hash_rejected,
    ``errors`` for invalid_request, ``tries_left`` for a wrong case number or PIN,
    ``challenge`` for a case creation over the per-client limit, ``field`` for
    invalid_setting)."""

    detail: str
    code: str = Field(description=", ".join(error_codes()))
    question: str | None = None
    help_url: str | None = None
    index: int | None = None
    errors: list[FieldErrorOut] | None = None
    tries_left: int | None = None
    challenge: str | None = None
    field: str | None = None


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


_Tags = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=MAX_TAG_CHARS)]],
    Field(
        max_length=MAX_TAGS,
        description=f"At most {MAX_TAGS} tags of 1 to {MAX_TAG_CHARS} characters.",
    ),
]
#: ``count`` of a batch: the number of items, a whole number (``false`` or ``1.0`` is refused).
_Count = Annotated[
    StrictInt,
    Field(ge=0, le=MAX_BATCH),  # before the validator, so that the document states them
    BeforeValidator(_whole_number),
    Field(description="The number of items (else 400)."),
]
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
    count: _Count
    hashFeedbacks: list[HashFeedbackIn] = Field(max_length=MAX_BATCH)  # noqa: N815 - wire name


class SubmitFeedbackOut(BaseModel):
    count: int = Field(description="Feedback items recorded.")
    notFound: list[int] = Field(  # noqa: N815 - wire name
        description="Positions (0-based) of hashes that are not in the bank."
    )


class CSPFeedbackIn(_WireModel):
    feedbackValue: PartnerFeedback = Field(description=_FEEDBACK_DESCRIPTION)  # noqa: N815
    tags: _Tags = []


_PDQ_WIRE: Final = submitted_type_names(PDQ)
_MD5_WIRE: Final = submitted_type_names(MD5)


class HashRecordIn(_WireModel):
    """A hash to contribute: a PDQ or an MD5 hash (the signal type as StopNCII names it, or as
    python-threatexchange sends it)."""

    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {
                    "properties": {
                        "signalType": {"enum": list(_PDQ_WIRE)},
                        "hashValue": {"pattern": PDQ_PATTERN},
                    }
                },
                {
                    "properties": {
                        "signalType": {"enum": list(_MD5_WIRE)},
                        "hashValue": {"pattern": MD5_PATTERN},
                    }
                },
            ]
        }
    )

    signalType: str = Field(  # noqa: N815 - wire name
        max_length=100, json_schema_extra={"enum": [*_PDQ_WIRE, *_MD5_WIRE]}
    )
    hashValue: _HashValue = Field(  # noqa: N815 - wire name
        description="64 hex digits (PDQ) or 32 (MD5). Hashes of blank, single-colour or "
        "gradient images and the MD5 of an empty file are refused (400)."
    )
    CSPFeedbacks: list[CSPFeedbackIn] = Field(default=[], max_length=10)


class SubmitHashesIn(_WireModel):
    count: _Count
    hashRecords: list[HashRecordIn] = Field(max_length=MAX_BATCH)  # noqa: N815 - wire name


class SubmitHashesOut(BaseModel):
    count: int = Field(description="Distinct hashes stored.")

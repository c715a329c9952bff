"""``/api/v1/cases``: open a case, check it, withdraw it (the victim API)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, status

from openncii.api.deps import CaseNetworkDep, ClientDep, NowDep, RuntimeDep, SessionDep
from openncii.api.schemas import (
    CaseCreatedOut,
    CaseCreateIn,
    CaseCredentialsIn,
    CaseStatusOut,
    ErrorOut,
    HashIn,
    HashStatusOut,
    Md5In,
    OutcomeOut,
    PdqIn,
    PhotoIn,
)
from openncii.cases import (
    CaseStatus,
    Eligibility,
    Md5Submission,
    PdqSubmission,
    PhotoSubmission,
    Submission,
    VariantSubmission,
    VpdqFrameSubmission,
    VpdqSubmission,
    case_status,
    create_case,
    withdraw_case,
)
from openncii.cases.abuse import BUCKET_STATUS, count_creation, count_request
from openncii.cases.proof import PROOF_HEADER

__all__ = ["PIN_PATHS", "router"]

_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorOut, "description": "The body cannot be read (not UTF-8 JSON)."},
    413: {"model": ErrorOut, "description": "The body is larger than 256 KB."},
    422: {"model": ErrorOut, "description": "The request is not valid (see code and detail)."},
    429: {
        "model": ErrorOut,
        "description": "Too many requests, or this client's PIN tries for this case number are "
        "used up (`case_locked`): wait Retry-After seconds (at most a minute for 16-digit PINs).",
    },
    503: {
        "model": ErrorOut,
        "description": "PIN hashing is at capacity (`busy`): nothing was counted; send the same "
        "request again after Retry-After seconds.",
    },
}
_AUTH_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    401: {
        "model": ErrorOut,
        "description": "Wrong case number or PIN (the same for both); `tries_left` says how "
        "many tries this client has left for this case number before a short pause.",
    },
    **_ERRORS,
}


def _limit_create(
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    now: NowDep,
    proof: Annotated[
        str | None,
        Header(
            alias=PROOF_HEADER,
            max_length=256,
            description="`challenge:nonce`: a solved proof of work from a 429 answer's "
            "`challenge`, which lets this creation past the per-client limit (docs/security.md).",
        ),
    ] = None,
) -> None:
    count_creation(
        session,
        client,
        runtime.create_limit,
        now,
        secret=runtime.secret(),
        proof=proof,
        proof_bits=runtime.settings.create_proof_bits,
    )


def _limit_status(runtime: RuntimeDep, session: SessionDep, client: ClientDep, now: NowDep) -> None:
    count_request(session, BUCKET_STATUS, client, runtime.status_limit, now)


router = APIRouter(prefix="/cases", tags=["cases"])
#: The paths (under the router's prefix) whose requests hash or check a PIN: admitted into the
#: bounded PIN pool before anything else (openncii.api.middleware.PinAdmissionMiddleware).
PIN_PATHS: Final = ("/cases", "/cases/status", "/cases/withdraw")


def _submission(item: HashIn) -> Submission:
    if isinstance(item, PdqIn):
        return PdqSubmission(value=item.value, quality=item.quality)
    if isinstance(item, Md5In):
        return Md5Submission(value=item.value)
    if isinstance(item, PhotoIn):
        return PhotoSubmission(
            variants=tuple(
                VariantSubmission(pdq=v.pdq, kind=v.kind, quality=v.quality) for v in item.variants
            )
        )
    return VpdqSubmission(
        frames=tuple(
            VpdqFrameSubmission(pdq=f.pdq, quality=f.quality, timestamp=f.timestamp, frame=f.frame)
            for f in item.frames
        )
    )


def _status_out(found: CaseStatus) -> CaseStatusOut:
    return CaseStatusOut(
        case_number=found.case_number,
        status=found.status,
        created_at=found.created_at,
        withdrawn_at=found.withdrawn_at,
        hashes=[
            HashStatusOut(
                type=h.signal_type,
                prefix=h.prefix,
                photo=h.photo,
                disabled=h.disabled,
                outcomes=[
                    OutcomeOut(partner=o.partner, outcome=o.outcome, at=o.at) for o in h.outcomes
                ],
            )
            for h in found.hashes
        ],
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Open a case from hashes",
    dependencies=[Depends(_limit_create)],
    responses={
        **_ERRORS,
        422: {"model": ErrorOut, "description": "Not eligible, a hash refused, or not valid."},
    },
)
def post_case(
    body: CaseCreateIn,
    runtime: RuntimeDep,
    session: SessionDep,
    now: NowDep,
    network: CaseNetworkDep,
) -> CaseCreatedOut:
    """Open a case. The answer holds the case number and the PIN: they are shown only once."""
    e = body.eligibility
    created = create_case(
        session,
        runtime.rules,
        eligibility=Eligibility(
            in_image=e.in_image,
            adult_when_taken=e.adult_when_taken,
            adult_now=e.adult_now,
            has_content=e.has_content,
            intimate=e.intimate,
        ),
        hashes=[_submission(h) for h in body.hashes],
        language=body.language,
        now=now,
        network=network,
    )
    return CaseCreatedOut(
        case_number=created.case_number,
        pin=created.pin,
        hash_count=created.hash_count,
        file_count=created.file_count,
    )


@router.post(
    "/status",
    summary="Check a case",
    dependencies=[Depends(_limit_status)],
    responses=_AUTH_ERRORS,
)
def post_status(
    body: CaseCredentialsIn,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    now: NowDep,
) -> CaseStatusOut:
    """The case's status and, per hash, what each partner did with it."""
    found = case_status(
        session,
        runtime.rules,
        runtime.secret(),
        client=client,
        case_number=body.case_number,
        pin=body.pin,
        now=now,
    )
    return _status_out(found)


@router.post(
    "/withdraw",
    summary="Withdraw a case",
    dependencies=[Depends(_limit_status)],
    responses=_AUTH_ERRORS,
)
def post_withdraw(
    body: CaseCredentialsIn,
    runtime: RuntimeDep,
    session: SessionDep,
    client: ClientDep,
    now: NowDep,
) -> CaseStatusOut:
    """Withdraw the case: its hashes are withdrawn from every partner (unless another active
    case holds the same hash). Withdrawing twice is harmless."""
    found = withdraw_case(
        session,
        runtime.rules,
        runtime.secret(),
        client=client,
        case_number=body.case_number,
        pin=body.pin,
        now=now,
    )
    return _status_out(found)

"""``/v1``: the partner API, wire-compatible with the StopNCII API (python-threatexchange).

``GET /v1/FetchHashes``, ``POST /v1/SubmitFeedback``, ``POST /v1/SubmitHashes``. The partner's
key travels in ``Ocp-Apim-Subscription-Key`` and/or ``x-functions-key`` (python-threatexchange
sends both) or ``Authorization: Bearer``; a missing, wrong or revoked key gets 401 JSON.

The FetchHashes answer is built without pydantic (on PostgreSQL the page's records arrive from the
database as one JSON text; see :mod:`openncii.feed.pages`): it is the hot path of a partner's
full sync, one database round trip per page. Its OpenAPI schema is declared by
:class:`FetchHashesOut`.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from openncii.api.deps import NowDep, RuntimeDep, SessionDep
from openncii.api.schemas import (
    ErrorOut,
    FetchHashesOut,
    SubmitFeedbackIn,
    SubmitFeedbackOut,
    SubmitHashesIn,
    SubmitHashesOut,
)
from openncii.errors import PartnerKeyError, PartnerRequestError
from openncii.feed import (
    DEFAULT_PAGE_SIZE,
    FeedbackItem,
    SubmittedHash,
    check_can_submit,
    fetch_page,
    submit_feedback,
    submit_hashes,
)
from openncii.partners import PartnerInfo, authenticate_partner
from openncii.partners.service import key_digest

__all__ = ["PARTNER_API_PREFIX", "router"]

#: Prefix of the partner API (as StopNCII's ``https://api.stopncii.org/v1``).
PARTNER_API_PREFIX: Final = "/v1"
#: Largest integer accepted for startTimestamp (JSON-safe).
_MAX_START: Final = 2**53
_MAX_KEY_CHARS: Final = 200
_UNAUTHORIZED: Final = "A valid partner API key is required (Ocp-Apim-Subscription-Key, " + (
    "x-functions-key or Authorization: Bearer)."
)


router = APIRouter(prefix=PARTNER_API_PREFIX, tags=["partner API"])


def _unauthorized() -> PartnerKeyError:
    return PartnerKeyError(_UNAUTHORIZED)


_SubscriptionKey = Annotated[str | None, Header(alias="Ocp-Apim-Subscription-Key")]
_FunctionKey = Annotated[str | None, Header(alias="x-functions-key")]
_Authorization = Annotated[str | None, Header()]


async def _keys(
    subscription_key: _SubscriptionKey = None,
    function_key: _FunctionKey = None,
    authorization: _Authorization = None,
) -> set[str]:
    """The keys a request carries (each header may hold one; python-threatexchange sends the
    same key in two)."""
    keys = {k.strip() for k in (subscription_key, function_key) if k and k.strip()}
    if authorization:
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            keys.add(credentials.strip())
    return {key for key in keys if len(key) <= _MAX_KEY_CHARS}


KeysDep = Annotated[set[str], Depends(_keys)]


def _authenticate(session: Session, keys: set[str]) -> PartnerInfo:
    partners = {
        found.id: found
        for key in keys
        for found in [authenticate_partner(session, key)]
        if found is not None
    }
    if len(partners) != 1:
        raise _unauthorized()
    return next(iter(partners.values()))


def get_partner(session: SessionDep, keys: KeysDep) -> PartnerInfo:
    """The partner whose key the request carries; 401 otherwise (checked on every request, so
    a revocation takes effect on the next one). Several keys may be sent; each must be the same
    partner's (a key that matches no partner is ignored when another one matches)."""
    return _authenticate(session, keys)


PartnerDep = Annotated[PartnerInfo, Depends(get_partner)]

_AUTH_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": ErrorOut, "description": "A parameter or the page token is not valid."},
    401: {"model": ErrorOut, "description": "Missing, wrong or revoked partner key."},
}


# --------------------------------------------------------------------------------------------------
# FetchHashes
# --------------------------------------------------------------------------------------------------


def _int_param(name: str, text: str | None, default: int, low: int, high: int) -> int:
    if text is None or text.strip() == "":
        return default
    stripped = text.strip()
    if not (stripped.isascii() and stripped.lstrip("-").isdigit()) or len(stripped) > 20:
        raise PartnerRequestError(f"{name} must be a whole number.")
    value = int(stripped)
    if not low <= value <= high:
        raise PartnerRequestError(f"{name} must be between {low} and {high}.")
    return value


@router.get(
    "/FetchHashes",
    summary="A page of hash records changed since a checkpoint",
    response_model=FetchHashesOut,
    responses=_AUTH_ERRORS,
)
def fetch_hashes(
    keys: KeysDep,
    session: SessionDep,
    runtime: RuntimeDep,
    background: BackgroundTasks,
    start_timestamp: Annotated[str | None, Query(alias="startTimestamp")] = None,
    page_size: Annotated[str | None, Query(alias="pageSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken", max_length=200)] = None,
    variants: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Records changed after ``startTimestamp`` (a ``nextSetTimestamp`` from an earlier fetch;
    0 for everything), ``pageSize`` at a time (default 800; more than 1000 is served as 1000).
    Follow ``nextPageToken`` while ``hasMoreRecords``; save the last ``nextSetTimestamp``.
    ``variants=1`` (OpenNCII's own): also the robust-matching records of photos
    (``ImagePDQSquare``, ``ImagePDQStrip``, ``ImagePDQTrim``), which stock clients do not know."""
    # The key is checked by the page's own query (one database round trip per page); a request
    # that fails before it (bad parameter or token) is answered 401 first if its key is bad.
    if not keys:
        raise _unauthorized()
    try:
        start = _int_param("startTimestamp", start_timestamp, 0, 0, _MAX_START)
        size = _int_param("pageSize", page_size, DEFAULT_PAGE_SIZE, 1, 2**31)
        with_variants = _int_param("variants", variants, 0, 0, 1) == 1
        page = fetch_page(
            session,
            secret=runtime.feed_secret(),
            key_digests=[key_digest(key) for key in keys],
            start_timestamp=start,
            page_size=size,
            page_token=next_page_token or None,
            now=runtime.clock(),
            token_ttl_seconds=runtime.settings.feed_page_token_ttl_seconds,
            variants=with_variants,
        )
    except PartnerRequestError:
        _authenticate(session, keys)
        raise
    if page is None:
        raise _unauthorized()
    if runtime.feed_purge_due():
        background.add_task(runtime.purge_feed)
    return Response(page.to_json(), media_type="application/json")


# --------------------------------------------------------------------------------------------------
# SubmitFeedback and SubmitHashes
# --------------------------------------------------------------------------------------------------


def _check_count(count: int, items: list[Any], name: str) -> None:
    if count != len(items):
        raise PartnerRequestError(f"count ({count}) is not the number of {name} ({len(items)}).")


@router.post(
    "/SubmitFeedback",
    summary="Report what the partner found for each hash",
    responses=_AUTH_ERRORS,
)
def post_submit_feedback(
    body: SubmitFeedbackIn, partner: PartnerDep, session: SessionDep, now: NowDep
) -> SubmitFeedbackOut:
    """Record the partner's outcome (``PendingReview``, ``Blocked``, ``NotBlocked``, ...) for each
    hash. The person's case status shows it; other partners see it in ``CSPFeedbacks``."""
    _check_count(body.count, body.hashFeedbacks, "hashFeedbacks")
    result = submit_feedback(
        session,
        partner.id,
        [FeedbackItem(f.hashValue, f.feedbackValue, tuple(f.tags)) for f in body.hashFeedbacks],
        now,
    )
    return SubmitFeedbackOut(count=result.recorded, notFound=list(result.unknown))


@router.post(
    "/SubmitHashes",
    summary="Contribute hashes of content the partner's reviewers confirmed",
    responses={
        **_AUTH_ERRORS,
        403: {"model": ErrorOut, "description": "The partner may not contribute hashes."},
    },
)
def post_submit_hashes(
    body: SubmitHashesIn,
    partner: PartnerDep,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> SubmitHashesOut:
    """Only for partners the helpline allowed to contribute (otherwise 403)."""
    check_can_submit(partner)
    _check_count(body.count, body.hashRecords, "hashRecords")
    items = [
        SubmittedHash(
            r.signalType,
            r.hashValue,
            *(
                (r.CSPFeedbacks[-1].feedbackValue, tuple(r.CSPFeedbacks[-1].tags))
                if r.CSPFeedbacks
                else ()
            ),
        )
        for r in body.hashRecords
    ]
    stored = submit_hashes(session, partner, items, runtime.rules.denylist, now)
    return SubmitHashesOut(count=stored)

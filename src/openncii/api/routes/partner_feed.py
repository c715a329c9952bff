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

from datetime import datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Security
from fastapi.responses import Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
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
from openncii.partners import PartnerInfo, authenticate_partner, record_refusal
from openncii.partners.service import key_digest

__all__ = ["PARTNER_API_PREFIX", "router"]

#: Prefix of the partner API (as StopNCII's ``https://api.stopncii.org/v1``).
PARTNER_API_PREFIX: Final = "/v1"
#: Largest integer accepted for startTimestamp (JSON-safe).
_MAX_START: Final = 2**53
_MAX_KEY_CHARS: Final = 200
_MAX_TOKEN_CHARS: Final = 200
_UNAUTHORIZED: Final = "A valid partner API key is required (Ocp-Apim-Subscription-Key, " + (
    "x-functions-key or Authorization: Bearer)."
)


_REFUSALS: Final[dict[int | str, dict[str, Any]]] = {
    400: {
        "model": ErrorOut,
        "description": "A parameter, the page token, the count or a hash is not valid, or the "
        "body cannot be read.",
    },
    401: {"model": ErrorOut, "description": "Missing, wrong or revoked partner key."},
    413: {"model": ErrorOut, "description": "The body is larger than the service's limit."},
    422: {"model": ErrorOut, "description": "The body does not have the documented shape."},
    503: {"model": ErrorOut, "description": "Briefly unavailable; retry (see Retry-After)."},
}

router = APIRouter(prefix=PARTNER_API_PREFIX, tags=["partner API"], responses=_REFUSALS)


def _unauthorized() -> PartnerKeyError:
    return PartnerKeyError(_UNAUTHORIZED)


# The partner key, in any of three headers (documented as security schemes: any one will do).
_SubscriptionKey = Annotated[
    str | None,
    Security(
        APIKeyHeader(
            name="Ocp-Apim-Subscription-Key",
            scheme_name="SubscriptionKey",
            description="The partner key (python-threatexchange sends it here and in "
            "x-functions-key).",
            auto_error=False,
        )
    ),
]
_FunctionKey = Annotated[
    str | None,
    Security(
        APIKeyHeader(
            name="x-functions-key",
            scheme_name="FunctionKey",
            description="The partner key.",
            auto_error=False,
        )
    ),
]
_BearerKey = Annotated[
    HTTPAuthorizationCredentials | None,
    Security(HTTPBearer(scheme_name="Bearer", description="The partner key.", auto_error=False)),
]


async def _keys(
    subscription_key: _SubscriptionKey = None,
    function_key: _FunctionKey = None,
    bearer: _BearerKey = None,
) -> set[str]:
    """The keys a request carries (each header may hold one; python-threatexchange sends the
    same key in two)."""
    keys = {k.strip() for k in (subscription_key, function_key) if k and k.strip()}
    if bearer is not None and bearer.credentials.strip():
        keys.add(bearer.credentials.strip())
    return {key for key in keys if len(key) <= _MAX_KEY_CHARS}


KeysDep = Annotated[set[str], Depends(_keys)]


def _refused(session: Session, keys: set[str], now: datetime) -> PartnerKeyError:
    """The 401 for ``keys``, counted against the partner a key belonged to (a revoked key, or
    an old one past its grace period), for the console."""
    if keys:
        record_refusal(session, sorted(key_digest(key) for key in keys), now)
    return _unauthorized()


def _authenticate(session: Session, keys: set[str], now: datetime) -> PartnerInfo:
    partners = {
        found.id: found
        for key in keys
        for found in [authenticate_partner(session, key, now)]
        if found is not None
    }
    if len(partners) != 1:
        raise _refused(session, keys, now)
    return next(iter(partners.values()))


def get_partner(session: SessionDep, keys: KeysDep, now: NowDep) -> PartnerInfo:
    """The partner whose key the request carries; 401 otherwise (checked on every request, so
    a revocation takes effect on the next one). Several keys may be sent; each must be the same
    partner's (a key that matches no partner is ignored when another one matches)."""
    return _authenticate(session, keys, now)


PartnerDep = Annotated[PartnerInfo, Depends(get_partner)]

#: The query of FetchHashes as the document states it (read by hand: a bad value gets 400, as
#: the StopNCII API answers, where FastAPI's own parsing would answer 422).
_FETCH_PARAMETERS: Final[list[dict[str, Any]]] = [
    {
        "name": "startTimestamp",
        "in": "query",
        "required": False,
        "description": "A nextSetTimestamp from an earlier fetch (0: from the beginning); not "
        "in the future (else 400).",
        "schema": {"type": "integer", "minimum": 0, "maximum": _MAX_START, "default": 0},
    },
    {
        "name": "pageSize",
        "in": "query",
        "required": False,
        "description": "Records per page; more than 1000 is served as 1000.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31, "default": 800},
    },
    {
        "name": "nextPageToken",
        "in": "query",
        "required": False,
        "description": "The nextPageToken of the previous page, as it was sent (a token this "
        "server did not issue, or an expired one, gets 400).",
        "schema": {"type": "string", "maxLength": _MAX_TOKEN_CHARS},
    },
]


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
    openapi_extra={"parameters": _FETCH_PARAMETERS},
)
def fetch_hashes(
    request: Request,
    keys: KeysDep,
    session: SessionDep,
    runtime: RuntimeDep,
    background: BackgroundTasks,
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
    now = runtime.clock()
    query = request.query_params
    next_page_token = query.get("nextPageToken")
    try:
        start = _int_param("startTimestamp", query.get("startTimestamp"), 0, 0, _MAX_START)
        size = _int_param("pageSize", query.get("pageSize"), DEFAULT_PAGE_SIZE, 1, 2**31)
        if next_page_token is not None and len(next_page_token) > _MAX_TOKEN_CHARS:
            raise PartnerRequestError("nextPageToken is not valid.")
        with_variants = _int_param("variants", query.get("variants"), 0, 0, 1) == 1
        page = fetch_page(
            session,
            secret=runtime.feed_secret(),
            key_digests=[key_digest(key) for key in keys],
            start_timestamp=start,
            page_size=size,
            page_token=next_page_token or None,
            now=now,
            token_ttl_seconds=runtime.settings.feed_page_token_ttl_seconds,
            variants=with_variants,
        )
    except PartnerRequestError:
        _authenticate(session, keys, now)
        raise
    if page is None:
        raise _refused(session, keys, now)
    # The console's figures (last fetch, records fetched), written after the answer is sent.
    background.add_task(runtime.record_fetch, page.partner_id, page.count, now)
    if runtime.feed_purge_due():
        background.add_task(runtime.purge_feed)
    return Response(page.to_json(), media_type="application/json")


# --------------------------------------------------------------------------------------------------
# SubmitFeedback and SubmitHashes
# --------------------------------------------------------------------------------------------------


def _check_count(count: int, items: list[Any], name: str) -> None:
    if count != len(items):
        raise PartnerRequestError(f"count ({count}) is not the number of {name} ({len(items)}).")


@router.post("/SubmitFeedback", summary="Report what the partner found for each hash")
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
    responses={403: {"model": ErrorOut, "description": "The partner may not contribute hashes."}},
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

"""The one place where domain errors become HTTP answers, for both HTTP services.

Each :class:`~openncii.errors.OpenNCIIError` class maps to one status and a stable ``code``
(:data:`ERROR_RULES`: the rule of the class itself or of its nearest ancestor). Every refusal,
whatever produced it (a domain error, request validation, an unknown route, the body limit),
has one body::

    {"detail": <a sentence for people>, "code": <for programs>}

plus, for some codes, a field or two (``question`` and ``help_url`` for ``not_eligible``,
``index`` for ``hash_rejected``, ``field`` for ``invalid_setting``, ``errors`` for
``invalid_request``, ``tries_left`` for a wrong case number or PIN, ``challenge`` for a
creation over the per-client limit). Bodies
never echo the request. A rate limit or a busy server adds ``Retry-After``, a refused partner
key ``WWW-Authenticate``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from openncii.errors import (
    AuthenticationError,
    CaseLockedError,
    CaseRejectedError,
    ConfigurationError,
    FeedError,
    ForbiddenError,
    HashNotFoundError,
    HashRejectedError,
    HelplineNotFoundError,
    MediaError,
    NotEligibleError,
    OpenNCIIError,
    PartnerClientError,
    PartnerExistsError,
    PartnerKeyError,
    PartnerNotFoundError,
    PartnerRequestError,
    PartnerStoreError,
    RateLimitedError,
    ReviewError,
    ServiceBusyError,
    ServiceError,
    SettingError,
    SetupLinkError,
    SignalError,
    SignInLockedError,
    StaffAuthError,
    StaffError,
    StaffExistsError,
    StaffNotFoundError,
    SubmissionNotAllowedError,
    TooManyHashesError,
    WeakPasswordError,
)

__all__ = [
    "ERROR_RULES",
    "ErrorRule",
    "error_body",
    "error_codes",
    "error_response",
    "install_error_handlers",
    "rule_for",
]


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """How one error class is answered: ``status``, ``code`` and the ``detail`` sentence built
    from the error's message (``"{}"``: the message as it is)."""

    error: type[OpenNCIIError]
    status: int
    code: str
    detail: str = "{}"


#: One rule per family, most specific first (a class takes the first rule it is an instance of,
#: which is its own or its nearest ancestor's: tests/test_errors.py checks both).
ERROR_RULES: Final[tuple[ErrorRule, ...]] = (
    ErrorRule(NotEligibleError, 422, "not_eligible"),
    ErrorRule(HashRejectedError, 422, "hash_rejected"),
    ErrorRule(TooManyHashesError, 422, "too_many_hashes"),
    ErrorRule(CaseRejectedError, 422, "case_rejected"),
    ErrorRule(PartnerKeyError, 401, "not_authenticated"),
    ErrorRule(StaffAuthError, 401, "not_authenticated"),
    ErrorRule(AuthenticationError, 401, "not_authenticated"),
    ErrorRule(CaseLockedError, 429, "case_locked"),
    ErrorRule(SignInLockedError, 429, "rate_limited"),
    ErrorRule(RateLimitedError, 429, "rate_limited"),
    ErrorRule(ServiceBusyError, 503, "busy"),
    ErrorRule(ForbiddenError, 403, "forbidden"),
    ErrorRule(SetupLinkError, 400, "setup_link_invalid"),
    ErrorRule(WeakPasswordError, 422, "weak_password"),
    ErrorRule(StaffExistsError, 409, "staff_exists"),
    ErrorRule(StaffNotFoundError, 404, "staff_not_found"),
    ErrorRule(StaffError, 400, "bad_request"),
    ErrorRule(PartnerExistsError, 409, "partner_exists"),
    ErrorRule(PartnerNotFoundError, 404, "partner_not_found"),
    ErrorRule(HashNotFoundError, 404, "hash_not_found"),
    ErrorRule(ReviewError, 400, "bad_request"),
    ErrorRule(HelplineNotFoundError, 404, "helpline_not_found"),
    ErrorRule(SettingError, 422, "invalid_setting"),
    ErrorRule(SubmissionNotAllowedError, 403, "submission_not_allowed"),
    ErrorRule(PartnerRequestError, 400, "bad_request"),
    ErrorRule(ConfigurationError, 500, "server_error"),
    ErrorRule(ServiceError, 400, "bad_request"),
    ErrorRule(SignalError, 422, "invalid_hash", "A hash is not valid: {}"),
    ErrorRule(MediaError, 422, "media_not_hashable", "The file cannot be hashed: {}"),
    ErrorRule(PartnerStoreError, 503, "unavailable"),
    ErrorRule(FeedError, 502, "feed_unavailable"),
    ErrorRule(PartnerClientError, 502, "partner_error"),
    ErrorRule(OpenNCIIError, 400, "bad_request"),
)

#: Codes of the refusals that are not domain errors (routing, request validation, body limit).
_HTTP_CODES: Final = {
    400: "invalid_request",
    401: "not_authenticated",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def error_codes() -> tuple[str, ...]:
    """Every ``code`` an answer may carry, sorted."""
    codes = {rule.code for rule in ERROR_RULES} | set(_HTTP_CODES.values())
    return tuple(sorted(codes | {"http_error", "unavailable"}))


def rule_for(error: type[OpenNCIIError] | OpenNCIIError) -> ErrorRule:
    """The rule that answers ``error`` (a class or an instance)."""
    cls = error if isinstance(error, type) else type(error)
    return next(rule for rule in ERROR_RULES if issubclass(cls, rule.error))


def error_body(detail: str, code: str, **extra: Any) -> bytes:
    """The JSON body of every refusal."""
    return orjson.dumps({"detail": detail, "code": code, **extra})


def error_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A refusal with the one error body."""
    return JSONResponse({"detail": detail, "code": code, **extra}, status, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, OpenNCIIError)
    rule = rule_for(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] | None = None
    if isinstance(exc, NotEligibleError):
        extra = {"question": exc.question, "help_url": exc.help_url}
    elif isinstance(exc, HashRejectedError):
        extra = {"index": exc.index}
    elif isinstance(exc, SettingError) and exc.field is not None:
        extra = {"field": exc.field}
    elif isinstance(exc, RateLimitedError | ServiceBusyError):
        headers = {"Retry-After": str(exc.retry_after)}
        if isinstance(exc, RateLimitedError) and exc.challenge is not None:
            extra = {"challenge": exc.challenge}
    elif isinstance(exc, PartnerKeyError):
        headers = {"WWW-Authenticate": "Bearer"}
    elif isinstance(exc, AuthenticationError) and exc.tries_left is not None:
        extra = {"tries_left": exc.tries_left}
    return error_response(rule.status, rule.detail.format(exc), rule.code, headers, **extra)


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": _location(tuple(e.get("loc", ()))), "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": "", "msg": "invalid request"}
    detail = f"The request is not valid: {first['loc']}: {first['msg']}."
    if any(e.get("type") == "json_invalid" for e in exc.errors()):
        detail = "The request body is not valid JSON."
    return error_response(422, detail, "invalid_request", errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, str(exc.detail), code, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Answer domain errors, request-validation errors and HTTP errors of ``app`` with the one
    error body."""
    app.add_exception_handler(OpenNCIIError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)

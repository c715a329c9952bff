"""The one place where domain errors become HTTP answers.

Each :class:`~openncii.errors.OpenNCIIError` subclass maps to one status and a stable ``code``;
the body is ``{"detail": <a sentence for people>, "code": <for programs>}`` plus, for some codes,
a field or two (``question`` and ``help_url``, ``index``). Bodies never echo the request.
"""

from __future__ import annotations

import logging
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from openncii.errors import (
    AuthenticationError,
    CaseLockedError,
    CaseRejectedError,
    HashRejectedError,
    NotEligibleError,
    OpenNCIIError,
    PartnerExistsError,
    PartnerNotFoundError,
    RateLimitedError,
    TooManyHashesError,
)

__all__ = ["ERROR_CODES", "install_error_handlers"]

_log = logging.getLogger("openncii.api")

#: (exception class, HTTP status, code), most specific first.
ERROR_CODES: Final[tuple[tuple[type[OpenNCIIError], int, str], ...]] = (
    (NotEligibleError, 422, "not_eligible"),
    (HashRejectedError, 422, "hash_rejected"),
    (TooManyHashesError, 422, "too_many_hashes"),
    (CaseRejectedError, 422, "case_rejected"),
    (AuthenticationError, 401, "not_authenticated"),
    (CaseLockedError, 429, "case_locked"),
    (RateLimitedError, 429, "rate_limited"),
    (PartnerExistsError, 409, "partner_exists"),
    (PartnerNotFoundError, 404, "partner_not_found"),
    (OpenNCIIError, 400, "bad_request"),
)


_HTTP_CODES: Final = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
}


def _error_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code, **extra}, status, headers=headers)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    status, code = next(
        ((status, code) for cls, status, code in ERROR_CODES if isinstance(exc, cls)),
        (400, "bad_request"),
    )
    extra: dict[str, Any] = {}
    headers: dict[str, str] | None = None
    if isinstance(exc, NotEligibleError):
        extra = {"question": exc.question, "help_url": exc.help_url}
    elif isinstance(exc, HashRejectedError):
        extra = {"index": exc.index}
    elif isinstance(exc, RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after)}
    return _error_response(status, str(exc), code, headers, **extra)


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
    return _error_response(422, detail, "invalid_request", errors=errors)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    return _error_response(exc.status_code, str(exc.detail), code, headers)


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The message may name the server; never the parameters (engines hide them).
    _log.error("database unavailable: %s", type(exc).__name__)
    return _error_response(
        503,
        "The service is busy or briefly unavailable. Please try again in a moment.",
        "unavailable",
        {"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on ``app``."""
    app.add_exception_handler(OpenNCIIError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)

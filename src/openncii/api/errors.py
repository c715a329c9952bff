"""The case service's error answers: the shared mapping of :mod:`openncii.serving.errors`
(domain errors, request validation, HTTP errors; one body, ``{"detail", "code"}``) and 503 with
``Retry-After`` when the database is unreachable or its pool exhausted."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from openncii.serving.errors import error_response
from openncii.serving.errors import install_error_handlers as install_shared_handlers

__all__ = ["install_error_handlers"]

_log = logging.getLogger("openncii.api")


async def _database_unavailable(_request: Request, exc: Exception) -> JSONResponse:
    # The message may name the server; never the parameters (engines hide them).
    _log.error("database unavailable: %s", type(exc).__name__)
    return error_response(
        503,
        "The service is busy or briefly unavailable. Please try again in a moment.",
        "unavailable",
        {"Retry-After": "5"},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the error answers on ``app``."""
    install_shared_handlers(app)
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(PoolTimeoutError, _database_unavailable)

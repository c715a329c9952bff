"""``/healthz``: 200 when the service can reach its database, with details for the operator."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from openncii.api.deps import RuntimeDep
from openncii.partners import NO_PARTNERS_WARNING, public_partner_names

__all__ = ["HEALTHZ_PATH", "router"]

HEALTHZ_PATH: Final = "/healthz"

router = APIRouter(tags=["health"])


@router.get(
    HEALTHZ_PATH,
    summary="Liveness and readiness",
    responses={
        200: {"content": {"application/json": {"example": {"status": "ok"}}}},
        503: {
            "description": "The database does not answer.",
            "content": {"application/json": {"example": {"status": "unavailable"}}},
        },
    },
)
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """``{"status": "ok", "details": {"partners": N, "warnings": [...]}}`` when the database
    answers, else 503. ``warnings`` says what the operator should know, such as that no company
    takes part yet (the service is up, but nobody looks for copies)."""
    try:
        with runtime.sessions() as session:
            partners = len(public_partner_names(session))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    details: dict[str, Any] = {"partners": partners, "warnings": []}
    if partners == 0:
        details["warnings"].append(NO_PARTNERS_WARNING)
    return JSONResponse({"status": "ok", "details": details})

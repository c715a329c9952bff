"""``/healthz``: 200 when the service can reach its database."""

from __future__ import annotations

from typing import Final

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from openncii.api.deps import RuntimeDep

__all__ = ["HEALTHZ_PATH", "router"]

HEALTHZ_PATH: Final = "/healthz"

router = APIRouter(tags=["health"])


@router.get(HEALTHZ_PATH, summary="Liveness and readiness")
def healthz(runtime: RuntimeDep) -> JSONResponse:
    """``{"status": "ok"}`` when the database answers, else 503."""
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})

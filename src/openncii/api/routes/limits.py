"""``/api/v1/limits``: what one case and one request may hold (the web app reads them)."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.deps import RuntimeDep
from openncii.api.schemas import LimitsOut

__all__ = ["router"]

router = APIRouter(prefix="/limits", tags=["limits"])


@router.get("", summary="The service's limits")
async def get_limits(runtime: RuntimeDep) -> LimitsOut:
    """The most photos and videos and the most hashes one case may hold, and the largest
    request body, as configured."""
    max_files = runtime.rules.max_files
    return LimitsOut(
        max_files_per_case=runtime.rules.max_hashes if max_files is None else max_files,
        max_hashes_per_case=runtime.rules.max_hashes,
        max_body_bytes=runtime.settings.max_body_bytes,
    )

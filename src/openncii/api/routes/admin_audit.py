"""``/admin/api/audit``: the audit log (admins only), as JSON pages or one CSV file."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from openncii import audit
from openncii.api.console import ADMIN_API_PREFIX, AdminDep
from openncii.api.deps import NetworkDep, NowDep, RuntimeDep, SessionDep

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/audit", tags=["console"], include_in_schema=False)


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor: str | None
    action: str
    target: str | None
    network: str | None
    detail: str | None


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    total: int


@router.get("")
def get_audit(
    _admin: AdminDep,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPageOut:
    """The newest entries (``before``: the id to page back from)."""
    rows, total = audit.list_audit(session, limit=limit, before_id=before)
    return AuditPageOut(
        entries=[AuditEntryOut.model_validate(r, from_attributes=True) for r in rows], total=total
    )


@router.get("/export.csv")
def get_audit_csv(
    admin: AdminDep, session: SessionDep, runtime: RuntimeDep, now: NowDep, network: NetworkDep
) -> StreamingResponse:
    """Every entry as CSV, streamed in batches (the export itself is logged, and is the last
    line)."""
    with session.begin():
        audit.record(session, "audit.export", now, actor=admin.staff.email, network=network)
    return StreamingResponse(
        audit.audit_csv_chunks(runtime.sessions),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )

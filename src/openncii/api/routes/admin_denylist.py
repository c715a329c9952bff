"""``/admin/api/denylist``: the helpline's own deny-list (hashes no case may hold, beside the
shipped list). Everyone signed in reads it and adds to it; only admins remove an entry."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, SignedInDep, StaffActionDep
from openncii.api.deps import NetworkDep, NowDep, SessionDep
from openncii.api.review_schemas import DeniedOut, DenyIn
from openncii.review import deny_value, list_denied, remove_denied

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/denylist", tags=["console"], include_in_schema=False)


@router.get("")
def get_denylist(_staff: SignedInDep, session: SessionDep) -> list[DeniedOut]:
    """The entries, newest first (each hash by its first 8 hex digits)."""
    return [
        DeniedOut(
            id=e.id,
            type=e.signal_type,
            prefix=e.prefix,
            reason=e.reason,
            added_by=e.added_by,
            created_at=e.created_at,
        )
        for e in list_denied(session)
    ]


@router.post("", status_code=204)
def post_denylist(
    body: DenyIn, staff: StaffActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> None:
    """Add a PDQ or MD5 value: no case may hold it from now on."""
    deny_value(
        session, body.type, body.value, body.reason, now, actor=staff.staff.email, network=network
    )


@router.delete("/{entry_id}", status_code=204)
def delete_denylist(
    entry_id: int, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> None:
    """Remove an entry (admins): the hash may be submitted again."""
    remove_denied(session, entry_id, now, actor=admin.staff.email, network=network)

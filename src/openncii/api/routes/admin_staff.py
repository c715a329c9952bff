"""``/admin/api/staff``: staff accounts (admins only): list, add, disable, reset."""

from __future__ import annotations

from fastapi import APIRouter, Request

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, AdminDep
from openncii.api.console_schemas import StaffAddIn, StaffLinkOut, StaffOut
from openncii.api.deps import NetworkDep, NowDep, RuntimeDep, SessionDep
from openncii.api.routes.admin_session import staff_out
from openncii.staff import SetupLink, add_staff, disable_staff, list_staff, reset_staff, setup_url

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/staff", tags=["console"], include_in_schema=False)


def _link_out(request: Request, runtime: RuntimeDep, link: SetupLink) -> StaffLinkOut:
    base = runtime.settings.public_url or str(request.base_url)
    return StaffLinkOut(
        staff=staff_out(link.staff),
        setup_url=setup_url(base, link.token),
        expires_at=link.expires_at,
    )


@router.get("")
def get_staff(_admin: AdminDep, session: SessionDep) -> list[StaffOut]:
    """Every staff account."""
    return [staff_out(info) for info in list_staff(session)]


@router.post("", status_code=201)
def post_staff(
    body: StaffAddIn,
    request: Request,
    admin: AdminActionDep,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    network: NetworkDep,
) -> StaffLinkOut:
    """Add an account; its set-up link is shown once."""
    link = add_staff(
        session,
        body.email,
        body.role,
        now,
        runtime.staff_policy,
        actor=admin.staff.email,
        network=network,
    )
    return _link_out(request, runtime, link)


@router.post("/{email}/reset")
def post_reset(
    email: str,
    request: Request,
    admin: AdminActionDep,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    network: NetworkDep,
) -> StaffLinkOut:
    """Clear the account's password and authenticator and make a new set-up link."""
    link = reset_staff(
        session, email, now, runtime.staff_policy, actor=admin.staff.email, network=network
    )
    return _link_out(request, runtime, link)


@router.post("/{email}/disable")
def post_disable(
    email: str, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> StaffOut:
    """Disable the account; its sessions end at once."""
    return staff_out(disable_staff(session, email, now, actor=admin.staff.email, network=network))

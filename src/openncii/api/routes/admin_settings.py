"""``/admin/api/settings``: the organisation's name, helpline contact and privacy-policy link,
as the pages for people show them. Everyone signed in reads them; admins change them (each
change is in the audit log with its old and new value)."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, SignedInDep
from openncii.api.console_schemas import OrganisationIn, OrganisationSettingsOut
from openncii.api.deps import NetworkDep, NowDep, SessionDep
from openncii.organisation import Organisation, get_organisation, update_organisation

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/settings", tags=["console"], include_in_schema=False)


def _out(organisation: Organisation) -> OrganisationSettingsOut:
    return OrganisationSettingsOut(
        **organisation.values(),
        updated_at=organisation.updated_at,
        updated_by=organisation.updated_by,
    )


@router.get("")
def get_settings(_staff: SignedInDep, session: SessionDep) -> OrganisationSettingsOut:
    """The organisation's settings (``null``: not set, not shown to people)."""
    return _out(get_organisation(session))


@router.put("")
def put_settings(
    body: OrganisationIn,
    admin: AdminActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> OrganisationSettingsOut:
    """Set every setting (an empty one is cleared); a value that is not valid is refused with
    422 ``invalid_setting`` naming its ``field``, and nothing changes."""
    updated = update_organisation(
        session, body.model_dump(), now, actor=admin.staff.email, network=network
    )
    return _out(updated)

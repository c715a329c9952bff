"""``/admin/api/helplines``: the local helplines shown, per language, to people this service
cannot help. Everyone signed in reads the list; admins add, edit and remove entries (each
change is in the audit log)."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, SignedInDep
from openncii.api.console_schemas import HelplineEntryIn, HelplineEntryOut
from openncii.api.deps import NetworkDep, NowDep, SessionDep
from openncii.helplines import (
    HelplineInfo,
    add_helpline,
    list_helplines,
    remove_helpline,
    update_helpline,
)

__all__ = ["router"]

router = APIRouter(
    prefix=f"{ADMIN_API_PREFIX}/helplines", tags=["console"], include_in_schema=False
)


def _out(helpline: HelplineInfo) -> HelplineEntryOut:
    return HelplineEntryOut(
        id=helpline.id,
        country=helpline.country,
        language=helpline.language,
        name=helpline.name,
        url=helpline.url,
        phone=helpline.phone,
    )


@router.get("")
def get_helplines(_staff: SignedInDep, session: SessionDep) -> list[HelplineEntryOut]:
    """Every entry, by language, then country."""
    return [_out(h) for h in list_helplines(session)]


@router.post("", status_code=201)
def post_helpline(
    body: HelplineEntryIn,
    admin: AdminActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> HelplineEntryOut:
    """Add an entry; it shows at once on the page in its language."""
    added = add_helpline(
        session, **body.model_dump(), now=now, actor=admin.staff.email, network=network
    )
    return _out(added)


@router.put("/{helpline_id}")
def put_helpline(
    helpline_id: int,
    body: HelplineEntryIn,
    admin: AdminActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> HelplineEntryOut:
    """Replace an entry's values (404 ``helpline_not_found`` when there is none)."""
    updated = update_helpline(
        session, helpline_id, **body.model_dump(), now=now, actor=admin.staff.email, network=network
    )
    return _out(updated)


@router.delete("/{helpline_id}", status_code=204)
def delete_helpline(
    helpline_id: int, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> None:
    """Remove an entry; it disappears from the page at once."""
    remove_helpline(session, helpline_id, now=now, actor=admin.staff.email, network=network)

"""``/admin/api/partners``: participating companies in the console. Everyone signed in sees
them with their feed use and feedback; admins add, rotate keys, rename, revoke and allow or deny
hash submission."""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, SignedInDep
from openncii.api.console_schemas import (
    PartnerAddIn,
    PartnerKeyOut,
    PartnerOut,
    PartnerRenameIn,
    PartnerRotateIn,
    PartnerSubmissionIn,
)
from openncii.api.deps import NetworkDep, NowDep, RuntimeDep, SessionDep
from openncii.partners import (
    PartnerInfo,
    add_partner,
    partner_stats,
    rename_partner,
    revoke_partner,
    rotate_partner_key,
    set_can_submit,
)

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/partners", tags=["console"], include_in_schema=False)


@router.get("")
def get_partners(_staff: SignedInDep, session: SessionDep, now: NowDep) -> list[PartnerOut]:
    """Every partner, with its feed use in the last 24 hours (live) and its feedback counts
    (from the rollups the database keeps)."""
    return [
        PartnerOut(
            name=s.partner.name,
            active=s.partner.active,
            can_submit=s.partner.can_submit,
            created_at=s.partner.created_at,
            revoked_at=s.partner.revoked_at,
            old_key_expires_at=_old_key_expiry(s.partner, now),
            last_fetch_at=s.partner.last_fetch_at,
            pages_24h=s.pages_24h,
            records_24h=s.records_24h,
            unauthorized_24h=s.unauthorized_24h,
            feedback=s.feedback,
        )
        for s in partner_stats(session, now)
    ]


def _old_key_expiry(partner: PartnerInfo, now: datetime) -> datetime | None:
    expires = partner.previous_key_expires_at
    return expires if expires is not None and expires > now and partner.active else None


@router.post("", status_code=201)
def post_partner(
    body: PartnerAddIn, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> PartnerKeyOut:
    """Add a partner; its API key is shown once."""
    created = add_partner(
        session,
        body.name,
        now,
        can_submit=body.can_submit,
        actor=admin.staff.email,
        network=network,
    )
    return PartnerKeyOut(name=created.partner.name, key=created.key)


@router.post("/{name}/rotate")
def post_rotate(
    name: str,
    body: PartnerRotateIn,
    admin: AdminActionDep,
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    network: NetworkDep,
) -> PartnerKeyOut:
    """A new key (shown once), working at once; the old one works for the grace period."""
    days = runtime.settings.partner_key_grace_days if body.grace_days is None else body.grace_days
    rotated = rotate_partner_key(
        session, name, now, timedelta(days=days), actor=admin.staff.email, network=network
    )
    return PartnerKeyOut(
        name=rotated.partner.name, key=rotated.key, old_key_expires_at=rotated.old_key_expires_at
    )


@router.post("/{name}/rename", status_code=204)
def post_rename(
    name: str,
    body: PartnerRenameIn,
    admin: AdminActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> None:
    """A new public name; every partner's feed shows it from its next fetch."""
    rename_partner(session, name, body.name, now, actor=admin.staff.email, network=network)


@router.post("/{name}/revoke", status_code=204)
def post_revoke(
    name: str, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> None:
    """Revoke the partner: its keys stop working at once."""
    revoke_partner(session, name, now, actor=admin.staff.email, network=network)


@router.post("/{name}/submission", status_code=204)
def post_submission(
    name: str,
    body: PartnerSubmissionIn,
    admin: AdminActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> None:
    """Allow or deny the partner's hash submissions."""
    set_can_submit(session, name, body.allowed, now, actor=admin.staff.email, network=network)

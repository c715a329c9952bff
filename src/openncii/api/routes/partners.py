"""``/api/v1/partners``: the participating companies (public names only)."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.deps import SessionDep
from openncii.api.schemas import PartnerOut, PartnersOut
from openncii.partners import public_partner_names

__all__ = ["router"]

router = APIRouter(prefix="/partners", tags=["partners"])


@router.get("", summary="Participating companies")
def get_partners(session: SessionDep) -> PartnersOut:
    """The companies that take part (their public names)."""
    return PartnersOut(partners=[PartnerOut(name=n) for n in public_partner_names(session)])

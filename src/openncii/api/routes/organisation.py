"""``/api/v1/organisation``: the organisation running the service, as the pages for people
name it (public: the same answer for everyone, nothing about any person)."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.deps import SessionDep
from openncii.api.schemas import OrganisationOut
from openncii.organisation import get_organisation

__all__ = ["router"]

router = APIRouter(prefix="/organisation", tags=["organisation"])


@router.get("", summary="The organisation running the service")
def get_organisation_info(session: SessionDep) -> OrganisationOut:
    """Its name, its helpline contact and its privacy policy, as the helpline set them in the
    console; a value not set is ``null``."""
    return OrganisationOut(**get_organisation(session).values())

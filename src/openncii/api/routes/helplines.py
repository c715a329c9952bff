"""``/api/v1/helplines``: the local helplines for a language (public, as the page shows them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from openncii.api.deps import SessionDep
from openncii.api.schemas import HelplineOut, HelplinesOut
from openncii.helplines import helplines_for_language

__all__ = ["router"]

router = APIRouter(prefix="/helplines", tags=["helplines"])


@router.get("", summary="Local helplines for a language")
def get_helplines(
    session: SessionDep,
    language: Annotated[
        str, Query(min_length=2, max_length=16, pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    ],
) -> HelplinesOut:
    """The helplines the service shows to people reading the page in ``language``."""
    return HelplinesOut(
        helplines=[
            HelplineOut(
                country=h.country, language=h.language, name=h.name, url=h.url, phone=h.phone
            )
            for h in helplines_for_language(session, language)
        ]
    )

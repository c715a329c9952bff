"""The list of local helplines: add, list, remove, and the entries for one language.

A helpline serves one country (ISO 3166-1 alpha-2 code) and is shown on the page version of one
language; a helpline that speaks two languages is two entries. Addresses must be ``https://``
(they are links on a page for people at risk); phone numbers are kept as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii.db.models import Helpline
from openncii.errors import HelplineError

__all__ = [
    "HelplineInfo",
    "add_helpline",
    "helplines_for_language",
    "list_helplines",
    "remove_helpline",
]

_COUNTRY_RE: Final = re.compile(r"[A-Z]{2}")
_LANGUAGE_RE: Final = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_PHONE_RE: Final = re.compile(r"\+?[0-9][0-9 ()./-]{1,38}")
_MAX_NAME: Final = 200
_MAX_URL: Final = 500


@dataclass(frozen=True, slots=True)
class HelplineInfo:
    id: int
    country: str
    language: str
    name: str
    url: str
    phone: str | None


def _info(row: Helpline) -> HelplineInfo:
    return HelplineInfo(row.id, row.country, row.language, row.name, row.url, row.phone)


def _clean(
    country: str, language: str, name: str, url: str, phone: str | None
) -> tuple[str, str, str, str, str | None]:
    country = country.strip().upper()
    if not _COUNTRY_RE.fullmatch(country):
        raise HelplineError(f"country must be a two-letter code such as NL or GB, not {country!r}")
    language = language.strip()
    if not _LANGUAGE_RE.fullmatch(language):
        raise HelplineError(f"language must be a code such as nl or fr, not {language!r}")
    name = " ".join(name.split())
    if not name or len(name) > _MAX_NAME:
        raise HelplineError(f"the name must have 1 to {_MAX_NAME} characters")
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or len(url) > _MAX_URL or " " in url:
        raise HelplineError(f"the address must be an https:// address, not {url!r}")
    if phone is not None:
        phone = " ".join(phone.split()) or None
        if phone is not None and not _PHONE_RE.fullmatch(phone):
            raise HelplineError(
                f"the phone number may hold digits, spaces and +()./-, not {phone!r}"
            )
    return country, language, name, url, phone


def add_helpline(
    session: Session, *, country: str, language: str, name: str, url: str, phone: str | None = None
) -> HelplineInfo:
    """Add a helpline; raises :class:`HelplineError` for an invalid entry."""
    country, language, name, url, phone = _clean(country, language, name, url, phone)
    with session.begin():
        row = Helpline(country=country, language=language, name=name, url=url, phone=phone)
        session.add(row)
        session.flush()
        return _info(row)


def list_helplines(session: Session) -> list[HelplineInfo]:
    """Every helpline, by language, then country, then the order they were added."""
    with session.begin():
        rows = session.scalars(
            select(Helpline).order_by(Helpline.language, Helpline.country, Helpline.id)
        ).all()
        return [_info(r) for r in rows]


def helplines_for_language(session: Session, language: str) -> list[HelplineInfo]:
    """The helplines shown on the page in ``language`` (``fr-CA`` falls back to ``fr``)."""
    wanted = language.strip()
    base = wanted.split("-")[0].lower()
    with session.begin():
        rows = session.scalars(
            select(Helpline)
            .where(Helpline.language.in_({wanted, base}))
            .order_by(Helpline.country, Helpline.id)
        ).all()
        return [_info(r) for r in rows]


def remove_helpline(session: Session, helpline_id: int) -> HelplineInfo:
    """Remove a helpline by its id; raises :class:`HelplineError` when there is none."""
    with session.begin():
        row = session.get(Helpline, helpline_id)
        if row is None:
            raise HelplineError(f"there is no helpline with id {helpline_id}")
        removed = _info(row)
        session.delete(row)
        return removed

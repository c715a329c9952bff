"""The list of local helplines: add, edit, list, remove, and the entries for one language.

A helpline serves one country (ISO 3166-1 alpha-2 code) and is shown on the page version of one
language; a helpline that speaks two languages is two entries. Addresses must be ``https://``
(they are links on a page for people at risk); phone numbers are kept as written (the rules of
:mod:`openncii.organisation.fields`). A change made with a ``network`` (the console's client
network, or ``shell``) is written to the audit log in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii import audit
from openncii.db.models import Helpline
from openncii.errors import HelplineError, HelplineNotFoundError
from openncii.organisation.fields import clean_https_url, clean_name, clean_phone

__all__ = [
    "HelplineInfo",
    "add_helpline",
    "helplines_for_language",
    "list_helplines",
    "remove_helpline",
    "update_helpline",
]

_COUNTRY_RE: Final = re.compile(r"[A-Z]{2}")
_LANGUAGE_RE: Final = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_FIELDS: Final = ("country", "language", "name", "url", "phone")


@dataclass(frozen=True, slots=True)
class HelplineInfo:
    id: int
    country: str
    language: str
    name: str
    url: str
    phone: str | None

    @property
    def label(self) -> str:
        """How the audit log names it: ``name (country, language)``."""
        return f"{self.name} ({self.country}, {self.language})"


def _info(row: Helpline) -> HelplineInfo:
    return HelplineInfo(row.id, row.country, row.language, row.name, row.url, row.phone)


def _clean(
    country: str, language: str, name: str, url: str, phone: str | None
) -> tuple[str, str, str, str, str | None]:
    country = country.strip().upper()
    if not _COUNTRY_RE.fullmatch(country):
        raise HelplineError(
            "the country must be a two-letter code such as NL or GB", field="country"
        )
    language = language.strip()
    if not _LANGUAGE_RE.fullmatch(language):
        raise HelplineError("the language must be a code such as nl or fr", field="language")
    name = clean_name(name, error=HelplineError)
    url = clean_https_url(url, error=HelplineError)
    phone = clean_phone(phone, error=HelplineError) if phone and phone.strip() else None
    return country, language, name, url, phone


def _note(
    session: Session,
    action: str,
    now: datetime | None,
    actor: str | None,
    network: str | None,
    target: str,
    detail: str | None = None,
) -> None:
    if network is not None:
        at = now if now is not None else datetime.now(UTC)
        audit.record(
            session, action, at, actor=actor, network=network, target=target, detail=detail
        )


def add_helpline(
    session: Session,
    *,
    country: str,
    language: str,
    name: str,
    url: str,
    phone: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    network: str | None = None,
) -> HelplineInfo:
    """Add a helpline; raises :class:`HelplineError` for an invalid entry."""
    country, language, name, url, phone = _clean(country, language, name, url, phone)
    with session.begin():
        row = Helpline(country=country, language=language, name=name, url=url, phone=phone)
        session.add(row)
        session.flush()
        added = _info(row)
        detail = f"{url}" + (f", {phone}" if phone else "")
        _note(session, "helpline.add", now, actor, network, added.label, detail)
        return added


def update_helpline(
    session: Session,
    helpline_id: int,
    *,
    country: str,
    language: str,
    name: str,
    url: str,
    phone: str | None = None,
    now: datetime | None = None,
    actor: str | None = None,
    network: str | None = None,
) -> HelplineInfo:
    """Replace an entry's values; raises :class:`HelplineError` for an invalid entry (nothing
    changes) and :class:`HelplineNotFoundError` when there is none with this id."""
    cleaned = dict(zip(_FIELDS, _clean(country, language, name, url, phone), strict=True))
    with session.begin():
        row = session.get(Helpline, helpline_id, with_for_update=True)
        if row is None:
            raise HelplineNotFoundError(f"there is no helpline with id {helpline_id}")
        changes = []
        for field, new in cleaned.items():
            old = getattr(row, field)
            if old != new:
                changes.append(f"{field}: {old or '(empty)'} → {new or '(empty)'}")
                setattr(row, field, new)
        session.flush()
        updated = _info(row)
        if changes:
            _note(session, "helpline.edit", now, actor, network, updated.label, "; ".join(changes))
        return updated


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


def remove_helpline(
    session: Session,
    helpline_id: int,
    *,
    now: datetime | None = None,
    actor: str | None = None,
    network: str | None = None,
) -> HelplineInfo:
    """Remove a helpline by its id; raises :class:`HelplineNotFoundError` when there is none."""
    with session.begin():
        row = session.get(Helpline, helpline_id)
        if row is None:
            raise HelplineNotFoundError(f"there is no helpline with id {helpline_id}")
        removed = _info(row)
        session.delete(row)
        _note(session, "helpline.remove", now, actor, network, removed.label, removed.url)
        return removed

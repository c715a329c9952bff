"""The organisation's settings: its name, its helpline contact and its privacy-policy link.

The pages for people show them (``GET /api/v1/organisation``); the helpline keeps them in the
console's Settings. An empty value is stored as ``None`` and shown nowhere. Every change is
written to the audit log with the old and the new value, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii import audit
from openncii.db.models import ORGANISATION_ID
from openncii.db.models import Organisation as OrganisationRow
from openncii.errors import SettingError
from openncii.organisation.fields import clean_email, clean_https_url, clean_name, clean_phone

__all__ = [
    "ORGANISATION_FIELDS",
    "Organisation",
    "get_organisation",
    "update_organisation",
]

_CLEANERS: Final[dict[str, Callable[..., str]]] = {
    "name": clean_name,
    "phone": clean_phone,
    "email": clean_email,
    "url": clean_https_url,
    "privacy_url": clean_https_url,
}
#: The settings, in the order the console shows them.
ORGANISATION_FIELDS: Final = tuple(_CLEANERS)
#: How an empty value appears in the audit log.
_EMPTY: Final = "(empty)"


@dataclass(frozen=True, slots=True)
class Organisation:
    """What the pages may say about the organisation running the service (``None``: unset)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    privacy_url: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None

    def values(self) -> dict[str, str | None]:
        """The settings by name (:data:`ORGANISATION_FIELDS`)."""
        return {field: getattr(self, field) for field in ORGANISATION_FIELDS}


def _info(row: OrganisationRow | None) -> Organisation:
    if row is None:
        return Organisation()
    return Organisation(
        row.name, row.phone, row.email, row.url, row.privacy_url, row.updated_at, row.updated_by
    )


def get_organisation(session: Session) -> Organisation:
    """The organisation's settings as stored (every value ``None`` until the helpline sets it)."""
    with session.begin():
        return _info(session.get(OrganisationRow, ORGANISATION_ID))


def _cleaned(values: Mapping[str, str | None]) -> dict[str, str | None]:
    unknown = set(values) - set(ORGANISATION_FIELDS)
    if unknown:
        raise SettingError(f"unknown setting {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    cleaned: dict[str, str | None] = {}
    for field, clean in _CLEANERS.items():
        value = values.get(field)
        if value is None or not value.strip():
            cleaned[field] = None
        else:
            cleaned[field] = clean(value, field=field)
    return cleaned


def update_organisation(
    session: Session,
    values: Mapping[str, str | None],
    now: datetime,
    *,
    actor: str | None,
    network: str,
) -> Organisation:
    """Set every setting to ``values`` (a missing or empty one is cleared).

    All values are checked first: one that is not valid raises :class:`SettingError` naming
    it, and nothing changes. Each setting that changes gets an audit entry ``settings.change``
    about ``organisation.<field>`` with ``old → new``.
    """
    cleaned = _cleaned(values)
    with session.begin():
        row = session.scalars(
            select(OrganisationRow).where(OrganisationRow.id == ORGANISATION_ID).with_for_update()
        ).one_or_none()
        if row is None:  # the migration made it; a database set up by hand may lack it
            row = OrganisationRow(id=ORGANISATION_ID)
            session.add(row)
        changed = False
        for field, new in cleaned.items():
            old: str | None = getattr(row, field)
            if old == new:
                continue
            setattr(row, field, new)
            changed = True
            audit.record(
                session,
                "settings.change",
                now,
                actor=actor,
                network=network,
                target=f"organisation.{field}",
                detail=f"{old or _EMPTY} → {new or _EMPTY}",
            )
        if changed:
            row.updated_at = now
            row.updated_by = actor
        session.flush()
        return _info(row)

"""The organisation running the service, as the pages for people name it: its name, its
helpline contact (phone, e-mail, web address) and its privacy-policy link, kept by the helpline
in the console; and the rules of the values typed there (:mod:`openncii.organisation.fields`).

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.organisation.service import (
    ORGANISATION_FIELDS,
    Organisation,
    get_organisation,
    update_organisation,
)

__all__ = ["ORGANISATION_FIELDS", "Organisation", "get_organisation", "update_organisation"]

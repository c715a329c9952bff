"""Local helplines, per language and country: data the helpline running the service keeps.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.helplines.service import (
    HelplineInfo,
    add_helpline,
    helplines_for_language,
    list_helplines,
    remove_helpline,
    update_helpline,
)

__all__ = [
    "HelplineInfo",
    "add_helpline",
    "helplines_for_language",
    "list_helplines",
    "remove_helpline",
    "update_helpline",
]

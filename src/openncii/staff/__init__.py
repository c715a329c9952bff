"""Helpline staff: accounts, sign-in with password and TOTP, console sessions, the audit log.

No FastAPI and no HTTP here: functions take a session and plain values and raise
:mod:`openncii.errors` exceptions.
"""

from __future__ import annotations

from openncii.staff.service import (
    ConsoleSession,
    SetupLink,
    SetupView,
    SignedIn,
    StaffInfo,
    StaffPolicy,
    add_staff,
    clean_email,
    complete_setup,
    current_session,
    disable_staff,
    list_staff,
    require_admin,
    reset_staff,
    setup_url,
    setup_view,
    sign_in,
    sign_out,
    sign_out_everywhere,
)

__all__ = [
    "ConsoleSession",
    "SetupLink",
    "SetupView",
    "SignedIn",
    "StaffInfo",
    "StaffPolicy",
    "add_staff",
    "clean_email",
    "complete_setup",
    "current_session",
    "disable_staff",
    "list_staff",
    "require_admin",
    "reset_staff",
    "setup_url",
    "setup_view",
    "sign_in",
    "sign_out",
    "sign_out_everywhere",
]

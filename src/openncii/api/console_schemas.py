"""Wire schemas (pydantic) of the helpline console's API (``/admin/api``): unknown fields are
refused, as in the victim API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ConsoleIn",
    "PartnerAddIn",
    "PartnerKeyOut",
    "PartnerOut",
    "PartnerRenameIn",
    "PartnerRotateIn",
    "PartnerSubmissionIn",
    "SetupIn",
    "SetupTokenIn",
    "SetupViewOut",
    "SignInIn",
    "SignedInOut",
    "StaffAddIn",
    "StaffLinkOut",
    "StaffOut",
]

_Email = Annotated[str, Field(min_length=3, max_length=254)]
_Password = Annotated[str, Field(min_length=1, max_length=1024)]
_Code = Annotated[str, Field(min_length=1, max_length=16)]
_Token = Annotated[str, Field(min_length=1, max_length=200)]


class ConsoleIn(BaseModel):
    """Base of the console's request bodies: unknown fields are an error."""

    model_config = ConfigDict(extra="forbid")


class SignInIn(ConsoleIn):
    email: _Email
    password: _Password
    code: _Code


class SetupTokenIn(ConsoleIn):
    token: _Token


class SetupIn(ConsoleIn):
    token: _Token
    password: _Password
    code: _Code


class SetupViewOut(BaseModel):
    email: str
    totp_secret: str
    qr_svg: str
    expires_at: datetime


class StaffOut(BaseModel):
    email: str
    role: str
    state: str
    created_at: datetime
    disabled_at: datetime | None
    setup_expires_at: datetime | None


class SignedInOut(BaseModel):
    staff: StaffOut
    csrf_token: str
    idle_minutes: int


class StaffAddIn(ConsoleIn):
    email: _Email
    role: str


class StaffLinkOut(BaseModel):
    """A set-up link (shown once)."""

    staff: StaffOut
    setup_url: str
    expires_at: datetime


_PartnerName = Annotated[str, Field(min_length=1, max_length=200)]


class PartnerAddIn(ConsoleIn):
    name: _PartnerName
    can_submit: bool = False


class PartnerRotateIn(ConsoleIn):
    #: Days the old key keeps working (0: it stops at once); none: the configured default.
    grace_days: Annotated[float | None, Field(ge=0, le=90)] = None


class PartnerRenameIn(ConsoleIn):
    name: _PartnerName


class PartnerSubmissionIn(ConsoleIn):
    allowed: bool


class PartnerOut(BaseModel):
    name: str
    active: bool
    can_submit: bool
    created_at: datetime
    revoked_at: datetime | None
    old_key_expires_at: datetime | None
    last_fetch_at: datetime | None
    pages_24h: int
    records_24h: int
    unauthorized_24h: int
    feedback: dict[str, int]


class PartnerKeyOut(BaseModel):
    """A partner's new API key (shown once)."""

    name: str
    key: str
    old_key_expires_at: datetime | None = None


# Settings: the organisation and the local helplines (api/routes/admin_settings.py,
# api/routes/admin_helplines.py). Lengths are checked again, with the field's name, by the
# domain (openncii.organisation.fields).

__all__ += ["HelplineEntryIn", "HelplineEntryOut", "OrganisationIn", "OrganisationSettingsOut"]

_Setting = Annotated[str | None, Field(max_length=1000)]


class OrganisationIn(ConsoleIn):
    """Every setting at once; an empty or missing one is cleared."""

    name: _Setting = None
    phone: _Setting = None
    email: _Setting = None
    url: _Setting = None
    privacy_url: _Setting = None


class OrganisationSettingsOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    url: str | None
    privacy_url: str | None
    updated_at: datetime | None
    updated_by: str | None


class HelplineEntryIn(ConsoleIn):
    country: Annotated[str, Field(max_length=10)]
    language: Annotated[str, Field(max_length=20)]
    name: Annotated[str, Field(max_length=1000)]
    url: Annotated[str, Field(max_length=1000)]
    phone: _Setting = None


class HelplineEntryOut(BaseModel):
    id: int
    country: str
    language: str
    name: str
    url: str
    phone: str | None

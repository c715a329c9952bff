"""Bodies and answers of the console's hash review (``/admin/api/review``,
``/admin/api/denylist``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from openncii.api.console_schemas import ConsoleIn
from openncii.review import MAX_REASON

__all__ = [
    "DeniedOut",
    "DenyIn",
    "DisableIn",
    "DisableOut",
    "DisabledOut",
    "EnableOut",
    "OpenedOut",
    "ReasonOut",
    "ReviewItemOut",
    "ReviewOut",
]


class ReasonOut(BaseModel):
    code: str = Field(description="not_blocked, frequent_match, near_denied or network_burst.")
    figures: dict[str, int | float | str]


class ReviewItemOut(BaseModel):
    hash_id: int
    type: str
    prefix: str = Field(description="The first 8 hex digits (open the hash to see it all).")
    status: str
    created_at: datetime
    cases: int
    reasons: list[ReasonOut]


class ReviewOut(BaseModel):
    computed_at: datetime
    items: list[ReviewItemOut]


class OpenedOut(BaseModel):
    hash_id: int
    type: str
    value: str
    payload: str | None
    status: str


class DisableIn(ConsoleIn):
    reason: str = Field(max_length=MAX_REASON * 2)
    deny: bool = False


class DisableOut(BaseModel):
    disabled: int = Field(description="Hashes disabled now (the photo's hashes together).")


class EnableOut(BaseModel):
    enabled: int


class DisabledOut(BaseModel):
    hash_id: int
    chosen_hash_id: int
    type: str
    prefix: str
    reason: str
    disabled_by: str | None
    disabled_at: datetime


class DenyIn(ConsoleIn):
    type: Literal["pdq", "md5"] = "pdq"
    value: str = Field(max_length=128)
    reason: str = Field(max_length=MAX_REASON * 2)


class DeniedOut(BaseModel):
    id: int
    type: str
    prefix: str
    reason: str
    added_by: str | None
    created_at: datetime

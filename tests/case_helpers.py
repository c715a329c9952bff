"""Helpers for the case-service tests: valid request bodies, random hashes, cheap rules."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from openncii.cases import (
    Argon2Parameters,
    CaseRules,
    CreatedCase,
    DenyList,
    Eligibility,
    LockoutPolicy,
    PinHasher,
    PinSlots,
    create_case,
)

ELIGIBLE: dict[str, bool] = {
    "in_image": True,
    "adult_when_taken": True,
    "adult_now": True,
    "has_content": True,
    "intimate": True,
}

CASES = "/api/v1/cases"
STATUS = "/api/v1/cases/status"
WITHDRAW = "/api/v1/cases/withdraw"
PARTNERS = "/api/v1/partners"


def fast_case_rules(max_hashes: int, lockout: LockoutPolicy) -> CaseRules:
    """The case service's rules with the cheapest argon2 and the shipped deny-list."""
    return CaseRules(
        pins=PinHasher(
            Argon2Parameters(time_cost=1, memory_kib=64, parallelism=1), PinSlots(2, queue=64)
        ),
        denylist=DenyList.load(),
        max_hashes=max_hashes,
        lockout=lockout,
    )


def open_case(
    sessions: Any, rules: CaseRules, *hashes: Any, now: datetime, network: str | None = None
) -> CreatedCase:
    """A case of ``hashes`` (submissions) stored by the case service, every answer eligible."""
    with sessions() as session:
        return create_case(
            session,
            rules,
            eligibility=Eligibility(True, True, True, True, True),
            hashes=list(hashes),
            language="en",
            now=now,
            network=network,
        )


def random_pdq(rng: random.Random | None = None) -> str:
    """A random PDQ hex: about 128 bits from anything on the deny-list, so always accepted."""
    return f"{(rng or random).getrandbits(256):064x}"


def random_md5(rng: random.Random | None = None) -> str:
    return f"{(rng or random).getrandbits(128):032x}"


def pdq_item(value: str | None = None, quality: int = 90) -> dict[str, Any]:
    return {"type": "pdq", "value": value or random_pdq(), "quality": quality}


def md5_item(value: str | None = None) -> dict[str, Any]:
    return {"type": "md5", "value": value or random_md5()}


def vpdq_item(frames: int = 3) -> dict[str, Any]:
    return {
        "type": "vpdq",
        "frames": [
            {"pdq": random_pdq(), "quality": 80, "timestamp": float(i)} for i in range(frames)
        ],
    }


def photo_item(
    kinds: tuple[str, ...] = ("full", "square", "square", "strip", "strip"), quality: int = 90
) -> dict[str, Any]:
    """One photo as the web app sends it: random hashes of its regions, with their kinds."""
    return {
        "type": "photo",
        "variants": [{"pdq": random_pdq(), "kind": k, "quality": quality} for k in kinds],
    }


def case_body(*hashes: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"eligibility": dict(ELIGIBLE), "hashes": list(hashes) or [pdq_item()], **extra}

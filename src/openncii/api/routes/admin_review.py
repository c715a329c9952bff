"""``/admin/api/review``: the hash-review queue and what reviewers do with a hash. Everyone
signed in (admins and analysts) reviews, opens and disables hashes; only admins re-enable."""

from __future__ import annotations

from fastapi import APIRouter

from openncii.api.console import ADMIN_API_PREFIX, AdminActionDep, SignedInDep, StaffActionDep
from openncii.api.deps import NetworkDep, NowDep, RuntimeDep, SessionDep
from openncii.api.review_schemas import (
    DisabledOut,
    DisableIn,
    DisableOut,
    EnableOut,
    OpenedOut,
    ReasonOut,
    ReviewItemOut,
    ReviewOut,
)
from openncii.review import (
    disable_hash,
    enable_hash,
    list_disabled,
    open_hash,
    review_queue,
)

__all__ = ["router"]

router = APIRouter(prefix=f"{ADMIN_API_PREFIX}/review", tags=["console"], include_in_schema=False)


@router.get("")
def get_queue(
    _staff: SignedInDep, session: SessionDep, runtime: RuntimeDep, now: NowDep
) -> ReviewOut:
    """The hashes that need a human look, each with its reasons (by their first 8 hex digits):
    computed at each request from what the database keeps (:mod:`openncii.review.queue`)."""
    queue = review_queue(session, runtime.review_rules, runtime.rules.denylist, now)
    return ReviewOut(
        computed_at=queue.computed_at,
        items=[
            ReviewItemOut(
                hash_id=i.hash_id,
                type=i.signal_type,
                prefix=i.prefix,
                status=i.status,
                created_at=i.created_at,
                cases=i.cases,
                reasons=[ReasonOut(code=r.code, figures=r.figures) for r in i.reasons],
            )
            for i in queue.items
        ],
    )


@router.get("/disabled")
def get_disabled(_staff: SignedInDep, session: SessionDep) -> list[DisabledOut]:
    """Every disabled hash, newest first."""
    return [
        DisabledOut(
            hash_id=d.hash_id,
            chosen_hash_id=d.chosen_hash_id,
            type=d.signal_type,
            prefix=d.prefix,
            reason=d.reason,
            disabled_by=d.disabled_by,
            disabled_at=d.disabled_at,
        )
        for d in list_disabled(session)
    ]


@router.post("/hashes/{hash_id}/open")
def post_open(
    hash_id: int, staff: StaffActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> OpenedOut:
    """The whole hash value (the opening is written to the audit log)."""
    opened = open_hash(session, hash_id, now, actor=staff.staff.email, network=network)
    return OpenedOut(
        hash_id=opened.hash_id,
        type=opened.signal_type,
        value=opened.value,
        payload=opened.payload,
        status=opened.status,
    )


@router.post("/hashes/{hash_id}/disable")
def post_disable(
    hash_id: int,
    body: DisableIn,
    staff: StaffActionDep,
    session: SessionDep,
    now: NowDep,
    network: NetworkDep,
) -> DisableOut:
    """Disable the hash and the other hashes of its photo (the feed sends them as
    ``Deleted``); with ``deny``, put them on the deny-list too."""
    count = disable_hash(
        session,
        hash_id,
        body.reason,
        now,
        deny=body.deny,
        actor=staff.staff.email,
        network=network,
    )
    return DisableOut(disabled=count)


@router.post("/hashes/{hash_id}/enable")
def post_enable(
    hash_id: int, admin: AdminActionDep, session: SessionDep, now: NowDep, network: NetworkDep
) -> EnableOut:
    """Re-enable a disabled hash and those disabled with it (admins)."""
    count = enable_hash(session, hash_id, now, actor=admin.staff.email, network=network)
    return EnableOut(enabled=count)

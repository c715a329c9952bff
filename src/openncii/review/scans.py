"""The rows of ``review_scans``: for each set of stored review flags (``review_near_denied``
of the shipped list, :mod:`openncii.review.near`; ``case_networks.burst``,
:mod:`openncii.review.bursts`), the fingerprint of what they were computed with."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, insert, select, update

from openncii.db.models import ReviewScan

__all__ = ["resync"]


def resync(
    connection: Connection, name: str, fingerprint: str, recompute: Callable[[], object]
) -> bool:
    """Run ``recompute`` and keep ``fingerprint`` as the row ``name``'s if the stored flags
    are of another one (in the caller's transaction; the row is locked on PostgreSQL, so one
    server computes them). Returns whether it computed them."""
    held = select(ReviewScan.fingerprint).where(ReviewScan.name == name)
    if connection.scalar(held) == fingerprint:
        return False
    if connection.dialect.name == "postgresql":
        held = held.with_for_update()
    stored = connection.scalar(held)
    if stored == fingerprint:
        return False
    recompute()
    if stored is None:
        connection.execute(insert(ReviewScan).values(name=name, fingerprint=fingerprint))
    else:
        connection.execute(
            update(ReviewScan).where(ReviewScan.name == name).values(fingerprint=fingerprint)
        )
    return True

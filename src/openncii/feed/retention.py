"""Retention: withdrawn hashes are deleted once their withdrawal is old enough, with the feed
checkpoints of that age. No FastAPI and no HTTP here."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openncii.db.models import HASH_WITHDRAWN, FeedRecordCache, HashRecord
from openncii.feed.cursor import purge_checkpoints

__all__ = ["purge_withdrawn"]


def purge_withdrawn(session: Session, now: datetime, retention: timedelta) -> int:
    """Delete withdrawn hashes whose withdrawal is older than ``retention`` (with their case
    memberships and feedback), and checkpoints older than that. Returns the hashes deleted.

    A hash that a new case holds again is active, so it is not touched.
    """
    cutoff = now - retention
    with session.begin():
        expired = (
            select(HashRecord.id)
            .where(HashRecord.status == HASH_WITHDRAWN, HashRecord.withdrawn_at < cutoff)
            .scalar_subquery()
        )
        session.execute(
            delete(FeedRecordCache)
            .where(FeedRecordCache.hash_id.in_(expired))
            .execution_options(synchronize_session=False)
        )
        result = session.execute(
            delete(HashRecord)
            .where(HashRecord.status == HASH_WITHDRAWN, HashRecord.withdrawn_at < cutoff)
            .execution_options(synchronize_session=False)
        )
        purge_checkpoints(session, int(cutoff.timestamp()))
    return int(getattr(result, "rowcount", 0) or 0)

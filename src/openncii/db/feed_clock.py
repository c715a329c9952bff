"""Stamping changed feed rows in commit order (see :mod:`openncii.db.models`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, select, update
from sqlalchemy.orm import Session

from openncii.db.models import FEED_CLOCK_ID, FeedClock, HashRecord

__all__ = [
    "advance_feed_clock",
    "read_feed_clock",
    "stamp_hashes",
    "stamp_hashes_at_new_position",
]


_ADVANCE: Final = (
    update(FeedClock)
    .where(FeedClock.id == FEED_CLOCK_ID)
    .values(value=FeedClock.value + 1)
    .returning(FeedClock.value)
)


def read_feed_clock(connection: Connection) -> int:
    """The last position a committed transaction took (no lock): every row stamped at or
    before it is committed, since the clock's row lock is held from a stamp to the commit."""
    return int(
        connection.execute(
            select(FeedClock.value).where(FeedClock.id == FEED_CLOCK_ID)
        ).scalar_one()
    )


def advance_feed_clock(session: Session) -> int:
    """Bump the feed clock and return the new value.

    The row lock this takes is held until the transaction ends, so call it as late as possible
    (just before the last writes) and commit soon after. Every transaction that changes a row of
    ``hashes`` must go through here.
    """
    return int(session.connection().execute(_ADVANCE).scalar_one())


def stamp_hashes(
    session: Session, hash_ids: Collection[int], seq: int, now: datetime, **values: object
) -> None:
    """Give the rows ``hash_ids`` the feed position ``seq`` (plus any other column ``values``)."""
    if not hash_ids:
        return
    session.connection().execute(
        update(HashRecord)
        .where(HashRecord.id.in_(sorted(hash_ids)))
        .values(feed_seq=seq, updated_at=now, **values)
    )


def stamp_hashes_at_new_position(
    session: Session, hash_ids: Collection[int], now: datetime, **values: object
) -> int:
    """:func:`advance_feed_clock` then :func:`stamp_hashes`, in one statement on PostgreSQL.

    The clock's row lock is held from this statement to the commit, so every round trip saved
    here is throughput for all writers. Returns the new position.
    """
    if session.get_bind().dialect.name != "postgresql" or not hash_ids:
        seq = advance_feed_clock(session)
        stamp_hashes(session, hash_ids, seq, now, **values)
        return seq
    clock = _ADVANCE.cte("clock")
    statement = (
        update(HashRecord)
        .where(HashRecord.id.in_(sorted(hash_ids)))
        .values(feed_seq=select(clock.c.value).scalar_subquery(), updated_at=now, **values)
        .returning(HashRecord.feed_seq)
    )
    return int(session.connection().execute(statement).scalars().first() or 0)

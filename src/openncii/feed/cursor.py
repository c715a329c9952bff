"""``nextSetTimestamp``: a checkpoint that looks like Unix seconds and stands for a feed position.

Why not simply the feed position or a time?

* python-threatexchange stores ``nextSetTimestamp`` as its checkpoint and shows it as a time
  (``datetime.fromtimestamp``; a value in milliseconds or finer makes its ``fetch`` command fail
  with "year out of range"), HMA stores it as the checkpoint's time, and the threatexchange CLI
  asserts that it never goes back. So it must be an integer number of seconds near "now".
* A time alone is not exact: many changes share a second, and a writer that commits late may
  carry an earlier time than one a reader has already passed.

So the feed is ordered by ``hashes.feed_seq`` (stamped in commit order under the feed-clock row
lock, see :mod:`openncii.db.feed_clock`), and each checkpoint we hand out is a row of
``feed_checkpoints``: ``ts`` (seconds) -> ``seq`` (position). Starting from ``ts`` returns exactly
the rows stamped after ``seq``. Rules:

* A new checkpoint is made only at the end of a fetch whose position is newer than the latest
  checkpoint's. Its ``ts`` is ``max(now, latest ts + 1, base + 1)``: strictly increasing, so a value
  never changes meaning, and normally equal to the current second. When more than one checkpoint
  is needed in one second the values run ahead of the clock, by at most :data:`MAX_LEAD_SECONDS`;
  beyond that (or when another reader wins the race for a value) the fetch answers its own
  starting checkpoint again, which is always safe: the next fetch repeats a few records (records
  are full snapshots keyed by signal type and hash, so a repeat changes nothing).
* A ``startTimestamp`` we did not issue is rounded down to the newest checkpoint at or before it
  (or, before the first checkpoint, means "from the beginning"). A value later than every
  checkpoint and than the current time is refused.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from openncii.db.models import FeedCheckpoint
from openncii.db.upsert import insert_for
from openncii.errors import PartnerRequestError

__all__ = ["MAX_LEAD_SECONDS", "Start", "issue_checkpoint", "purge_checkpoints", "resolve_start"]

#: How far (seconds) issued checkpoints may run ahead of the clock during bursts.
MAX_LEAD_SECONDS: Final = 60


class Start(NamedTuple):
    """Where a fetch starts: checkpoint value ``base`` and the position ``seq`` it stands for."""

    base: int
    seq: int


def _latest(session: Session) -> tuple[int, int] | None:
    row = session.execute(
        select(FeedCheckpoint.ts, FeedCheckpoint.seq).order_by(FeedCheckpoint.ts.desc()).limit(1)
    ).first()
    return None if row is None else (int(row[0]), int(row[1]))


def resolve_start(session: Session, start_timestamp: int, now: int) -> Start:
    """The feed position a ``startTimestamp`` stands for (see the module docstring)."""
    row = session.execute(
        select(FeedCheckpoint.ts, FeedCheckpoint.seq)
        .where(FeedCheckpoint.ts <= start_timestamp)
        .order_by(FeedCheckpoint.ts.desc())
        .limit(1)
    ).first()
    if row is not None:
        return Start(int(row[0]), int(row[1]))
    if start_timestamp > now:
        latest = _latest(session)
        if latest is None or start_timestamp > latest[0]:
            raise PartnerRequestError(
                "startTimestamp is in the future. Use 0 for a full fetch or the nextSetTimestamp "
                "of your last fetch."
            )
    return Start(start_timestamp, 0)


def issue_checkpoint(session: Session, seq: int, base: int, now: int) -> int:
    """The checkpoint value for "everything up to ``seq`` has been sent" (never below ``base``).

    Runs inside the caller's transaction (it may insert one row).
    """
    latest = _latest(session)
    if latest is not None and latest[1] == seq:
        return max(latest[0], base)
    if latest is not None and latest[1] > seq:
        # Another reader already checkpointed a later position: we cannot slot ours in between.
        return base
    ts = max(now, base + 1, latest[0] + 1 if latest is not None else 0)
    if ts > now + MAX_LEAD_SECONDS:
        return base
    inserted = session.execute(
        insert_for(session, FeedCheckpoint)
        .values(ts=ts, seq=seq)
        .on_conflict_do_nothing(index_elements=["ts"])
        .returning(FeedCheckpoint.ts)
    ).first()
    return ts if inserted is not None else base


def purge_checkpoints(session: Session, before: int) -> int:
    """Forget checkpoints older than ``before`` (Unix seconds), always keeping the newest one.

    A partner still holding one then refetches from the previous remaining checkpoint or from the
    beginning: repeats, never gaps.
    """
    newest = session.scalar(select(func.max(FeedCheckpoint.ts)))
    if newest is None:
        return 0
    result = session.execute(
        delete(FeedCheckpoint).where(FeedCheckpoint.ts < min(before, int(newest)))
    )
    return int(getattr(result, "rowcount", 0) or 0)

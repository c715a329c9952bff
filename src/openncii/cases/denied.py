"""The helpline's own deny-list, kept in the database (table ``denied_hashes``).

Staff add hashes to it in the console's hash review (:mod:`openncii.review`); from then on no
case may hold them, exactly as the shipped list (:mod:`openncii.cases.denylist`) refuses trivial
images: a PDQ hash of any kind is refused within the match threshold of an entry, an MD5 or a
vPDQ signature when it is the same value. The list is read at each case creation (it is small:
one row per decision of a reviewer).

**A case and an entry added at the same moment.** Two writers must see each other: the case's
check of the list (:func:`load_denied`) and the entry's scan of the hashes already stored
(:func:`openncii.review.near.flag_prescanned`). If the check ran before the entry committed and the
scan before the case committed, neither would see the other and the hash would escape both
(stored, neither refused nor queued for review). So the check runs *inside* the transaction
that stores the case (:func:`openncii.cases.store_case`), and the two transactions are ordered:

* SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (:mod:`openncii.db.engine`), so
  writers take turns and each sees every earlier commit.
* PostgreSQL (``READ COMMITTED``: each statement sees what committed before it started): a
  transaction-level advisory lock, :data:`DENY_LOCK`. Storing a case takes it in shared mode
  (cases do not wait for each other) before it reads the list; adding entries takes it in
  exclusive mode (:func:`lock_denied_for_adding`) before it inserts them, and holds it to its
  commit. Either the case took the lock first: the entry waits for the case's commit, and its
  scan under the lock, a later statement, sees the case's hashes (they are queued, or a
  reviewer disabled them with the entry); or the entry took it first: the case waits for the
  entry's commit and its read, a later statement, sees the entry (the case is refused).

The scan of the whole bank (seconds at a million PDQ hashes: ``docs/benchmarks.md``) runs
*before* the lock (:func:`openncii.review.near.prescan_entries`), so new cases wait only for
what follows it. It first reads the feed clock: every case committed by then stamped its hashes
at or before that position (the clock's row lock is held from a stamp to the commit), and the
scan, a later statement, sees them. Under the lock, only the hashes stamped after that position
are scanned again (the index on ``hashes.feed_seq``): every case stored since the first scan
stamped its hashes there, and every case still being stored has committed, since it held the
shared lock. On SQLite the whole transaction of the entry holds the database anyway.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii.cases.denylist import DenyList
from openncii.db.locks import advisory_xact_lock
from openncii.db.models import DeniedHash
from openncii.signals.registry import PDQ, PDQ_KEYS

__all__ = ["DENY_LOCK", "DeniedList", "deny_key", "load_denied", "lock_denied_for_adding"]

#: The PostgreSQL advisory lock (a bigint key: "ONCIDENY") that orders additions to the
#: deny-list against the cases being stored (the module docstring).
DENY_LOCK: Final = 0x4F4E_4349_4445_4E59


def deny_key(signal_type: str) -> str:
    """The ``denied_hashes.signal_type`` of a hash of ``signal_type`` (one for every PDQ kind)."""
    return PDQ.key if signal_type in PDQ_KEYS else signal_type


@dataclass(frozen=True, slots=True)
class DeniedList:
    """The database's deny-list: PDQ entries (matched by distance) and exact other values."""

    pdq: DenyList
    exact: frozenset[tuple[str, str]]

    def matches(self, signal_type: str, value: str) -> bool:
        """Whether a (valid, normalised) hash of ``signal_type`` is refused by an entry."""
        if signal_type in PDQ_KEYS:
            return self.pdq.matches(value)
        return (signal_type, value) in self.exact

    def first_refused(self, hashes: Sequence[tuple[str, str]]) -> int | None:
        """The position of the first (signal type, value) the list refuses, if any."""
        for position, (signal_type, value) in enumerate(hashes):
            if self.matches(signal_type, value):
                return position
        return None


def lock_denied_for_adding(session: Session) -> None:
    """Take :data:`DENY_LOCK` in exclusive mode (PostgreSQL; nothing to do on SQLite): the first
    statement of a transaction that adds entries, before it locks anything else (a case holding
    the shared lock may be waiting for a row the adding transaction would lock)."""
    advisory_xact_lock(session.connection(), DENY_LOCK)


def load_denied(session: Session) -> DeniedList:
    """The entries, read in the caller's transaction: the one that stores the case, so that the
    read is ordered against additions (it takes :data:`DENY_LOCK` in shared mode first on
    PostgreSQL; see the module docstring)."""
    advisory_xact_lock(session.connection(), DENY_LOCK, shared=True)
    pdq: list[int] = []
    exact: set[tuple[str, str]] = set()
    for signal_type, value in session.execute(select(DeniedHash.signal_type, DeniedHash.value)):
        if signal_type == PDQ.key:
            pdq.append(int(value, 16))
        else:
            exact.add((signal_type, value))
    return DeniedList(DenyList(entries=tuple(pdq)), frozenset(exact))

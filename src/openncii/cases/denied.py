"""The helpline's own deny-list, kept in the database (table ``denied_hashes``).

Staff add hashes to it in the console's hash review (:mod:`openncii.review`); from then on no
case may hold them, exactly as the shipped list (:mod:`openncii.cases.denylist`) refuses trivial
images: a PDQ hash of any kind is refused within the match threshold of an entry, an MD5 or a
vPDQ signature when it is the same value. The list is read at each case creation (it is small:
one row per decision of a reviewer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openncii.cases.denylist import DenyList
from openncii.db.models import DeniedHash
from openncii.signals.registry import PDQ, PDQ_KEYS

__all__ = ["DeniedList", "deny_key", "load_denied"]


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


def load_denied(session: Session) -> DeniedList:
    """The entries, read in the caller's transaction."""
    pdq: list[int] = []
    exact: set[tuple[str, str]] = set()
    for signal_type, value in session.execute(select(DeniedHash.signal_type, DeniedHash.value)):
        if signal_type == PDQ.key:
            pdq.append(int(value, 16))
        else:
            exact.add((signal_type, value))
    return DeniedList(DenyList(entries=tuple(pdq)), frozenset(exact))

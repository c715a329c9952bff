"""Bursts of cases from one client network, flagged when a case is stored.

Each case opened by a person keeps an HMAC of its client network for
:data:`~openncii.cases.abuse.NETWORK_DAYS` days (``case_networks``). A *burst* is at least
:attr:`BurstRule.cases` cases of one network within :attr:`BurstRule.minutes`; the console's
review queue lists their hashes (:mod:`openncii.review.queue`, reason ``network_burst``).

The flag is written when a case is stored (:func:`flag_burst`), not computed when the queue is
read: the new case counts its network's cases since ``minutes`` before it (one range of the
``(network, created_at)`` index) and, when they are ``cases`` or more, marks them all
(``case_networks.burst``). Cases are stored in the order of their times, so this marks exactly
the cases of every span shorter than ``minutes`` that holds ``cases`` cases, the rule the queue
applied at read time before. Two cases of one network stored at the same moment take turns (a
transaction-level advisory lock per network on PostgreSQL, :func:`lock_network`; SQLite's
writers take turns anyway), so the second one counts the first. The queue computes the flags
again, over the whole table, when it reads them with another rule than the one they were
written with (:func:`openncii.review.bursts.sync_bursts`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from sqlalchemy import Connection, func, select, update

from openncii.db.locks import advisory_xact_lock
from openncii.db.models import CaseNetwork

if TYPE_CHECKING:
    from openncii.settings import Settings

__all__ = ["BurstRule", "flag_burst", "lock_network"]

#: The first key of the per-network advisory locks ("NETW"; the second is the network's).
_NETWORK_LOCKS: Final = 0x4E45_5457


@dataclass(frozen=True, slots=True)
class BurstRule:
    """At least ``cases`` cases of one network within ``minutes`` are a burst (the settings
    ``review_burst_cases`` and ``review_burst_minutes``; these defaults are theirs)."""

    cases: int = 10
    minutes: int = 60

    @classmethod
    def from_settings(cls, settings: Settings) -> BurstRule:
        return cls(cases=settings.review_burst_cases, minutes=settings.review_burst_minutes)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    @property
    def fingerprint(self) -> str:
        """What ``review_scans`` keeps of the rule the stored flags were computed with."""
        return f"{self.cases}:{self.minutes}"


def lock_network(connection: Connection, network: str) -> None:
    """Take the advisory lock of ``network`` until the transaction ends (PostgreSQL; nothing
    to do on SQLite). Call it before the case's first write: a case waiting here then holds
    no row another case of the network may wait for."""
    key = int.from_bytes(hashlib.sha256(network.encode()).digest()[:4], "big", signed=True)
    advisory_xact_lock(connection, _NETWORK_LOCKS, key)


def flag_burst(connection: Connection, network: str, now: datetime, rule: BurstRule) -> None:
    """Mark the cases of ``network`` since ``rule.minutes`` before ``now`` (the case just
    stored among them) if they are ``rule.cases`` or more: one statement."""
    recent = (CaseNetwork.network == network) & (CaseNetwork.created_at > now - rule.window)
    counted = select(func.count()).select_from(CaseNetwork).where(recent).scalar_subquery()
    connection.execute(
        update(CaseNetwork)
        .where(recent, CaseNetwork.burst.is_(False), counted >= rule.cases)
        .values(burst=True)
    )

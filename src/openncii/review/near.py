"""The ``near_denied`` reason, stored: PDQ hashes (of any kind) within the match threshold of
a deny-list entry, and hashes of other types equal to one, in ``review_near_denied``
(migration 0012).

A case cannot hold a hash near an entry (cases are refused at creation, see
:mod:`openncii.cases.denied`), so only hashes stored *before* an entry was added can be near
it: the bank is scanned once against each new entry, in the transaction that adds it
(:func:`prescan_entries` before the deny-list's lock, then :func:`flag_prescanned` and
:func:`flag_equal` under it: a case stored at the same moment is refused or seen by the scan,
:mod:`openncii.cases.denied` says how), and its flags go with it (:func:`unflag_entries`). The
shipped list and its extra file are scanned once for each version of the list:
``review_scans`` holds the fingerprint of the list the flags were computed for, and
:func:`sync_shipped` scans again only when it differs (the first queue read after a server
starts with another list). The scan reads the PDQ codes in batches and compares them with
numpy (:class:`openncii.index.PDQIndex`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, delete, insert, select, tuple_

from openncii.cases.denylist import DenyList
from openncii.db.feed_clock import read_feed_clock
from openncii.db.models import DeniedHash, HashRecord, ReviewNearDenied
from openncii.index import PDQIndex
from openncii.review.scans import resync
from openncii.signals.pdq import MATCH_THRESHOLD
from openncii.signals.registry import PDQ, PDQ_KEYS

__all__ = [
    "HELPLINE",
    "SHIPPED",
    "PreScan",
    "flag_entries",
    "flag_equal",
    "flag_helpline",
    "flag_helpline_equal",
    "flag_prescanned",
    "prescan_entries",
    "shipped_fingerprint",
    "sync_shipped",
    "unflag_entries",
]

SHIPPED: Final = "shipped"
HELPLINE: Final = "helpline"
_BATCH: Final = 50_000
#: Hash ids per ``IN`` list (SQLite takes at most 32,766 parameters a statement).
_IDS: Final = 10_000


def _codes(values: Sequence[str]) -> npt.NDArray[np.uint8]:
    return np.frombuffer(bytes.fromhex("".join(values)), dtype=np.uint8).reshape(-1, 32)


_Flag = dict[str, str | int]


def _search(
    connection: Connection, entries: Sequence[str], source: str, *, since: int | None = None
) -> list[_Flag]:
    """The flags of every PDQ hash near one of ``entries`` (hex); with ``since``, of those
    stamped at a feed position after it only."""
    if not entries:
        return []
    index = PDQIndex.build(_codes(entries))
    query = select(HashRecord.id, HashRecord.value).where(
        HashRecord.signal_type.in_(sorted(PDQ_KEYS))
    )
    if since is not None:
        query = query.where(HashRecord.feed_seq > since)
    rows = connection.execute(query.execution_options(yield_per=_BATCH))
    flags: list[_Flag] = []
    for chunk in rows.partitions(_BATCH):
        found = index.search_arrays(_codes([value for _, value in chunk]), MATCH_THRESHOLD)
        queries = np.repeat(np.arange(len(chunk)), np.diff(found.bounds))
        flags += [
            {
                "source": source,
                "entry": entries[int(row)],
                "hash_id": int(chunk[int(query)][0]),
                "distance": int(distance),
            }
            for query, row, distance in zip(
                queries.tolist(), found.rows.tolist(), found.distances.tolist(), strict=True
            )
        ]
    return flags


def _store(connection: Connection, flags: Sequence[_Flag]) -> int:
    """Store ``flags`` (each (source, entry, hash) once) of the hashes that still exist: the
    retention purge may have deleted one since it was read (locked here against that on
    PostgreSQL until the commit, as the foreign key would). How many were stored."""
    unique = list({(f["source"], f["entry"], f["hash_id"]): f for f in flags}.values())
    ids = sorted({int(f["hash_id"]) for f in unique})
    kept: set[int] = set()
    for start in range(0, len(ids), _IDS):
        query = select(HashRecord.id).where(HashRecord.id.in_(ids[start : start + _IDS]))
        kept.update(connection.scalars(query.with_for_update(key_share=True)))
    unique = [f for f in unique if f["hash_id"] in kept]
    if unique:  # written after the reads (one statement on the connection at a time)
        connection.execute(insert(ReviewNearDenied), unique)
    return len(unique)


def _scan(connection: Connection, entries: Sequence[str], source: str) -> int:
    """Store the flags of every PDQ hash near one of ``entries`` (hex); how many were stored."""
    return _store(connection, _search(connection, entries, source))


@dataclass(frozen=True, slots=True)
class PreScan:
    """The flags of the helpline's new PDQ entries over the hashes stored so far, searched
    before the deny-list's lock is taken (:func:`prescan_entries`), and the feed position up to
    which every stored hash was searched."""

    seen: int
    entries: frozenset[str]
    flags: tuple[_Flag, ...]


def prescan_entries(connection: Connection, entries: Sequence[str]) -> PreScan:
    """Search the bank for ``entries`` (hex PDQ values about to be added) without any lock:
    the long part of adding them. The feed clock is read first: every hash stamped at or
    before it was committed then, so the search, a later statement, sees it."""
    seen = read_feed_clock(connection)
    unique = sorted(set(entries))
    return PreScan(seen, frozenset(unique), tuple(_search(connection, unique, HELPLINE)))


def flag_prescanned(connection: Connection, entries: Sequence[str], prescan: PreScan) -> int:
    """Flag the hashes near ``entries`` (hex PDQ values just added to the helpline's list,
    under the deny-list's lock; flags they had are computed again): the flags of ``prescan``,
    a search of the hashes stamped since it (every case stored since holds them; no other
    case is being stored: they wait for the lock) and a whole search for an entry it did not
    cover."""
    unique = sorted(set(entries))
    unflag_entries(connection, unique, HELPLINE)
    flags = [f for f in prescan.flags if f["entry"] in unique]
    missed = [e for e in unique if e not in prescan.entries]
    flags += _search(connection, missed, HELPLINE)
    flags += _search(connection, unique, HELPLINE, since=prescan.seen)
    return _store(connection, flags)


def unflag_entries(connection: Connection, entries: Sequence[str], source: str = HELPLINE) -> None:
    """Remove the flags of ``entries`` (hex PDQ values) of ``source``."""
    if entries:
        connection.execute(
            delete(ReviewNearDenied).where(
                ReviewNearDenied.source == source, ReviewNearDenied.entry.in_(list(entries))
            )
        )


def flag_entries(connection: Connection, entries: Sequence[str], source: str = HELPLINE) -> int:
    """Flag the hashes near ``entries`` (hex PDQ values, just added to the list of ``source``;
    flags they had are computed again), in the caller's transaction."""
    unique = sorted(set(entries))
    unflag_entries(connection, unique, source)
    return _scan(connection, unique, source)


def flag_equal(
    connection: Connection, entries: Sequence[tuple[str, str]], source: str = HELPLINE
) -> int:
    """Flag the hashes equal to ``entries`` ((signal type, value) of an MD5 or vPDQ entry just
    added; distance 0), in the caller's transaction."""
    unique = sorted(set(entries))
    unflag_entries(connection, [value for _, value in unique], source)
    if not unique:
        return 0
    rows = connection.execute(
        select(HashRecord.id, HashRecord.value).where(
            tuple_(HashRecord.signal_type, HashRecord.value).in_(unique)
        )
    ).all()
    if rows:
        flags = [
            {"source": source, "entry": value, "hash_id": int(hash_id), "distance": 0}
            for hash_id, value in rows
        ]
        connection.execute(insert(ReviewNearDenied), flags)
    return len(rows)


def flag_helpline(connection: Connection) -> int:
    """Compute the flags of every entry of ``denied_hashes`` again (migration 0012)."""
    connection.execute(delete(ReviewNearDenied).where(ReviewNearDenied.source == HELPLINE))
    values = connection.scalars(
        select(DeniedHash.value).where(DeniedHash.signal_type == PDQ.key)
    ).all()
    return _scan(connection, list(values), HELPLINE)


def flag_helpline_equal(connection: Connection) -> int:
    """Flag the hashes equal to the entries of ``denied_hashes`` that are not PDQ (migration
    0013)."""
    entries = connection.execute(
        select(DeniedHash.signal_type, DeniedHash.value).where(DeniedHash.signal_type != PDQ.key)
    ).all()
    return flag_equal(connection, [(kind, value) for kind, value in entries])


def shipped_fingerprint(shipped: DenyList) -> str:
    """A digest of the shipped list's entries (and the match threshold)."""
    digest = hashlib.sha256(f"{MATCH_THRESHOLD}:".encode())
    for entry in sorted(shipped.entries):
        digest.update(f"{entry:064x}".encode())
    return digest.hexdigest()


def sync_shipped(connection: Connection, shipped: DenyList) -> bool:
    """Flag the hashes near the shipped list if the stored flags are of another list (in the
    caller's transaction; the scan row is locked on PostgreSQL, so one server scans). Returns
    whether it scanned."""

    def rescan() -> None:
        connection.execute(delete(ReviewNearDenied).where(ReviewNearDenied.source == SHIPPED))
        _scan(connection, [f"{e:064x}" for e in shipped.entries], SHIPPED)

    return resync(connection, SHIPPED, shipped_fingerprint(shipped), rescan)

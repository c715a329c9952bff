"""The partner's local store: a SQLite file holding its copy of the hash bank.

One file, written by the sync client (``openncii partner sync``) and read by a matcher at the
same time (WAL mode: readers never wait for the writer, and see whole pages or nothing).

What it holds
-------------
- ``hashes``: one row per hash the feed sent, keyed by (``signal_type``, ``key``): the storage
  key (``"pdq"``, ``"md5"``, ``"vpdq"``) and the wire type, the value (for vPDQ the signature
  text; ``key`` is then its SHA-256 hex, the server's identifier), the opaque case references
  (``caseNumbers``: reference -> case status), ``CSPFeedbacks``, the feed status and
  ``lastModtimestamp``. PDQ rows (every kind: ``pdq``, ``pdq_trim``, ``pdq_square``,
  ``pdq_strip``) also keep the 32 raw bytes for :meth:`PartnerStore.pdq_codes` and
  :meth:`PartnerStore.pdq_bank`. The kind of a row (robust matching) is its signal type's:
  :func:`bank_kind`.
- A change feed for matchers: every insert, update and removal gives the row a new
  ``change_seq`` from one counter that only grows. A hash the feed withdraws (``Withdrawn``,
  ``Deleted``) becomes a *tombstone*: the row keeps its id, type and ``change_seq`` but loses its
  value and case references, so :meth:`PartnerStore.changes_since` can report the removal while
  the withdrawn value is gone from the partner's disk.
- The sync checkpoint (:class:`SyncState`), committed in the same transaction as each page's
  records: a sync killed at any moment resumes exactly where its last committed page ended.
- ``outcomes``: what this partner reported with ``SubmitFeedback`` and when.

The schema is versioned with ``PRAGMA user_version``; :meth:`PartnerStore.open` migrates older
files forward and refuses newer ones (:class:`~openncii.errors.PartnerStoreError`).

Durability: WAL with ``synchronous=NORMAL`` survives a crash or kill of the process at any point
(a power loss may lose the last pages, never consistency: the checkpoint is in the same
transaction as the records, so they are fetched again).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from openncii.errors import PartnerStoreError
from openncii.partner._wire import CSPFeedback, HashRecord
from openncii.signals.registry import (
    PDQ,
    PDQ_TYPES,
    VPDQ,
    SignalType,
    by_key,
    keys,
)
from openncii.signals.variants import Kind

__all__ = [
    "BANK_KINDS",
    "SCHEMA_VERSION",
    "ChangeSet",
    "Outcome",
    "PageCounts",
    "PartnerStore",
    "PdqBank",
    "StoredHash",
    "SyncState",
    "bank_kind",
]

#: ``PRAGMA user_version`` of the current schema.
SCHEMA_VERSION: Final = 1
_BUSY_TIMEOUT_MS: Final = 30_000
#: WAL pages before an automatic checkpoint (SQLite's default: 1000). A sync writes three
#: B-trees keyed by random hashes; checkpointing every 4 MB of WAL cost a third of a full sync's
#: time: 10,000 pages (40 MB) took a 200,000-record load from 35,000 to 48,000-52,000 records/s.
_WAL_CHECKPOINT_PAGES: Final = 10_000
_CHUNK: Final = 10_000
#: Page cache per connection, in KiB (negative: a size, not a page count): the key index of a
#: large bank is touched at random by every page of a sync.
_CACHE_KIB: Final = -65536

_SCHEMA_V1: Final = """
CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value TEXT
) WITHOUT ROWID;
CREATE TABLE hashes (
    id            INTEGER PRIMARY KEY,
    signal_type   TEXT NOT NULL,
    wire_type     TEXT NOT NULL,
    key           TEXT,
    value         TEXT,
    pdq           BLOB,
    status        TEXT NOT NULL,
    active        INTEGER NOT NULL,
    case_refs     TEXT NOT NULL DEFAULT '{}',
    csp_feedbacks TEXT NOT NULL DEFAULT '[]',
    last_modified INTEGER NOT NULL,
    change_seq    INTEGER NOT NULL,
    generation    INTEGER NOT NULL
);
CREATE UNIQUE INDEX ux_hashes_key ON hashes (signal_type, key);
CREATE INDEX ix_hashes_change_seq ON hashes (change_seq);
CREATE INDEX ix_hashes_active ON hashes (signal_type, active, id);
CREATE TABLE outcomes (
    id          INTEGER PRIMARY KEY,
    hash_value  TEXT NOT NULL,
    signal_type TEXT,
    feedback    TEXT NOT NULL,
    tags        TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    recorded    INTEGER NOT NULL
);
CREATE INDEX ix_outcomes_hash ON outcomes (hash_value);
"""

#: The kinds of the PDQ rows, in the order :attr:`PdqBank.kinds` numbers them.
BANK_KINDS: Final[tuple[Kind, ...]] = tuple(Kind(t.variant_kind) for t in PDQ_TYPES)
_KIND_NUMBER: Final[dict[str, int]] = {t.key: n for n, t in enumerate(PDQ_TYPES)}


def bank_kind(signal_type: str) -> Kind | None:
    """The robust-matching kind of a stored row of ``signal_type`` (``"pdq"`` -> ``full``,
    ``"pdq_square"`` -> ``square``, ...), or ``None`` for a video's row. Pair it with a query
    hash's kind through :func:`openncii.signals.variants.pair_threshold`."""
    number = _KIND_NUMBER.get(signal_type)
    return None if number is None else BANK_KINDS[number]


@dataclass(frozen=True, slots=True)
class PdqBank:
    """Every active PDQ row of every kind: ``codes`` ``(N, 32)`` uint8, the parallel row
    ``ids`` (int64, ascending), ``kinds`` (uint8: an index into :data:`BANK_KINDS`) and the
    ``seq`` of the snapshot (pass it to :meth:`PartnerStore.changes_since`)."""

    codes: npt.NDArray[np.uint8]
    ids: npt.NDArray[np.int64]
    kinds: npt.NDArray[np.uint8]
    seq: int


#: Migration steps: ``_MIGRATIONS[v]`` takes a store from version ``v`` to ``v + 1``.
_MIGRATIONS: Final[tuple[str, ...]] = (_SCHEMA_V1,)


@dataclass(frozen=True, slots=True)
class StoredHash:
    """One row of the store.

    ``id`` is stable for the life of the row (an index built on the store can use it as its row
    id). ``value`` and ``key`` are ``None`` for a removed hash (a tombstone, ``active`` false).
    ``case_refs`` maps opaque case references to case status (``"Active"``, ``"Withdrawn"``).
    """

    id: int
    signal_type: str
    wire_type: str
    value: str | None
    key: str | None
    status: str
    active: bool
    case_refs: Mapping[str, str]
    feedbacks: tuple[CSPFeedback, ...]
    last_modified: int
    change_seq: int

    def __repr__(self) -> str:
        shown = "None" if self.key is None else f"{self.key[:4]}…"
        return (
            f"StoredHash(id={self.id}, signal_type={self.signal_type!r}, key={shown}, "
            f"status={self.status!r}, change_seq={self.change_seq})"
        )


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """What changed after a ``change_seq``: rows added or updated (active ones, with values),
    rows removed (tombstones: ``id`` and ``signal_type`` say what to drop), and the ``seq`` to
    pass next time. A row changed several times appears once, in its latest state."""

    upserted: tuple[StoredHash, ...]
    removed: tuple[StoredHash, ...]
    seq: int


@dataclass(frozen=True, slots=True)
class SyncState:
    """The sync checkpoint.

    ``start_timestamp`` is the server's ``nextSetTimestamp`` the current (or next) fetch starts
    from; ``page_token`` the ``nextPageToken`` to continue an interrupted fetch with (``None``
    between fetches). ``checkpoint_at`` is when (client clock, UTC) the last fetch completed;
    ``None`` before the first. ``server`` is the partner API the store was synced with.
    ``resyncing`` is true while a full resync is under way (``resync_reason`` says why): at its
    end, every row the server did not send again is removed.
    """

    start_timestamp: int = 0
    page_token: str | None = None
    checkpoint_at: datetime | None = None
    server: str | None = None
    generation: int = 0
    resyncing: bool = False
    resync_reason: str | None = None
    #: Whether the store's fetches asked for robust-matching variant records (a store synced
    #: without them is resynced in full once, to get the variants of photos already passed).
    variants: bool = False


@dataclass(slots=True)
class PageCounts:
    """What applying records did to the store."""

    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    def __iadd__(self, other: PageCounts) -> PageCounts:
        self.added += other.added
        self.updated += other.updated
        self.removed += other.removed
        self.unchanged += other.unchanged
        return self


@dataclass(frozen=True, slots=True)
class Outcome:
    """A feedback this partner sent: hash value, value, tags, when, and whether the server
    recorded it (``False``: the hash was not in the bank)."""

    hash_value: str
    signal_type: str | None
    feedback: str
    tags: tuple[str, ...]
    sent_at: datetime
    recorded: bool = True
    id: int | None = field(default=None, compare=False)


_COLUMNS: Final = (
    "id, signal_type, wire_type, value, key, status, active, case_refs, csp_feedbacks, "
    "last_modified, change_seq"
)


def _row(row: Sequence[Any]) -> StoredHash:
    feedbacks = tuple(
        CSPFeedback(f["feedbackValue"], tuple(f["tags"]), f["source"]) for f in orjson.loads(row[8])
    )
    return StoredHash(
        id=int(row[0]),
        signal_type=row[1],
        wire_type=row[2],
        value=row[3],
        key=row[4],
        status=row[5],
        active=bool(row[6]),
        case_refs=orjson.loads(row[7]),
        feedbacks=feedbacks,
        last_modified=int(row[9]),
        change_seq=int(row[10]),
    )


def _dump_refs(refs: Mapping[str, str]) -> str:
    if not refs:
        return "{}"
    return orjson.dumps(dict(refs), option=orjson.OPT_SORT_KEYS).decode()


def _dump_feedbacks(feedbacks: Sequence[CSPFeedback]) -> str:
    if not feedbacks:
        return "[]"
    return orjson.dumps(
        [{"feedbackValue": f.feedback, "tags": list(f.tags), "source": f.source} for f in feedbacks]
    ).decode()


class PartnerStore:
    """The local store (see the module docstring). Open with :meth:`open`; thread-safe (one
    connection behind a lock); open one per process. Use as a context manager or :meth:`close`.

    Matcher API: :meth:`active`, :meth:`pdq_codes`, :meth:`get`, :meth:`rows`,
    :meth:`changes_since`, :attr:`change_seq`, :meth:`counts`.
    Sync API (used by :class:`~openncii.partner.FeedClient`): :meth:`sync_state`,
    :meth:`begin_full_resync`, :meth:`apply_page`, :meth:`restart_fetch`, :meth:`sync_lock`.
    Partner outcomes: :meth:`record_outcome`, :meth:`outcomes`.
    """

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self._lock = threading.RLock()
        self.path = path

    # Opening -------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path) -> PartnerStore:
        """Open (creating it and its directory if needed) and migrate the store at ``path``."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            connection = sqlite3.connect(
                target,
                timeout=_BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise PartnerStoreError(f"Cannot open the partner store {target}: {exc}") from None
        try:
            connection.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            connection.execute(f"PRAGMA wal_autocheckpoint = {_WAL_CHECKPOINT_PAGES}")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA cache_size = {_CACHE_KIB}")
            store = cls(connection, target)
            store._migrate()
        except sqlite3.DatabaseError as exc:
            connection.close()
            raise PartnerStoreError(
                f"{target} is not an OpenNCII partner store ({exc}); choose another --store path."
            ) from None
        except BaseException:
            connection.close()
            raise
        return store

    def _migrate(self) -> None:
        version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise PartnerStoreError(
                f"The partner store {self.path} was written by a newer OpenNCII (schema "
                f"{version}, this one reads up to {SCHEMA_VERSION}); upgrade OpenNCII."
            )
        if version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise PartnerStoreError(f"{self.path} is a SQLite file but not a partner store.")
        while version < SCHEMA_VERSION:
            with self._write():
                # Re-read inside the write lock: another process may have migrated meanwhile.
                version = int(self._db.execute("PRAGMA user_version").fetchone()[0])
                if version >= SCHEMA_VERSION:
                    break
                for statement in _MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                version += 1
                self._db.execute(f"PRAGMA user_version = {version}")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> PartnerStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``), committed on success."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every query inside sees the same snapshot."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    # Meta ----------------------------------------------------------------------------------------

    def _meta(self, db: sqlite3.Connection) -> dict[str, str | None]:
        return dict(db.execute("SELECT name, value FROM meta").fetchall())

    @staticmethod
    def _set_meta(db: sqlite3.Connection, values: Mapping[str, str | int | None]) -> None:
        db.executemany(
            "INSERT INTO meta (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [(name, None if v is None else str(v)) for name, v in values.items()],
        )

    @staticmethod
    def _state_from(meta: Mapping[str, str | None]) -> SyncState:
        at = meta.get("checkpoint_at")
        return SyncState(
            start_timestamp=int(meta.get("start_timestamp") or 0),
            page_token=meta.get("page_token") or None,
            checkpoint_at=datetime.fromisoformat(at) if at else None,
            server=meta.get("server") or None,
            generation=int(meta.get("generation") or 0),
            resyncing=meta.get("resyncing") == "1",
            resync_reason=meta.get("resync_reason") or None,
            variants=meta.get("variants") == "1",
        )

    def sync_state(self) -> SyncState:
        """The saved checkpoint."""
        with self._read() as db:
            return self._state_from(self._meta(db))

    @property
    def change_seq(self) -> int:
        """The latest ``change_seq`` given to a row (0 for an empty store)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()
        return int(row[0]) if row and row[0] else 0

    # Sync ----------------------------------------------------------------------------------------

    @contextmanager
    def sync_lock(self) -> Iterator[None]:
        """Hold the store's sync lock (a ``flock`` on ``<store>.sync-lock``, released by the
        system if the process dies): one sync at a time per store. Readers are never blocked.
        :class:`PartnerStoreError` at once if another sync holds it. (No lock where ``fcntl``
        does not exist.)"""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".sync-lock")
        with lock_path.open("a") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise PartnerStoreError(
                    f"Another sync is using the partner store {self.path}; let it finish."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def begin_full_resync(self, server: str, reason: str | None = None) -> SyncState:
        """Start a full fetch from the beginning for ``server``: a new generation, checkpoint 0.

        Rows stay readable meanwhile; when the fetch completes (:meth:`apply_page` with
        ``complete=True``) every row the server did not send again is removed.
        """
        with self._write() as db:
            state = self._state_from(self._meta(db))
            self._set_meta(
                db,
                {
                    "start_timestamp": 0,
                    "page_token": None,
                    "server": server,
                    "generation": state.generation + 1,
                    "resyncing": 1,
                    "resync_reason": reason,
                    "variants": 1,
                },
            )
            return self._state_from(self._meta(db))

    def restart_fetch(self) -> None:
        """Forget the in-progress page token (expired or refused): the fetch starts again from
        ``start_timestamp`` (records already stored are simply sent again)."""
        with self._write() as db:
            self._set_meta(db, {"page_token": None})

    def apply_page(
        self,
        records: Sequence[HashRecord],
        *,
        next_page_token: str | None,
        next_start_timestamp: int | None,
        now: datetime,
    ) -> PageCounts:
        """Store one page of records and the new checkpoint in ONE transaction.

        ``next_page_token`` is the token to continue this fetch with (``None`` when the page was
        the last). ``next_start_timestamp`` is the server's ``nextSetTimestamp`` to save when the
        page was the last of the fetch (``None`` otherwise: the fetch's start is kept). When a
        fetch completes during a full resync, rows not sent again are removed.
        """
        # Last record for a key wins (a page should not repeat a key; if it does, the later one).
        latest: dict[tuple[str, str], HashRecord] = {}
        for record in records:
            latest[(record.signal_type, record.key)] = record
        counts = PageCounts()
        with self._write() as db:
            meta = self._meta(db)
            state = self._state_from(meta)
            seq = int(meta.get("change_seq") or 0)
            generation = state.generation
            existing = self._existing(db, latest.keys())
            inserts: list[tuple[Any, ...]] = []
            updates: list[tuple[Any, ...]] = []
            touches: list[tuple[int, int]] = []
            removals: list[tuple[str, int, int, int]] = []
            for key, record in latest.items():
                found = existing.get(key)
                refs, feedbacks = _dump_refs(record.case_refs), _dump_feedbacks(record.feedbacks)
                if not record.active:
                    if found is not None:
                        seq += 1
                        removals.append((record.status, record.last_modified, seq, found[0]))
                        counts.removed += 1
                    continue
                content = (record.status, refs, feedbacks, record.last_modified)
                if found is None:
                    seq += 1
                    inserts.append(
                        (
                            record.signal_type,
                            record.wire_type,
                            record.key,
                            record.value,
                            _pdq_bytes(record),
                            *content,
                            seq,
                            generation,
                        )
                    )
                    counts.added += 1
                elif found[1:5] != content:
                    seq += 1
                    updates.append((*content, seq, generation, found[0]))
                    counts.updated += 1
                else:
                    if found[5] != generation:
                        touches.append((generation, found[0]))
                    counts.unchanged += 1
            db.executemany(
                "INSERT INTO hashes (signal_type, wire_type, key, value, pdq, status, case_refs, "
                "csp_feedbacks, last_modified, change_seq, generation, active) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
                inserts,
            )
            db.executemany(
                "UPDATE hashes SET status = ?, case_refs = ?, csp_feedbacks = ?, "
                "last_modified = ?, change_seq = ?, generation = ?, active = 1 WHERE id = ?",
                updates,
            )
            db.executemany("UPDATE hashes SET generation = ? WHERE id = ?", touches)
            db.executemany(_TOMBSTONE, removals)
            values: dict[str, str | int | None] = {"page_token": next_page_token}
            if next_page_token is None:
                if next_start_timestamp is not None:
                    values["start_timestamp"] = next_start_timestamp
                values["checkpoint_at"] = now.astimezone(UTC).isoformat()
                if state.resyncing:
                    seq, swept = self._sweep(db, generation, seq)
                    counts.removed += swept
                    values["resyncing"] = 0
            values["change_seq"] = seq
            self._set_meta(db, values)
        return counts

    @staticmethod
    def _existing(
        db: sqlite3.Connection, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[Any, ...]]:
        by_type: dict[str, list[str]] = {}
        for signal_type, key in keys:
            by_type.setdefault(signal_type, []).append(key)
        found: dict[tuple[str, str], tuple[Any, ...]] = {}
        for signal_type, values in by_type.items():
            for start in range(0, len(values), 500):
                chunk = values[start : start + 500]
                marks = ",".join("?" * len(chunk))
                query = _EXISTING + f"({marks})"
                for row in db.execute(
                    query,
                    (signal_type, *chunk),
                ):
                    found[(signal_type, row[0])] = tuple(row[1:])
        return found

    @staticmethod
    def _sweep(db: sqlite3.Connection, generation: int, seq: int) -> tuple[int, int]:
        """Remove the active rows a completed full resync did not see again."""
        stale = [
            int(r[0])
            for r in db.execute(
                "SELECT id FROM hashes WHERE active = 1 AND generation < ? ORDER BY id",
                (generation,),
            )
        ]
        db.executemany(
            _TOMBSTONE.replace("last_modified = ?", "last_modified = last_modified + ?"),
            [("Withdrawn", 0, seq + i + 1, row_id) for i, row_id in enumerate(stale)],
        )
        return seq + len(stale), len(stale)

    # Matcher reads -------------------------------------------------------------------------------

    def active(self, signal_type: str) -> Iterator[StoredHash]:
        """Every active hash of ``signal_type`` (``"pdq"``, ``"md5"``, ``"vpdq"``) in id order,
        each with its ``value`` and ``case_refs``. Reads one snapshot, in chunks."""
        _check_type(signal_type)
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    f"SELECT {_COLUMNS} FROM hashes "  # noqa: S608 - constant column list
                    "WHERE signal_type = ? AND active = 1 AND id > ? ORDER BY id LIMIT ?",
                    (signal_type, after, _CHUNK),
                ).fetchall()
            for row in rows:
                yield _row(row)
            if len(rows) < _CHUNK:
                return
            after = int(rows[-1][0])

    def pdq_codes(self) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], int]:
        """Every active whole-image PDQ hash (kind ``full``, ``ImagePDQ``) as ``(codes, ids,
        seq)``: ``codes`` an ``(N, 32)`` uint8 array (bytes in the hex's order, as
        ``PDQIndex.build`` takes), ``ids`` the parallel row ids (``int64``, ascending) and
        ``seq`` the :attr:`change_seq` of this snapshot: pass it to :meth:`changes_since` to
        follow changes from there. :meth:`pdq_bank` gives every kind."""
        bank = self._pdq_rows((PDQ.key,))
        return bank.codes, bank.ids, bank.seq

    def pdq_bank(self) -> PdqBank:
        """Every active PDQ hash of every kind, with its kind (robust matching)."""
        return self._pdq_rows(tuple(t.key for t in PDQ_TYPES))

    def _pdq_rows(self, types: tuple[str, ...]) -> PdqBank:
        marks = ",".join("?" * len(types))
        with self._read() as db:
            seq_row = db.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()
            ids: list[int] = []
            blobs: list[bytes] = []
            kinds: list[int] = []
            cursor = db.execute(
                "SELECT id, pdq, signal_type FROM hashes "  # noqa: S608 - placeholders only
                f"WHERE signal_type IN ({marks}) AND active = 1 ORDER BY id",
                types,
            )
            number = _KIND_NUMBER
            while batch := cursor.fetchmany(_CHUNK):
                for row_id, blob, signal_type in batch:
                    ids.append(row_id)
                    blobs.append(blob)
                    kinds.append(number[signal_type])
        codes = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), 32).copy()
        seq = int(seq_row[0]) if seq_row and seq_row[0] else 0
        return PdqBank(
            codes, np.asarray(ids, dtype=np.int64), np.asarray(kinds, dtype=np.uint8), seq
        )

    def get(self, signal_type: str, value: str) -> StoredHash | None:
        """The row of one hash (active or not) by type and value (for vPDQ the signature text
        or its SHA-256 hex); ``None`` when the store does not hold it."""
        kind = _check_type(signal_type)
        key = value.strip().lower() if kind is not VPDQ else value
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM hashes WHERE signal_type = ? AND key = ?",  # noqa: S608
                (signal_type, key),
            ).fetchone()
            if row is None and kind is VPDQ:
                row = self._db.execute(
                    f"SELECT {_COLUMNS} FROM hashes WHERE signal_type = ? AND key = ?",  # noqa: S608
                    (signal_type, VPDQ.identity(value)),
                ).fetchone()
        return None if row is None else _row(row)

    def rows(self, ids: Iterable[int]) -> dict[int, StoredHash]:
        """The rows with these ids (e.g. an index's matches), by id; unknown ids are left out."""
        wanted = sorted({int(i) for i in ids})
        found: dict[int, StoredHash] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in self._db.execute(
                    f"SELECT {_COLUMNS} FROM hashes WHERE id IN ({marks})",  # noqa: S608
                    chunk,
                ):
                    found[int(row[0])] = _row(row)
        return found

    def changes_since(self, seq: int, limit: int | None = None) -> ChangeSet:
        """Rows changed after ``seq`` (a :attr:`change_seq`, or the ``seq`` of an earlier
        answer or of :meth:`pdq_codes`). ``limit`` bounds the rows read; the answer's ``seq`` is
        then where to continue. With ``limit=None`` the answer's ``seq`` is the store's current
        :attr:`change_seq` (all of one snapshot)."""
        with self._read() as db:
            query = f"SELECT {_COLUMNS} FROM hashes WHERE change_seq > ? ORDER BY change_seq"  # noqa: S608
            params: tuple[int, ...] = (seq,)
            if limit is not None:
                query += " LIMIT ?"
                params = (seq, max(1, limit))
            rows = [_row(r) for r in db.execute(query, params)]
            if limit is None or len(rows) < max(1, limit):
                current = db.execute("SELECT value FROM meta WHERE name = 'change_seq'").fetchone()
                new_seq = max(seq, int(current[0]) if current and current[0] else 0)
            else:
                new_seq = rows[-1].change_seq
        return ChangeSet(
            upserted=tuple(r for r in rows if r.active),
            removed=tuple(r for r in rows if not r.active),
            seq=new_seq,
        )

    def counts(self) -> dict[str, int]:
        """Active hashes per signal type (every type present, 0 when none)."""
        with self._lock:
            found = dict(
                self._db.execute(
                    "SELECT signal_type, count(*) FROM hashes WHERE active = 1 GROUP BY signal_type"
                ).fetchall()
            )
        return {t: int(found.get(t, 0)) for t in keys()}

    # Outcomes ------------------------------------------------------------------------------------

    def record_outcome(self, outcome: Outcome) -> Outcome:
        """Save a feedback this partner sent; returns it with its ``id``."""
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO outcomes (hash_value, signal_type, feedback, tags, sent_at, recorded)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    outcome.hash_value,
                    outcome.signal_type,
                    outcome.feedback,
                    orjson.dumps(list(outcome.tags)).decode(),
                    outcome.sent_at.astimezone(UTC).isoformat(),
                    int(outcome.recorded),
                ),
            )
            row_id = cursor.lastrowid
        return Outcome(
            outcome.hash_value,
            outcome.signal_type,
            outcome.feedback,
            outcome.tags,
            outcome.sent_at,
            outcome.recorded,
            id=row_id,
        )

    def outcomes(self, hash_value: str | None = None) -> list[Outcome]:
        """Feedback this partner sent (for one hash value, or all), oldest first."""
        query = (
            "SELECT id, hash_value, signal_type, feedback, tags, sent_at, recorded FROM outcomes"
        )
        params: tuple[str, ...] = ()
        if hash_value is not None:
            query += " WHERE hash_value = ?"
            params = (hash_value,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY id", params).fetchall()
        return [
            Outcome(
                r[1],
                r[2],
                r[3],
                tuple(orjson.loads(r[4])),
                datetime.fromisoformat(r[5]),
                bool(r[6]),
                id=int(r[0]),
            )
            for r in rows
        ]


_EXISTING: Final = (
    "SELECT key, id, status, case_refs, csp_feedbacks, last_modified, generation "
    "FROM hashes WHERE signal_type = ? AND key IN "
)
_TOMBSTONE: Final = (
    "UPDATE hashes SET status = ?, last_modified = ?, change_seq = ?, active = 0, key = NULL, "
    "value = NULL, pdq = NULL, case_refs = '{}', csp_feedbacks = '[]' WHERE id = ?"
)


def _pdq_bytes(record: HashRecord) -> bytes | None:
    return bytes.fromhex(record.value) if record.signal_type in _KIND_NUMBER else None


def _check_type(signal_type: str) -> SignalType:
    """The signal type stored as ``signal_type`` (an :class:`InvalidHashError`, a
    ``ValueError``, for an unknown one)."""
    return by_key(signal_type)

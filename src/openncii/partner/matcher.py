"""Match media and hashes against the partner's copy of the bank.

A :class:`Matcher` holds three in-memory structures built from the local store
(:mod:`openncii.partner.store`):

- PDQ image hashes of every kind (robust matching: ``full``, ``trim``, ``square``, ``strip``,
  each row's kind from its signal type) in a :class:`openncii.index.PDQIndex` (exact Hamming
  range search). An uploaded picture is queried with the hashes
  :func:`openncii.signals.variants.query_variants` computes (the dihedral variants, a ladder
  of squares, strips, trims), each hit kept when
  :func:`openncii.signals.variants.pair_threshold` allows its pair of kinds and distance; a
  bare PDQ query (with its dihedral variants) is a ``full`` query, compared with the ``full``
  and ``trim`` rows;
- MD5 video hashes in a dictionary (exact match);
- vPDQ video signatures: every usable frame of every signature in a second PDQ index, used to
  find candidate videos quickly; each candidate is then compared with the full vPDQ rule
  (:func:`openncii.signals.vpdq.vpdq_match`).

:meth:`Matcher.refresh` applies the store's changes since the last refresh (new, changed and
withdrawn records) without rebuilding, under a short lock, so a service keeps answering while
the bank changes. Nothing here speaks HTTP: :mod:`openncii.partner.matcher_app` does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, get_args

import numpy as np
import numpy.typing as npt

from openncii.errors import InvalidHashError
from openncii.hashing import FileHashes, hash_file
from openncii.index import PDQIndex, codes_from_hex
from openncii.signals.pdq import MATCH_THRESHOLD, MIN_QUALITY
from openncii.signals.registry import MD5, PDQ, VPDQ
from openncii.signals.variants import SEARCH_THRESHOLD, Kind, PdqVariant, pair_threshold
from openncii.signals.vpdq import (
    DEFAULT_MATCH_PERCENT,
    HashedFrame,
    VpdqFeature,
    parse_vpdq_text,
    vpdq_match,
)

if TYPE_CHECKING:
    from openncii.partner.store import PartnerStore, StoredHash

__all__ = [
    "PDQ_ROW_KINDS",
    "BankChanges",
    "BankRecord",
    "BankSnapshot",
    "BankSource",
    "Match",
    "Matcher",
    "PdqQuery",
    "SignalKind",
    "StoreBank",
]

#: The signal types the matcher matches (their storage keys; tests/test_signal_registry.py
#: checks them against the registry).
SignalKind = Literal["pdq", "md5", "vpdq", "pdq_trim", "pdq_square", "pdq_strip"]
#: The PDQ signal types of photos and their kinds (robust matching).
_PDQ_KINDS: Final[dict[str, Kind]] = {
    "pdq": Kind.FULL,
    "pdq_trim": Kind.TRIM,
    "pdq_square": Kind.SQUARE,
    "pdq_strip": Kind.STRIP,
}
#: PDQ rows' kinds as small numbers (:attr:`BankSnapshot.pdq_kinds`, the index's side table).
PDQ_ROW_KINDS: Final[tuple[Kind, ...]] = tuple(_PDQ_KINDS.values())
_KIND_NUMBER: Final[dict[Kind, int]] = {kind: n for n, kind in enumerate(PDQ_ROW_KINDS)}

#: Most queries one ``match_pdq`` or ``match_md5`` call takes (a request, not a bulk job).
MAX_QUERIES: Final = 10_000


@dataclass(frozen=True, slots=True)
class BankRecord:
    """One active record of the local bank.

    ``key`` is the store's stable row id; ``value`` the hash (lowercase hex) or, for vPDQ, the
    signature text (``frame,quality,hash,timestamp`` lines); ``case_refs`` the opaque case
    references the feed gave.
    """

    key: int
    signal: SignalKind
    value: str
    case_refs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BankChanges:
    """What changed in the store after a position: records to add or replace, keys to drop."""

    upserts: Sequence[BankRecord]
    removed: Sequence[int]
    position: int


@dataclass(frozen=True, slots=True)
class BankSnapshot:
    """The whole active bank at ``position``: PDQ hashes of every kind as codes with their keys
    (ascending) and kinds (``pdq_kinds``: numbers into :data:`PDQ_ROW_KINDS`; ``None``: all
    ``full``), and the (few) MD5 and vPDQ records in full."""

    pdq_codes: npt.NDArray[np.uint8]
    pdq_keys: npt.NDArray[np.int64]
    others: Sequence[BankRecord]
    position: int
    pdq_kinds: npt.NDArray[np.uint8] | None = None


class BankSource(Protocol):
    """Where a :class:`Matcher` reads the bank: the partner store, or anything shaped like it."""

    def bank_snapshot(self) -> BankSnapshot:
        """Every active record, as of one position."""
        ...

    def bank_changes(self, since: int) -> BankChanges:
        """Records changed after ``since`` and the new position."""
        ...

    def describe(self, keys: Iterable[int]) -> dict[int, BankRecord]:
        """The records with these keys (value and case references); missing keys left out."""
        ...


@dataclass(frozen=True, slots=True)
class PdqQuery:
    """A PDQ query: the hash and, optionally, its 8 dihedral variants (original first)."""

    hash: str
    dihedral: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """One bank record that matches one query.

    ``query`` is the position of the query in its list (the PDQ list, the MD5 list, the vPDQ
    list, or the list of pictures); ``signal`` the bank record's signal type (for a photo, its
    kind: ``pdq`` is ``full``, ``pdq_square`` a square...); ``hash`` the bank's value (for
    vPDQ the SHA-256 of the signature text, which
    the partner API accepts in feedback); ``distance`` the Hamming distance (0 for MD5 and vPDQ;
    for vPDQ ``detail`` holds the percentages of frames matched each way).
    """

    signal: SignalKind
    query: int
    key: int
    hash: str
    distance: int
    case_refs: tuple[str, ...]
    detail: dict[str, float] = field(default_factory=dict)
    #: Robust matching: the kind of the query hash that met the bank hash.
    query_kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The match as reports and the matcher service show it (``query`` aside)."""
        return {
            "signal_type": self.signal,
            "hash": self.hash,
            "distance": self.distance,
            "case_refs": list(self.case_refs),
            **self.detail,
            **({"query_kind": self.query_kind} if self.query_kind is not None else {}),
        }

    @property
    def kind(self) -> Kind | None:
        """The robust-matching kind of the bank's hash (``None`` for a video's)."""
        return _PDQ_KINDS.get(self.signal)


#: Rows added since the last build after which the next refresh rebuilds the index (off the
#: lock) instead of growing its unindexed delta segment.
_REBUILD_AFTER: Final = 20_000


class _PdqSet:
    """A PDQ index whose rows carry store keys.

    Built rows map to keys through a numpy array (``base_keys``, ascending), so ten million
    hashes cost 8 bytes each here; rows added later map through small dictionaries. A key may
    own several rows (the frames of one video).
    """

    def __init__(
        self,
        codes: npt.NDArray[np.uint8] | None = None,
        keys: npt.NDArray[np.int64] | None = None,
        kinds: npt.NDArray[np.uint8] | None = None,
    ) -> None:
        base = np.zeros((0, 32), dtype=np.uint8) if codes is None else codes
        # Merging is ours to decide (off the lock), never the index's (inside an add).
        self.index = PDQIndex.build(base, merge_threshold=2**31)
        self.base_keys = np.zeros(0, dtype=np.int64) if keys is None else keys
        # The kind of each key (robust matching): one byte per built row.
        self.base_kinds = np.zeros(len(self.base_keys), dtype=np.uint8) if kinds is None else kinds
        self.added_kind: dict[int, int] = {}  # key added after the build -> kind number
        self.base_live = np.ones(len(self.base_keys), dtype=bool)
        self.live = len(self.base_keys)
        self.added_owner: dict[int, int] = {}  # row added after the build -> key
        self.added_rows: dict[int, list[int]] = {}  # key -> rows added after the build
        self.added_since_build = 0

    def owner(self, row: int) -> int:
        if row < len(self.base_keys):
            return int(self.base_keys[row])
        return self.added_owner[row]

    def kind(self, row: int) -> Kind:
        """The kind of the key that owns ``row``."""
        if row < len(self.base_keys):
            return PDQ_ROW_KINDS[int(self.base_kinds[row])]
        return PDQ_ROW_KINDS[self.added_kind[self.added_owner[row]]]

    def _base_row(self, key: int) -> int | None:
        """The built row of ``key`` if it is still live."""
        position = int(np.searchsorted(self.base_keys, key))
        if (
            position < len(self.base_keys)
            and self.base_keys[position] == key
            and self.base_live[position]
        ):
            return position
        return None

    def rows_of(self, key: int) -> list[int]:
        rows = list(self.added_rows.get(key, ()))
        base = self._base_row(key)
        return rows if base is None else [*rows, base]

    def put(self, key: int, codes: npt.NDArray[np.uint8], kind: Kind = Kind.FULL) -> None:
        rows = self.rows_of(key)
        if len(rows) == len(codes) == 1 and np.array_equal(self.index.code(rows[0]), codes[0]):
            return  # the same hash (only its case references or feedback changed)
        self.drop(key)
        if len(codes) == 0:
            return
        rows = [int(r) for r in self.index.add(codes)]
        self.added_kind[key] = _KIND_NUMBER[kind]
        self.added_rows[key] = rows
        for row in rows:
            self.added_owner[row] = key
        self.live += len(rows)
        self.added_since_build += len(rows)

    def drop(self, key: int) -> None:
        self.added_kind.pop(key, None)
        rows = self.added_rows.pop(key, None) or []
        for row in rows:
            del self.added_owner[row]
        base = self._base_row(key)
        if base is not None:
            self.base_live[base] = False
            rows.append(base)
        if rows:
            self.index.remove(np.asarray(rows, dtype=np.int64))
            self.live -= len(rows)

    def search(self, codes: npt.NDArray[np.uint8], threshold: int) -> list[list[tuple[int, int]]]:
        if codes.shape[0] == 0 or self.live == 0:
            return [[] for _ in range(codes.shape[0])]
        return self.index.search(codes, threshold=threshold)


@dataclass(slots=True)
class _Video:
    digest: str  # SHA-256 of the signature text: how the feed keys a vPDQ record
    features: list[VpdqFeature]
    case_refs: tuple[str, ...]


def _usable_frames(features: Sequence[HashedFrame]) -> list[str]:
    return sorted({f.pdq for f in features if f.quality >= MIN_QUALITY})


class Matcher:
    """PDQ, MD5 and vPDQ matching against a bank that can change while it serves.

    Thread-safe: searches and refreshes may run from several threads. A refresh reads the store
    and parses outside the lock and holds it only to apply a batch of changes; when many rows
    were added since the index was built, it builds a new index from a fresh snapshot off the
    lock and swaps it in, so answers never pause for a rebuild.
    """

    def __init__(
        self,
        source: BankSource,
        *,
        threshold: int = MATCH_THRESHOLD,
        vpdq_match_percent: float = DEFAULT_MATCH_PERCENT,
        rebuild_after: int = _REBUILD_AFTER,
    ) -> None:
        if not 0 <= threshold <= 256:
            raise ValueError("threshold must be between 0 and 256 bits")
        self._source = source
        self.threshold = threshold
        self.vpdq_match_percent = vpdq_match_percent
        self._rebuild_after = rebuild_after
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._loaded = False
        self._position = 0
        self._pdq = _PdqSet()
        self._md5: dict[str, tuple[int, tuple[str, ...]]] = {}
        self._md5_of: dict[int, str] = {}
        self._frames = _PdqSet()
        self._videos: dict[int, _Video] = {}

    # ---------------------------------------------------------------------------------- bank

    @property
    def position(self) -> int:
        """The store position the in-memory bank reflects."""
        return self._position

    def counts(self) -> dict[SignalKind, int]:
        """How many active records of each kind the matcher holds."""
        with self._lock:
            return {"pdq": self._pdq.live, "md5": len(self._md5), "vpdq": len(self._videos)}

    def refresh(self) -> int:
        """Bring the bank up to date with the store; return how many records changed.

        The first call (and any call after many additions) loads a full snapshot.
        """
        with self._refresh_lock:
            if not self._loaded or self._pdq.added_since_build >= self._rebuild_after:
                return self._reload()
            return self._apply(self._source.bank_changes(self._position))

    def _reload(self) -> int:
        snapshot = self._source.bank_snapshot()
        # The slow part: off the lock.
        pdq = _PdqSet(snapshot.pdq_codes, snapshot.pdq_keys, snapshot.pdq_kinds)
        parsed = [(record, _parse(record)) for record in snapshot.others]
        with self._lock:
            self._pdq = pdq
            self._md5, self._md5_of = {}, {}
            self._frames, self._videos = _PdqSet(), {}
            for record, features in parsed:
                self._remember(record, features)
            self._position = snapshot.position
            self._loaded = True
        # Changes made between the snapshot and now are picked up at once.
        return (
            len(snapshot.pdq_keys)
            + len(parsed)
            + self._apply(self._source.bank_changes(self._position))
        )

    def _apply(self, changes: BankChanges) -> int:
        # Parse outside the lock: only the in-memory update holds it.
        parsed = [(record, _parse(record)) for record in changes.upserts]
        with self._lock:
            for key in changes.removed:
                self._forget(key)
            for record, features in parsed:
                self._forget(record.key)
                self._remember(record, features)
            self._position = max(self._position, changes.position)
        return len(changes.upserts) + len(changes.removed)

    def _forget(self, key: int) -> None:
        self._pdq.drop(key)
        md5 = self._md5_of.pop(key, None)
        if md5 is not None:
            del self._md5[md5]
        if self._videos.pop(key, None) is not None:
            self._frames.drop(key)

    def _remember(self, record: BankRecord, features: list[VpdqFeature] | None) -> None:
        kind = _PDQ_KINDS.get(record.signal)
        if kind is not None:
            self._pdq.put(record.key, codes_from_hex([record.value]), kind)
        elif record.signal == "md5":
            old = self._md5.get(record.value)
            if old is not None:  # the same MD5 under two keys: the newer wins
                self._md5_of.pop(old[0], None)
            self._md5[record.value] = (record.key, record.case_refs)
            self._md5_of[record.key] = record.value
        else:
            video = _Video(VPDQ.identity(record.value), features or [], record.case_refs)
            self._videos[record.key] = video
            self._frames.put(record.key, codes_from_hex(_usable_frames(video.features)))

    # ------------------------------------------------------------------------------ queries

    def match_pdq(self, queries: Sequence[PdqQuery], threshold: int | None = None) -> list[Match]:
        """Bank PDQ hashes within ``threshold`` bits of each query (or of any of its variants).

        For each (query, bank hash) pair the best distance over the variants is reported.
        Raises :class:`InvalidHashError` for a malformed hash (before searching anything).
        """
        limit = self.threshold if threshold is None else threshold
        if not 0 <= limit <= 256:
            raise ValueError("threshold must be between 0 and 256 bits")
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"at most {MAX_QUERIES} queries per call")
        owners: list[int] = []
        values: list[str] = []
        for position, query in enumerate(queries):
            for value in (query.hash, *query.dihedral):
                try:
                    values.append(PDQ.normalize(value))
                except InvalidHashError as exc:
                    raise InvalidHashError(f"pdq[{position}]: {exc}") from None
                owners.append(position)
        # A bare hash is a whole picture: it meets the whole (full, trim) rows only.
        kinds = [Kind.FULL] * len(values)

        def rule(query: Kind, bank: Kind) -> int | None:
            return None if pair_threshold(query, bank) is None else limit

        return self._search(owners, codes_from_hex(values), kinds, rule, limit)

    def match_variants(self, pictures: Sequence[Sequence[PdqVariant]]) -> list[Match]:
        """Bank photos matching each uploaded picture, given by its query hashes
        (:func:`openncii.signals.variants.query_variants`; ``openncii.query_file``): a hit
        counts when :func:`~openncii.signals.variants.pair_threshold` allows its pair of kinds
        at its distance. One match per (picture, bank hash), the smallest distance, with the
        kind of the query hash that met it (``query_kind``)."""
        if sum(len(p) for p in pictures) > MAX_QUERIES:
            raise ValueError(f"at most {MAX_QUERIES} query hashes per call")
        owners = [position for position, hashes in enumerate(pictures) for _ in hashes]
        flat = [v for hashes in pictures for v in hashes]
        codes = np.stack([v.as_code() for v in flat]) if flat else np.zeros((0, 32), dtype=np.uint8)
        kinds = [v.kind for v in flat]
        return self._search(owners, codes, kinds, pair_threshold, SEARCH_THRESHOLD)

    def _search(
        self,
        owners: Sequence[int],
        codes: npt.NDArray[np.uint8],
        kinds: Sequence[Kind],
        rule: Callable[[Kind, Kind], int | None],
        limit: int,
    ) -> list[Match]:
        """Search the PDQ rows within ``limit``; keep a hit when ``rule(query kind, bank
        kind)`` allows its distance; the best distance per (owner, key), with the query kind
        it came from."""
        with self._lock:
            hits = self._pdq.search(codes, limit)
            best: dict[tuple[int, int], tuple[int, Kind]] = {}
            for owner, kind, found in zip(owners, kinds, hits, strict=True):
                for row, distance in found:
                    allowed = rule(kind, self._pdq.kind(row))
                    if allowed is None or distance > allowed:
                        continue
                    pair = (owner, self._pdq.owner(row))
                    if distance < best.get(pair, (257, kind))[0]:
                        best[pair] = (distance, kind)
        if not best:
            return []
        # Values and case references come from the store: ten million of them need not sit
        # in memory. A key withdrawn in between is simply left out.
        records = self._source.describe({key for _, key in best})
        matches = [
            Match(
                records[key].signal,
                owner,
                key,
                records[key].value,
                distance,
                records[key].case_refs,
                query_kind=kind.value if rule is pair_threshold else None,
            )
            for (owner, key), (distance, kind) in best.items()
            if key in records
        ]
        matches.sort(key=lambda m: (m.query, m.distance, m.key))
        return matches

    def match_md5(self, queries: Sequence[str]) -> list[Match]:
        """Bank MD5 hashes equal to each query. Raises :class:`InvalidHashError` if malformed."""
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"at most {MAX_QUERIES} queries per call")
        values: list[str] = []
        for position, query in enumerate(queries):
            try:
                values.append(MD5.normalize(query))
            except InvalidHashError as exc:
                raise InvalidHashError(f"md5[{position}]: {exc}") from None
        matches: list[Match] = []
        with self._lock:
            for position, value in enumerate(values):
                found = self._md5.get(value)
                if found is not None:
                    matches.append(Match("md5", position, found[0], value, 0, found[1]))
        return matches

    def match_vpdq(
        self, videos: Sequence[Sequence[HashedFrame]], threshold: int | None = None
    ) -> list[Match]:
        """Bank videos that match each query video by the vPDQ rule.

        Candidates are the bank videos with at least one frame within ``threshold`` of one of
        the query's usable frames; each candidate is then compared frame set against frame set.
        """
        limit = self.threshold if threshold is None else threshold
        matches: list[Match] = []
        for position, frames in enumerate(videos):
            try:
                usable = [PDQ.normalize(value) for value in _usable_frames(frames)]
            except InvalidHashError as exc:
                raise InvalidHashError(f"vpdq[{position}]: {exc}") from None
            with self._lock:
                hits = self._frames.search(codes_from_hex(usable), limit)
                candidates = {self._frames.owner(row) for found in hits for row, _ in found}
                videos_now = {key: self._videos[key] for key in candidates}
            for key in sorted(candidates):
                video = videos_now[key]
                result = vpdq_match(
                    frames,
                    video.features,
                    distance_threshold=limit,
                    match_percent=self.vpdq_match_percent,
                    dedupe=True,
                )
                if result.is_match:
                    matches.append(
                        Match(
                            "vpdq",
                            position,
                            key,
                            video.digest,
                            0,
                            video.case_refs,
                            {
                                "query_percent": result.query_percent,
                                "target_percent": result.target_percent,
                            },
                        )
                    )
        return matches

    def match_hashes(self, hashes: FileHashes) -> list[Match]:
        """Every match of one hashed file: an image by its query variants when it has them
        (``hashes.variants``, robust matching), else by PDQ with its dihedral variants; MD5;
        vPDQ. An image whose PDQ quality is below 50 (no variant of quality 50) is matched by
        MD5 only."""
        matches: list[Match] = []
        # A PDQ hash of low quality (a flat or blank picture) is close to many unrelated ones:
        # the reference discards it, and so do we.
        usable = hashes.pdq is not None and (hashes.quality or 0) >= MIN_QUALITY
        if hashes.variants is not None:
            # Robust matching: every query hash of the picture (each of quality >= 50), and
            # the file's own PDQ with its dihedral variants as whole-picture queries: hashes
            # enrolled at full resolution (stock clients, older cases) are closest to those.
            queries = list(hashes.variants)
            if usable and hashes.pdq is not None:
                quality = hashes.quality or 0
                queries.append(PdqVariant(hashes.pdq, Kind.FULL, quality))
                queries += [PdqVariant(d, Kind.DIHEDRAL, quality) for d in hashes.dihedral or ()]
            if queries:
                matches += self.match_variants([queries])
        elif usable and hashes.pdq is not None:
            matches += self.match_pdq([PdqQuery(hashes.pdq, hashes.dihedral or ())])
        matches += self.match_md5([hashes.md5])
        if hashes.vpdq:
            matches += self.match_vpdq([hashes.vpdq])
        return matches

    def match_file(self, path: str | Path) -> tuple[FileHashes, list[Match]]:
        """Hash one image (with its robust-matching query variants) or video and match it.

        Raises :class:`openncii.MediaError` for files that cannot be hashed.
        """
        hashes = hash_file(path, dihedral=True, variants="query")
        return hashes, self.match_hashes(hashes)


def _parse(record: BankRecord) -> list[VpdqFeature] | None:
    if record.signal != "vpdq":
        return None
    try:
        return parse_vpdq_text(record.value)
    except InvalidHashError:
        return []  # an unusable signature: held by its key, never matches


class StoreBank:
    """A :class:`BankSource` over an open :class:`openncii.partner.store.PartnerStore`.

    Case references are those of the record's active cases (a hash held by a withdrawn case
    and an active one is reported with the active one only).
    """

    def __init__(self, store: PartnerStore) -> None:
        self._store = store

    def bank_snapshot(self) -> BankSnapshot:
        from openncii.partner.store import BANK_KINDS

        bank = self._store.pdq_bank()
        # The store's kind numbers, as this module numbers them.
        renumber = np.asarray([_KIND_NUMBER[kind] for kind in BANK_KINDS], dtype=np.uint8)
        others = [_record(row) for signal in (MD5, VPDQ) for row in self._store.active(signal.key)]
        return BankSnapshot(
            bank.codes,
            bank.ids,
            [r for r in others if r is not None],
            bank.seq,
            renumber[bank.kinds],
        )

    def bank_changes(self, since: int) -> BankChanges:
        changes = self._store.changes_since(since)
        upserts = [r for r in (_record(row) for row in changes.upserted) if r is not None]
        return BankChanges(upserts, [row.id for row in changes.removed], changes.seq)

    def describe(self, keys: Iterable[int]) -> dict[int, BankRecord]:
        found = self._store.rows(keys)
        records = {key: _record(row) for key, row in found.items()}
        return {key: record for key, record in records.items() if record is not None}


_SIGNALS: Final[dict[str, SignalKind]] = {kind: kind for kind in get_args(SignalKind)}


def _record(row: StoredHash) -> BankRecord | None:
    signal = _SIGNALS.get(row.signal_type)
    if not row.active or row.value is None or signal is None:
        return None
    refs = tuple(ref for ref, status in row.case_refs.items() if status == "Active")
    return BankRecord(row.id, signal, row.value, refs or tuple(row.case_refs))

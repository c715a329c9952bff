"""The bank as a scan reads it: :class:`BankData` (plain arrays), :class:`Bank` (searchable),
and a per-process cache so that each worker process builds or maps the index once.

A bank here holds **no case references**: only each record's bank key (the partner store's
row id), its hash and, for PDQ, its kind (the region of the photo it was made from, see
:mod:`openncii.signals.variants`). Case references stay in the partner store and are joined
back by key (``openncii partner import-matches``). The same bank serves ``openncii partner
scan``'s worker processes and Spark executors.

A bank is identified by its **checksum** (SHA-256 of its content): :func:`open_bank` keeps one
:class:`Bank` per checksum in each process and, given a cache folder, saves the built index
there once so that every other process of the machine maps the same file
(:meth:`openncii.index.PDQIndex.load`) instead of building its own copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from openncii.index import PDQIndex
from openncii.partner.matcher import (
    PDQ_ROW_KINDS,
    BankChanges,
    BankRecord,
    BankSnapshot,
    BankSource,
    Matcher,
    SignalKind,
)
from openncii.partner.rules import BANK_KINDS
from openncii.signals.variants import Kind

__all__ = [
    "Bank",
    "BankData",
    "bank_data_from_source",
    "cached_banks",
    "open_bank",
    "snapshot_pdq_kinds",
]

#: Layout of a bank folder written by :meth:`Bank.save`.
_FOLDER_VERSION: Final = 1
_KIND_CODES: Final = {kind.value: code for code, kind in enumerate(BANK_KINDS)}


def snapshot_pdq_kinds(snapshot: BankSnapshot) -> list[str]:
    """The kind of each PDQ record of a store snapshot, in the order of its keys (the store
    keeps it; a snapshot without kinds holds whole-photo hashes only: ``full``)."""
    if snapshot.pdq_kinds is None:
        return [Kind.FULL.value] * len(snapshot.pdq_keys)
    names = np.asarray([kind.value for kind in PDQ_ROW_KINDS], dtype=object)
    return [str(name) for name in names[snapshot.pdq_kinds]]


@dataclass(frozen=True, eq=False)
class BankData:
    """One bank snapshot as arrays: PDQ records (keys ascending, codes, kind codes: positions
    in :data:`openncii.partner.rules.BANK_KINDS`) and the MD5 and vPDQ records (without case
    references). ``sequence`` is the store's change position; ``checksum`` identifies the
    content (:meth:`create` computes it)."""

    pdq_keys: npt.NDArray[np.int64]
    pdq_codes: npt.NDArray[np.uint8]
    pdq_kinds: npt.NDArray[np.uint8]
    others: tuple[BankRecord, ...]
    sequence: int
    checksum: str

    @classmethod
    def create(
        cls,
        keys: npt.ArrayLike,
        codes: npt.ArrayLike,
        kinds: Iterable[str],
        others: Iterable[BankRecord],
        sequence: int,
    ) -> BankData:
        """Check and order the records (by key) and compute the checksum.

        Raises ``ValueError`` for an unknown kind, a malformed code array or repeated keys.
        """
        key_array = np.asarray(keys, dtype=np.int64).reshape(-1)
        code_array = np.asarray(codes, dtype=np.uint8)
        if code_array.size == 0:
            code_array = code_array.reshape(0, 32)
        if code_array.ndim != 2 or code_array.shape[1] != 32 or len(code_array) != len(key_array):
            raise ValueError("PDQ codes must be an (N, 32) array, one row per key")
        try:
            kind_array = np.asarray([_KIND_CODES[k] for k in kinds], dtype=np.uint8)
        except KeyError as exc:
            raise ValueError(f"unknown PDQ kind {exc.args[0]!r}") from None
        if len(kind_array) != len(key_array):
            raise ValueError("one PDQ kind per key")
        order = np.argsort(key_array, kind="stable")
        key_array, code_array, kind_array = key_array[order], code_array[order], kind_array[order]
        if len(key_array) > 1 and bool((np.diff(key_array) == 0).any()):
            raise ValueError("bank keys repeat")
        rest = tuple(
            sorted(
                (BankRecord(r.key, r.signal, r.value, ()) for r in others),
                key=lambda r: (r.signal, r.key),
            )
        )
        digest = hashlib.sha256()
        digest.update(np.ascontiguousarray(key_array).astype("<i8").tobytes())
        digest.update(np.ascontiguousarray(code_array).tobytes())
        digest.update(np.ascontiguousarray(kind_array).tobytes())
        for record in rest:
            digest.update(f"{record.signal}\0{record.key}\0{record.value}\0".encode())
        return cls(key_array, code_array, kind_array, rest, int(sequence), digest.hexdigest())

    def __len__(self) -> int:
        return len(self.pdq_keys) + len(self.others)

    def counts(self) -> dict[SignalKind, int]:
        """Records of each signal type."""
        return {
            "pdq": len(self.pdq_keys),
            "md5": sum(1 for r in self.others if r.signal == "md5"),
            "vpdq": sum(1 for r in self.others if r.signal == "vpdq"),
        }


def bank_data_from_source(source: BankSource) -> BankData:
    """The whole active bank of a source (the partner store's :class:`StoreBank`)."""
    snapshot = source.bank_snapshot()
    return BankData.create(
        snapshot.pdq_keys,
        snapshot.pdq_codes,
        snapshot_pdq_kinds(snapshot),
        snapshot.others,
        snapshot.position,
    )


class _Records:
    """A :class:`BankSource` over a bank's MD5 and vPDQ records (the matcher matches them)."""

    def __init__(self, records: Sequence[BankRecord]) -> None:
        self._records = {r.key: r for r in records}

    def bank_snapshot(self) -> BankSnapshot:
        empty = np.zeros((0, 32), dtype=np.uint8)
        return BankSnapshot(empty, np.zeros(0, dtype=np.int64), list(self._records.values()), 0)

    def bank_changes(self, since: int) -> BankChanges:
        return BankChanges((), (), since)

    def describe(self, keys: Iterable[int]) -> dict[int, BankRecord]:
        return {k: self._records[k] for k in keys if k in self._records}


class Bank:
    """A searchable bank: PDQ records in a :class:`PDQIndex` (row ``i`` is ``keys[i]``, of kind
    ``BANK_KINDS[kinds[i]]``), MD5 and vPDQ records in a :class:`Matcher`.

    Read-only once made; safe to search from several threads.
    """

    def __init__(
        self,
        index: PDQIndex,
        keys: npt.NDArray[np.int64],
        kinds: npt.NDArray[np.uint8],
        others: Sequence[BankRecord],
        *,
        sequence: int,
        checksum: str,
    ) -> None:
        self.index = index
        self.keys = keys
        self.kinds = kinds
        self.others = tuple(others)
        self.sequence = sequence
        self.checksum = checksum
        self._codes: npt.NDArray[np.uint8] | None = None
        self.others_matcher = Matcher(_Records(self.others))
        self.others_matcher.refresh()

    @classmethod
    def build(cls, data: BankData) -> Bank:
        """Index a bank snapshot (the slow part: ~3 s for 10M PDQ hashes)."""
        return cls(
            PDQIndex.build(data.pdq_codes),
            data.pdq_keys,
            data.pdq_kinds,
            data.others,
            sequence=data.sequence,
            checksum=data.checksum,
        )

    def __len__(self) -> int:
        return len(self.keys) + len(self.others)

    def codes(self) -> npt.NDArray[np.uint8]:
        """The PDQ codes, row by row (read from the index once, then kept)."""
        if self._codes is None:
            n = len(self.keys)
            codes = np.empty((n, 32), dtype=np.uint8)
            for row in range(n):
                codes[row] = self.index.code(row)
            self._codes = codes
        return self._codes

    def kind(self, row: int) -> Kind:
        """The kind of PDQ row ``row``."""
        return BANK_KINDS[int(self.kinds[row])]

    def save(self, folder: str | Path) -> Path:
        """Write the bank to ``folder`` (created; replaced whole if it exists) for :meth:`load`.

        The files are written to a sibling folder and renamed into place, so several processes
        racing to save the same bank leave one complete copy.
        """
        target = Path(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            self.index.save(partial / "index.pdq")
            np.save(partial / "keys.npy", np.ascontiguousarray(self.keys))
            np.save(partial / "kinds.npy", np.ascontiguousarray(self.kinds))
            others = [[r.key, r.signal, r.value] for r in self.others]
            (partial / "others.json").write_text(json.dumps(others), "utf-8")
            meta = {
                "version": _FOLDER_VERSION,
                "checksum": self.checksum,
                "sequence": self.sequence,
            }
            (partial / "bank.json").write_text(json.dumps(meta), "utf-8")
            try:
                partial.replace(target)
            except OSError:
                if not _complete(target, self.checksum):
                    shutil.rmtree(target, ignore_errors=True)
                    partial.replace(target)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
        return target

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True) -> Bank:
        """A bank written by :meth:`save`; with ``mmap`` its index and keys are mapped from
        the files (shared by every process of the machine). Raises ``ValueError`` for a folder
        that holds no complete bank."""
        source = Path(folder)
        try:
            meta = json.loads((source / "bank.json").read_text("utf-8"))
        except (OSError, ValueError):
            raise ValueError(f"{source} holds no saved bank") from None
        if meta.get("version") != _FOLDER_VERSION:
            raise ValueError(f"{source} holds a bank of another layout ({meta.get('version')!r})")
        keys = np.load(source / "keys.npy", mmap_mode="r" if mmap else None)
        kinds = np.load(source / "kinds.npy", mmap_mode="r" if mmap else None)
        records = json.loads((source / "others.json").read_text("utf-8"))
        others = [BankRecord(int(key), signal, value, ()) for key, signal, value in records]
        return cls(
            PDQIndex.load(source / "index.pdq", mmap=mmap),
            keys,
            kinds,
            others,
            sequence=int(meta["sequence"]),
            checksum=str(meta["checksum"]),
        )


def _complete(folder: Path, checksum: str) -> bool:
    try:
        meta = json.loads((folder / "bank.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(meta.get("checksum") == checksum and meta.get("version") == _FOLDER_VERSION)


_banks: dict[str, Bank] = {}
_banks_lock = threading.Lock()


def open_bank(checksum: str, data: Callable[[], BankData], cache_dir: Path | None = None) -> Bank:
    """The bank with this checksum, made once per process.

    Looked up in this process first; then, with ``cache_dir``, mapped from the folder a process
    of this machine saved there; else built from ``data()`` (called only then: reading a
    snapshot can be the slow part) and, with ``cache_dir``, saved there and mapped back so that
    other processes share it.
    """
    with _banks_lock:
        found = _banks.get(checksum)
        if found is not None:
            return found
        folder = None if cache_dir is None else Path(cache_dir) / checksum[:40]
        if folder is not None and _complete(folder, checksum):
            bank = Bank.load(folder)
        else:
            snapshot = data()
            if snapshot.checksum != checksum:
                raise ValueError("the bank changed while it was read (checksum differs)")
            bank = Bank.build(snapshot)
            if folder is not None:
                bank = Bank.load(bank.save(folder))
        _banks.clear()  # one bank per process at a time: an older snapshot is done with
        _banks[checksum] = bank
        return bank


def cached_banks() -> list[str]:
    """Checksums of the banks this process holds (for tests: one build per process)."""
    with _banks_lock:
        return list(_banks)

"""The bank snapshot file a cluster reads: Parquet, written by ``openncii partner export-bank``.

One row per active record: ``bank_key`` (the partner store's row id: how matches are joined
back to case references on the partner's side), ``signal_type`` (``pdq``, ``md5``, ``vpdq``),
``kind`` (for PDQ, the region of the photo the hash was made from; null otherwise) and ``code``
(the hash as lowercase hex; for vPDQ the signature text). **No case references**: the file may
travel to a cluster, an object store, another team.

The file's key-value metadata holds the format version (:data:`BANK_FORMAT`), the store's
change sequence number at export, the checksum of the content (that of
:class:`openncii.partner.bank.BankData`, checked on reading) and the counts. A reader refuses a
file of another format version, a damaged file, or one that is not a bank, before any work.

:func:`bank_delta` compares two snapshots: the records added or changed (a bank of their own, to
re-match stored hashes against only them) and the keys removed.

Paths may be local or any fsspec URI (``s3://``, ``gs://``, ``abfs://``: the filesystem's
package must be installed). Needs ``pyarrow`` (``pip install 'openncii[spark]'``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, get_args

import numpy as np
import numpy.typing as npt

from openncii.errors import ScanSetupError
from openncii.partner.bank import BankData
from openncii.partner.matcher import BankRecord, SignalKind
from openncii.partner.rules import BANK_KINDS

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "BANK_FORMAT",
    "BankDelta",
    "BankInfo",
    "bank_delta",
    "bank_table",
    "read_bank",
    "read_bank_info",
    "write_bank",
]

#: The format version of bank files this version writes and reads.
BANK_FORMAT: Final = 1
_META_PREFIX: Final = "openncii.bank."
_SIGNALS: Final[frozenset[str]] = frozenset(get_args(SignalKind))


@dataclass(frozen=True, slots=True)
class BankInfo:
    """What a bank file's metadata says (read without reading its rows)."""

    format: int
    sequence: int
    checksum: str
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class BankDelta:
    """What changed from one bank snapshot to the next: ``added`` holds the records that are
    new or whose hash or kind changed (a bank to match against), ``removed`` the keys of the
    records gone or changed (their earlier matches no longer hold)."""

    added: BankData
    removed: frozenset[int]


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the extra is installed for the tests
        raise ScanSetupError("bank files need pyarrow: pip install 'openncii[spark]'") from None
    return pa, pq


def bank_table(data: BankData) -> pa.Table:
    """The bank as an Arrow table with the file's columns and metadata."""
    pa, _ = _pyarrow()
    names = np.asarray([kind.value for kind in BANK_KINDS], dtype=object)
    n = len(data.pdq_keys)
    kinds = pa.concat_arrays(
        [pa.array(names[data.pdq_kinds], pa.string()), pa.nulls(len(data.others), pa.string())]
    )
    keys = pa.array(
        np.concatenate([data.pdq_keys, np.asarray([r.key for r in data.others], np.int64)])
    )
    signals = pa.array(["pdq"] * n + [r.signal for r in data.others], pa.string())
    # Hex of every code at once (a Python string per hash would take seconds at 10M).
    hexed = np.frombuffer(data.pdq_codes.tobytes().hex().encode("ascii"), dtype="S64")
    codes = pa.concat_arrays(
        [
            pa.array(hexed, pa.binary(64)).cast(pa.string()),
            pa.array([r.value for r in data.others], pa.string()),
        ]
    )
    meta = {
        "format": str(BANK_FORMAT),
        "sequence": str(data.sequence),
        "checksum": data.checksum,
        "counts": json.dumps(data.counts()),
    }
    schema = pa.schema(
        [
            ("bank_key", pa.int64()),
            ("signal_type", pa.string()),
            ("kind", pa.string()),
            ("code", pa.string()),
        ],
        metadata={f"{_META_PREFIX}{k}".encode(): v.encode() for k, v in meta.items()},
    )
    return pa.table([keys, signals, kinds, codes], schema=schema)


@contextmanager
def _open(uri: str | Path, mode: str) -> Iterator[IO[bytes]]:
    text = str(uri)
    if "://" not in text:
        path = Path(text)
        if mode == "wb":
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open(mode) as stream:
            yield stream
        return
    import fsspec

    with fsspec.open(text, mode) as stream:
        yield stream


def write_bank(data: BankData, uri: str | Path) -> None:
    """Write a bank snapshot file (Parquet, zstd) to a path or fsspec URI."""
    _, pq = _pyarrow()
    with _open(uri, "wb") as out:
        pq.write_table(bank_table(data), out, compression="zstd")


def _info(metadata: dict[bytes, bytes] | None, uri: str | Path) -> BankInfo:
    meta = {
        k.decode()[len(_META_PREFIX) :]: v.decode()
        for k, v in (metadata or {}).items()
        if k.decode(errors="replace").startswith(_META_PREFIX)
    }
    if "format" not in meta:
        raise ScanSetupError(f"{uri} is not an OpenNCII bank file (no bank metadata)")
    if meta["format"] != str(BANK_FORMAT):
        raise ScanSetupError(
            f"{uri} is a bank file of format {meta['format']}; this version of OpenNCII reads "
            f"format {BANK_FORMAT}: export it again with `openncii partner export-bank`"
        )
    try:
        return BankInfo(
            BANK_FORMAT, int(meta["sequence"]), meta["checksum"], json.loads(meta["counts"])
        )
    except (KeyError, ValueError):
        raise ScanSetupError(f"{uri} is a damaged bank file (its metadata)") from None


def read_bank_info(uri: str | Path) -> BankInfo:
    """The metadata of a bank file; raises :class:`ScanSetupError` for a missing file, one that
    is not a bank, or a bank of another format version."""
    _, pq = _pyarrow()
    try:
        with _open(uri, "rb") as stream:
            schema = pq.read_schema(stream)
    except FileNotFoundError:
        raise ScanSetupError(f"no bank file at {uri}") from None
    except (OSError, ValueError) as exc:
        if "://" in str(uri) and "not found" in str(exc).lower():
            raise ScanSetupError(f"no bank file at {uri}") from None
        raise ScanSetupError(f"{uri} is not an OpenNCII bank file ({exc})") from None
    return _info(schema.metadata, uri)


def read_bank(uri: str | Path) -> BankData:
    """Read a bank file; its checksum is verified. Raises :class:`ScanSetupError`."""
    info = read_bank_info(uri)
    _, pq = _pyarrow()
    import pyarrow.compute as pc

    try:
        with _open(uri, "rb") as stream:
            table = pq.read_table(stream, columns=["bank_key", "signal_type", "kind", "code"])
        is_pdq = pc.equal(table.column("signal_type"), "pdq")
        pdq = table.filter(is_pdq)
        rest = table.filter(pc.invert(is_pdq)).to_pylist()
        hexes = "".join(pdq.column("code").to_pylist())
        codes = np.frombuffer(bytes.fromhex(hexes), dtype=np.uint8).reshape(-1, 32)
        if len(codes) != pdq.num_rows:
            raise ValueError("a PDQ code is not 64 hex digits")
        pdq_keys = pdq.column("bank_key").to_numpy()
        pdq_kinds = pdq.column("kind").to_pylist()
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ScanSetupError(f"{uri} is a damaged bank file ({exc})") from None
    others: list[BankRecord] = []
    for row in rest:
        if row["signal_type"] not in _SIGNALS:
            signal = row["signal_type"]
            raise ScanSetupError(f"{uri} is a damaged bank file (signal type {signal!r})")
        others.append(BankRecord(row["bank_key"], row["signal_type"], row["code"], ()))
    try:
        data = BankData.create(pdq_keys, codes, pdq_kinds, others, info.sequence)
    except ValueError as exc:
        raise ScanSetupError(f"{uri} is a damaged bank file ({exc})") from None
    if data.checksum != info.checksum:
        raise ScanSetupError(f"{uri} is a damaged bank file (its checksum does not match)")
    return data


def _unchanged(old: BankData, new: BankData) -> npt.NDArray[np.bool_]:
    """For each PDQ record of ``new``: whether ``old`` holds it with the same hash and kind."""
    if len(old.pdq_keys) == 0 or len(new.pdq_keys) == 0:
        return np.zeros(len(new.pdq_keys), dtype=bool)
    at = np.minimum(np.searchsorted(old.pdq_keys, new.pdq_keys), len(old.pdq_keys) - 1)
    same: npt.NDArray[np.bool_] = (
        (old.pdq_keys[at] == new.pdq_keys)
        & (old.pdq_codes[at] == new.pdq_codes).all(axis=1)
        & (old.pdq_kinds[at] == new.pdq_kinds)
    )
    return same


def bank_delta(old: BankData, new: BankData) -> BankDelta:
    """The records of ``new`` that ``old`` lacks (by key, hash and kind), as a bank, and the keys
    of ``old`` that ``new`` lacks or changed."""
    keep = ~_unchanged(old, new)
    removed = {int(k) for k in old.pdq_keys[~_unchanged(new, old)]}
    old_others = {(r.signal, r.key): r.value for r in old.others}
    new_others = {(r.signal, r.key): r.value for r in new.others}
    added_others = [r for r in new.others if old_others.get((r.signal, r.key)) != r.value]
    removed |= {
        key for (signal, key), v in old_others.items() if new_others.get((signal, key)) != v
    }
    added = BankData.create(
        new.pdq_keys[keep],
        new.pdq_codes[keep],
        [BANK_KINDS[int(t)].value for t in new.pdq_kinds[keep]],
        added_others,
        new.sequence,
    )
    return BankDelta(added, frozenset(removed))

"""Exact Hamming range search over 256-bit PDQ codes: multi-index hashing with a C kernel.

Codes are ``(N, 32)`` uint8 arrays whose rows are the 32 bytes of the PDQ hex form
(``bytes.fromhex(hex)``: the big-endian 256-bit integer). See ``docs/index.md`` for the design
and the measurements behind it.

Layout: the 256 bits are cut into ``m`` chunks of consecutive bits (``m`` about
``256 / log2(N)``, so each chunk is about as wide as ``log2(N)`` bits). Each chunk has one table:
row ids sorted by the chunk's value (a counting sort), addressed directly by the top
``prefix_bits`` bits of the chunk (CSR offsets), with the remaining low bits kept per entry as a
uint8/uint16 "suffix". A search for threshold ``r`` gives chunk ``i`` a radius ``t_i`` with
``sum(t_i + 1) = r + 1`` (generalised pigeonhole: every code within ``r`` is within ``t_i`` on
at least one chunk), visits every prefix within ``t_i`` of the query's, keeps the entries whose
suffix is within the remaining budget and verifies those on all 256 bits. When the expected work
exceeds a linear scan (large thresholds, tiny indexes), the same kernel scans every code: the
answer is exact either way.

``add`` appends to a small delta segment searched by brute force and folded into the tables
when it grows past ``merge_threshold`` rows; ``remove`` sets tombstones. Row ids are stable and
never reused.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import numpy.typing as npt

from openncii.errors import InvalidHashError

if TYPE_CHECKING:
    from openncii.signals.pdq import PdqHash

try:
    from openncii.index import _mih
except ImportError:  # pragma: no cover - the extension is built by `pip install`
    _mih = None  # type: ignore[assignment]

__all__ = [
    "CODE_BYTES",
    "DEFAULT_THRESHOLD",
    "PDQIndex",
    "SearchArrays",
    "backend",
    "brute_force_search",
    "codes_from_hashes",
    "codes_from_hex",
    "dihedral_codes",
    "hex_from_codes",
]

CODE_BYTES: Final = 32
CODE_BITS: Final = 256
#: The PDQ match threshold.
DEFAULT_THRESHOLD: Final = 31
#: Indexes smaller than this are scanned (a scan of a few thousand codes beats any table).
_MIN_INDEXED_ROWS: Final = 4096
_MAX_ROWS: Final = 2**32 - 1
_DEFAULT_MERGE_THRESHOLD: Final = 32768

Codes = npt.NDArray[np.uint8]
Matches = list[list[tuple[int, int]]]
Method = Literal["auto", "tables", "scan"]

#: First bytes of a saved index (:meth:`PDQIndex.save`), then the layout version.
_FILE_MAGIC: Final = b"OPENNCII-PDQINDEX\n"
_FILE_VERSION: Final = 1
#: Arrays in a saved index start at multiples of this (page-friendly for ``mmap``).
_FILE_ALIGN: Final = 64

_POPCOUNT8: Final = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def backend() -> str:
    """``"c"`` when the compiled kernel is available, else ``"numpy"`` (exact but slow)."""
    return "c" if _mih is not None else "numpy"


# ---------------------------------------------------------------------------------------------
# Conversions


def codes_from_hex(hexes: Iterable[str]) -> Codes:
    """PDQ hex strings (64 hex characters each) to an ``(N, 32)`` uint8 array."""
    items = list(hexes)
    out = np.empty((len(items), CODE_BYTES), dtype=np.uint8)
    for i, text in enumerate(items):
        value = text.strip()
        if len(value) != 2 * CODE_BYTES:
            raise InvalidHashError(
                f"a PDQ hash is {2 * CODE_BYTES} hex characters, item {i} has {len(value)}"
            )
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raw = b""
        if len(raw) != CODE_BYTES:
            raise InvalidHashError(f"a PDQ hash may contain only hex digits 0-9 and a-f (item {i})")
        out[i] = np.frombuffer(raw, dtype=np.uint8)
    return out


def hex_from_codes(codes: npt.ArrayLike) -> list[str]:
    """An ``(N, 32)`` uint8 array to lowercase PDQ hex strings."""
    array = _as_codes(codes, "codes")
    return [bytes(row).hex() for row in array]


def codes_from_hashes(hashes: Iterable[PdqHash]) -> Codes:
    """:class:`~openncii.signals.pdq.PdqHash` values to an ``(N, 32)`` uint8 array."""
    rows = [h.as_code() for h in hashes]
    if not rows:
        return np.empty((0, CODE_BYTES), dtype=np.uint8)
    return np.stack(rows).astype(np.uint8, copy=False)


def dihedral_codes(hashes: Iterable[PdqHash]) -> Codes:
    """The eight dihedral variants of each hash as a ``(Q, 8, 32)`` array for
    :meth:`PDQIndex.search_dihedral`.

    The variants come from the DCT, so the hashes must have been computed from pixels
    (``pdq_from_rgb``); a hash parsed from hex has no dihedral variants
    (:class:`~openncii.errors.InvalidHashError`).
    """
    rows = [codes_from_hashes(h.dihedral()) for h in hashes]
    if not rows:
        return np.empty((0, 8, CODE_BYTES), dtype=np.uint8)
    return np.stack(rows)


def _as_codes(value: npt.ArrayLike, name: str) -> Codes:
    if not isinstance(value, np.ndarray):
        raise InvalidHashError(f"{name} must be a numpy array of shape (N, 32) and dtype uint8")
    if value.dtype != np.uint8:
        raise InvalidHashError(f"{name} must have dtype uint8, not {value.dtype}")
    if value.ndim != 2 or value.shape[1] != CODE_BYTES:
        raise InvalidHashError(f"{name} must have shape (N, 32), not {value.shape}")
    return np.ascontiguousarray(value)


def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer):
        raise ValueError("threshold must be an integer")
    value = int(threshold)
    if not 0 <= value <= CODE_BITS:
        raise ValueError(f"threshold must be between 0 and {CODE_BITS}, not {value}")
    return value


# ---------------------------------------------------------------------------------------------
# Brute force (the reference the index is tested against)


def brute_force_search(
    codes: npt.ArrayLike, queries: npt.ArrayLike, threshold: int = DEFAULT_THRESHOLD
) -> Matches:
    """Exact range search by scanning every code with numpy: ``(row, distance)`` per query,
    sorted by distance then row. Slow; the reference for tests and the fallback without the
    compiled kernel."""
    base = _as_codes(codes, "codes")
    query = _as_codes(queries, "queries")
    limit = _check_threshold(threshold)
    out: Matches = []
    block = 1 << 18
    for q in query:
        rows_parts: list[npt.NDArray[np.int64]] = []
        dist_parts: list[npt.NDArray[np.int64]] = []
        for start in range(0, len(base), block):
            chunk = base[start : start + block]
            dist = _POPCOUNT8[np.bitwise_xor(chunk, q)].sum(axis=1, dtype=np.int64)
            hit = np.flatnonzero(dist <= limit)
            rows_parts.append(hit.astype(np.int64) + start)
            dist_parts.append(dist[hit])
        if rows_parts:
            rows = np.concatenate(rows_parts)
            dists = np.concatenate(dist_parts)
            order = np.lexsort((rows, dists))
            out.append(list(zip(rows[order].tolist(), dists[order].tolist(), strict=True)))
        else:
            out.append([])
    return out


# ---------------------------------------------------------------------------------------------
# The index


@dataclass(frozen=True, slots=True)
class _Table:
    start: int
    width: int
    pbits: int
    offsets: npt.NDArray[np.uint32]
    entries: npt.NDArray[np.uint8]

    @property
    def nbytes(self) -> int:
        return int(self.offsets.nbytes + self.entries.nbytes)


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """What a search reads, published as one object so that a search running in another thread
    during :meth:`PDQIndex.add`, ``remove`` or ``merge`` sees a consistent index."""

    base: Codes
    tables: tuple[_Table, ...]
    delta: Codes
    removed: npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class SearchArrays:
    """Search results as flat arrays: the matches of query ``q`` are
    ``rows[bounds[q]:bounds[q + 1]]`` with ``distances[...]`` (sorted by distance, then row)."""

    bounds: npt.NDArray[np.int64]
    rows: npt.NDArray[np.int64]
    distances: npt.NDArray[np.int64]

    def to_lists(self) -> Matches:
        rows = self.rows.tolist()
        dists = self.distances.tolist()
        b = self.bounds.tolist()
        return [
            list(zip(rows[b[i] : b[i + 1]], dists[b[i] : b[i + 1]], strict=True))
            for i in range(len(b) - 1)
        ]


def _ball(bits: int, radius: int) -> int:
    """Number of bit patterns within ``radius`` of a ``bits``-bit value."""
    return sum(math.comb(bits, k) for k in range(min(radius, bits) + 1))


def default_tables(n: int) -> int:
    """The number of chunks for ``n`` codes: chunks about ``log2(n)`` bits wide, at most 12
    (5 bytes per hash per table: 12 tables keep an index under 100 bytes per hash; fewer, wider
    chunks also measured faster at 1M). 0: scan."""
    if n < _MIN_INDEXED_ROWS:
        return 0
    return max(8, min(12, round(CODE_BITS / math.log2(n))))


def default_prefix_bits(n: int) -> int:
    """Directly addressed prefix bits per chunk: about 8 codes per bucket."""
    return max(1, min(24, round(math.log2(max(n, 2) / 8))))


class PDQIndex:
    """Exact Hamming range search over 256-bit PDQ codes.

    Build with :meth:`build`; rows are numbered from 0 in the order given, then on by
    :meth:`add`. Searches may run in several threads at once (the kernel releases the GIL), also
    while one thread calls :meth:`add`, :meth:`remove` or :meth:`merge` (each search sees the
    index as it was when it started, or with a row removed meanwhile already gone). The
    updating methods themselves must not run in several threads at once.
    """

    def __init__(
        self,
        *,
        tables: int | None = None,
        prefix_bits: int | None = None,
        merge_threshold: int = _DEFAULT_MERGE_THRESHOLD,
    ) -> None:
        """An empty index. ``tables`` (0 or 8..64 chunks) and ``prefix_bits`` override the
        defaults chosen from the size at each (re)build; ``merge_threshold`` is the delta size
        that triggers folding added rows into the tables."""
        if tables is not None and tables != 0 and not 8 <= tables <= 64:
            raise ValueError("tables must be 0 (scan only) or between 8 and 64")
        if prefix_bits is not None and not 1 <= prefix_bits <= 24:
            raise ValueError("prefix_bits must be between 1 and 24")
        if merge_threshold < 1:
            raise ValueError("merge_threshold must be positive")
        self._tables_override = tables
        self._prefix_override = prefix_bits
        self._merge_threshold = merge_threshold
        self._base: Codes = np.empty((0, CODE_BYTES), dtype=np.uint8)
        self._delta: Codes = np.empty((0, CODE_BYTES), dtype=np.uint8)
        self._n_delta = 0
        self._removed: npt.NDArray[np.uint8] = np.zeros(0, dtype=np.uint8)
        self._n_removed = 0
        self._tables: tuple[_Table, ...] = ()
        self._snap = _Snapshot(self._base, (), self._delta[:0], self._removed)

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        codes: npt.ArrayLike,
        *,
        tables: int | None = None,
        prefix_bits: int | None = None,
        merge_threshold: int = _DEFAULT_MERGE_THRESHOLD,
    ) -> PDQIndex:
        """Index ``codes`` (``(N, 32)`` uint8; copied). Row ``i`` is ``codes[i]``."""
        array = _as_codes(codes, "codes")
        if len(array) > _MAX_ROWS:
            raise ValueError(f"an index holds at most {_MAX_ROWS} rows")
        index = cls(tables=tables, prefix_bits=prefix_bits, merge_threshold=merge_threshold)
        index._base = array.copy()
        index._removed = np.zeros((len(array) + 7) // 8, dtype=np.uint8)
        index._tables = index._build_tables()
        index._publish()
        return index

    def _publish(self) -> None:
        self._snap = _Snapshot(
            self._base, self._tables, self._delta[: self._n_delta], self._removed
        )

    def _build_tables(self) -> tuple[_Table, ...]:
        n = len(self._base)
        m = self._tables_override if self._tables_override is not None else default_tables(n)
        if m == 0 or n == 0 or _mih is None:
            return ()
        tables: list[_Table] = []
        pbits_default = (
            self._prefix_override if self._prefix_override is not None else default_prefix_bits(n)
        )
        width, extra = divmod(CODE_BITS, m)
        start = 0
        live = n - self._removed_in_base()
        removed = self._removed[: (n + 7) // 8] if self._n_removed else np.zeros(0, np.uint8)
        for i in range(m):
            w = width + (1 if i < extra else 0)
            pbits = max(min(w, pbits_default), w - 16)
            sbits = w - pbits
            offsets = np.empty((1 << pbits) + 1, dtype=np.uint32)
            # Entry: row id (4 bytes) + the chunk's low bits (0, 1 or 2 bytes), packed.
            stride = 4 + (0 if sbits == 0 else 1 if sbits <= 8 else 2)
            entries = np.empty(live * stride, dtype=np.uint8)
            count = _mih.build_table(self._base, start, w, pbits, removed, offsets, entries)
            if count != live:  # pragma: no cover - a kernel bug, not a user error
                raise RuntimeError("index build miscounted rows")
            tables.append(_Table(start, w, pbits, offsets, entries))
            start += w
        return tuple(tables)

    def _removed_in_base(self) -> int:
        n = len(self._base)
        if not self._n_removed or n == 0:
            return 0
        bits = np.unpackbits(self._removed[: (n + 7) // 8], bitorder="little")[:n]
        return int(bits.sum())

    # -- size ----------------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        """Row ids handed out so far (removed rows included): the next id :meth:`add` gives."""
        return len(self._base) + self._n_delta

    def __len__(self) -> int:
        """Rows that can still match (removed rows excluded)."""
        return self.n_rows - self._n_removed

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays (codes, tables, delta, tombstones)."""
        return int(
            self._base.nbytes
            + self._delta.nbytes
            + self._removed.nbytes
            + sum(t.nbytes for t in self._tables)
        )

    @property
    def n_tables(self) -> int:
        """Chunk tables in use (0: every search scans)."""
        return len(self._tables)

    def code(self, row: int) -> Codes:
        """The ``(32,)`` code of ``row`` (removed rows too)."""
        row = self._check_row(row)
        source = self._base if row < len(self._base) else self._delta
        offset = 0 if row < len(self._base) else len(self._base)
        out: Codes = source[row - offset].copy()
        return out

    def is_removed(self, row: int) -> bool:
        row = self._check_row(row)
        return bool((self._removed[row >> 3] >> (row & 7)) & 1)

    def _check_row(self, row: int) -> int:
        value = int(row)
        if not 0 <= value < self.n_rows:
            raise IndexError(f"row {value} is not in the index (0..{self.n_rows - 1})")
        return value

    # -- updates -------------------------------------------------------------------------------

    def add(self, codes: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Append codes; returns their row ids (consecutive, starting at :attr:`n_rows`)."""
        array = _as_codes(codes, "codes")
        k = len(array)
        first = self.n_rows
        if first + k > _MAX_ROWS:
            raise ValueError(f"an index holds at most {_MAX_ROWS} rows")
        if k == 0:
            return np.empty(0, dtype=np.int64)
        need = self._n_delta + k
        if need > len(self._delta):
            grown = np.empty((max(need, 2 * len(self._delta), 1024), CODE_BYTES), np.uint8)
            grown[: self._n_delta] = self._delta[: self._n_delta]
            self._delta = grown
        self._delta[self._n_delta : need] = array
        self._n_delta = need
        total_bytes = (first + k + 7) // 8
        if total_bytes > len(self._removed):
            grown_rm = np.zeros(max(total_bytes, 2 * len(self._removed)), dtype=np.uint8)
            grown_rm[: len(self._removed)] = self._removed
            self._removed = grown_rm
        if self._n_delta > self._merge_threshold:
            self.merge()
        else:
            self._publish()
        return np.arange(first, first + k, dtype=np.int64)

    def remove(self, rows: Iterable[int] | npt.NDArray[np.integer[Any]]) -> int:
        """Tombstone rows so they never match again; returns how many were newly removed.
        Removing a removed row does nothing; an id never handed out raises IndexError."""
        ids = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows))
        if ids.size == 0:
            return 0
        if ids.dtype.kind not in "iu":
            raise ValueError("row ids must be integers")
        ids = ids.astype(np.int64).ravel()
        if int(ids.min()) < 0 or int(ids.max()) >= self.n_rows:
            raise IndexError("a row id to remove is not in the index")
        ids = np.unique(ids)
        byte = ids >> 3
        bit = (ids & 7).astype(np.uint8)
        already = (self._removed[byte] >> bit) & 1
        fresh = ids[already == 0]
        np.bitwise_or.at(self._removed, fresh >> 3, (1 << (fresh & 7)).astype(np.uint8))
        self._n_removed += len(fresh)
        return len(fresh)

    def merge(self) -> None:
        """Fold the delta segment into the tables now (rebuilds the tables, not the codes of
        removed rows, which keep their ids)."""
        if self._n_delta:
            self._base = np.concatenate([self._base, self._delta[: self._n_delta]])
            self._delta = np.empty((0, CODE_BYTES), dtype=np.uint8)
            self._n_delta = 0
        # Searches keep using the previous snapshot (old base + delta) until this one is ready.
        self._tables = self._build_tables()
        self._publish()

    # -- files ---------------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index to one file that :meth:`load` maps back without rebuilding.

        Rows added since the last build are folded into the tables first (:meth:`merge`);
        tombstones are kept. The file is written beside ``path`` and renamed into place, so a
        reader never sees half a file.
        """
        if self._n_delta:
            self.merge()
        arrays: list[tuple[str, npt.NDArray[Any]]] = [
            ("base", self._base),
            ("removed", self._removed[: (len(self._base) + 7) // 8]),
        ]
        tables = []
        for i, table in enumerate(self._tables):
            arrays += [(f"offsets{i}", table.offsets), (f"entries{i}", table.entries)]
            tables.append({"start": table.start, "width": table.width, "pbits": table.pbits})
        layout: list[dict[str, Any]] = []
        position = 0
        for name, array in arrays:
            layout.append(
                {"name": name, "dtype": array.dtype.str, "shape": list(array.shape), "at": position}
            )
            position += -(-array.nbytes // _FILE_ALIGN) * _FILE_ALIGN
        header = json.dumps(
            {
                "version": _FILE_VERSION,
                "n_removed": self._n_removed,
                "tables": tables,
                "arrays": layout,
                "settings": [self._tables_override, self._prefix_override, self._merge_threshold],
            }
        ).encode()
        start = -(-(len(_FILE_MAGIC) + 8 + len(header)) // _FILE_ALIGN) * _FILE_ALIGN
        target = Path(path)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with partial.open("wb") as out:
                out.write(_FILE_MAGIC + len(header).to_bytes(8, "little") + header)
                for (_, array), spec in zip(arrays, layout, strict=True):
                    out.seek(start + spec["at"])
                    out.write(np.ascontiguousarray(array).tobytes())
                out.truncate(start + position)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = True) -> PDQIndex:
        """An index written by :meth:`save`.

        With ``mmap`` (the default) the codes and tables are mapped read-only from the file:
        nothing is copied, and every process of a machine that loads the same file shares one
        copy in the page cache. The index can still be changed (:meth:`add`, :meth:`remove`):
        added rows and tombstones live in memory, never in the file. Raises ``ValueError`` for
        a file that is not a saved index (or of another layout version).
        """
        source = Path(path)
        with source.open("rb") as stream:
            magic = stream.read(len(_FILE_MAGIC))
            if magic != _FILE_MAGIC:
                raise ValueError(f"{source} is not a saved PDQ index")
            size = int.from_bytes(stream.read(8), "little")
            try:
                header = json.loads(stream.read(size))
            except ValueError:
                raise ValueError(f"{source} is not a saved PDQ index (damaged header)") from None
        if header.get("version") != _FILE_VERSION:
            raise ValueError(
                f"{source} is a saved PDQ index of layout {header.get('version')!r}; this "
                f"version of OpenNCII reads layout {_FILE_VERSION}"
            )
        start = -(-(len(_FILE_MAGIC) + 8 + size) // _FILE_ALIGN) * _FILE_ALIGN
        found: dict[str, npt.NDArray[Any]] = {}
        for spec in header["arrays"]:
            dtype, shape = np.dtype(spec["dtype"]), tuple(spec["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            if mmap and count:
                array: npt.NDArray[Any] = np.memmap(
                    source, dtype=dtype, mode="r", offset=start + spec["at"], shape=shape
                )
            else:
                array = np.fromfile(
                    source, dtype=dtype, count=count, offset=start + spec["at"]
                ).reshape(shape)
            found[spec["name"]] = array
        tables_override, prefix_override, merge_threshold = header["settings"]
        index = cls(
            tables=tables_override, prefix_bits=prefix_override, merge_threshold=merge_threshold
        )
        index._base = found["base"]
        # Tombstones change in memory (remove): a private copy, a few bytes per 8 rows.
        index._removed = np.array(found["removed"], dtype=np.uint8)
        index._n_removed = int(header["n_removed"])
        index._tables = tuple(
            _Table(
                int(t["start"]),
                int(t["width"]),
                int(t["pbits"]),
                found[f"offsets{i}"],
                found[f"entries{i}"],
            )
            for i, t in enumerate(header["tables"])
        )
        index._publish()
        return index

    # -- search --------------------------------------------------------------------------------

    def search(
        self,
        queries: npt.ArrayLike,
        threshold: int = DEFAULT_THRESHOLD,
        *,
        method: Method = "auto",
    ) -> Matches:
        """For each query, every live row within ``threshold`` bits: ``(row id, distance)``
        sorted by distance, then row id. Exact for any threshold 0..256.

        ``method``: ``"auto"`` picks the tables or a scan of every code by estimated cost;
        ``"tables"`` / ``"scan"`` force one (the answer is the same; for tests and benchmarks).
        """
        return self.search_arrays(queries, threshold, method=method).to_lists()

    def search_arrays(
        self,
        queries: npt.ArrayLike,
        threshold: int = DEFAULT_THRESHOLD,
        *,
        method: Method = "auto",
    ) -> SearchArrays:
        """:meth:`search` as flat arrays (no Python objects per match)."""
        query = _as_codes(queries, "queries")
        limit = _check_threshold(threshold)
        if method not in ("auto", "tables", "scan"):
            raise ValueError("method must be 'auto', 'tables' or 'scan'")
        snap = self._snap
        if _mih is None:
            return _search_numpy(snap, query, limit)
        specs, use_tables = _plan(snap, limit, method)
        raw_bounds, raw_packed = _mih.search(
            snap.base, snap.delta, snap.removed, specs, query, limit, use_tables
        )
        packed = np.frombuffer(raw_packed, dtype=np.uint64)
        return SearchArrays(
            bounds=np.frombuffer(raw_bounds, dtype=np.int64).copy(),
            rows=(packed & np.uint64(0xFFFFFFFF)).astype(np.int64),
            distances=(packed >> np.uint64(32)).astype(np.int64),
        )

    def search_dihedral(
        self,
        variants: npt.ArrayLike,
        threshold: int = DEFAULT_THRESHOLD,
        *,
        method: Method = "auto",
    ) -> Matches:
        """Search with several variants per query (``(Q, V, 32)``, e.g. the 8 dihedral
        variants from :func:`dihedral_codes`): every row within ``threshold`` of any variant,
        with its best distance, sorted by distance then row id."""
        if not isinstance(variants, np.ndarray) or variants.ndim != 3:
            raise InvalidHashError("variants must be a numpy array of shape (Q, V, 32)")
        q, v = variants.shape[0], variants.shape[1]
        if v == 0:
            raise InvalidHashError("each query needs at least one variant")
        flat = _as_codes(variants.reshape(q * v, variants.shape[2]), "variants")
        found = self.search_arrays(flat, threshold, method=method)
        b = found.bounds.tolist()
        rows = found.rows.tolist()
        dists = found.distances.tolist()
        out: Matches = []
        for i in range(q):
            best: dict[int, int] = {}
            for k in range(b[i * v], b[(i + 1) * v]):
                row, d = rows[k], dists[k]
                if d < best.get(row, CODE_BITS + 1):
                    best[row] = d
            out.append(sorted(best.items(), key=lambda item: (item[1], item[0])))
        return out


def _plan(
    snap: _Snapshot, threshold: int, method: Method
) -> tuple[list[tuple[int, int, int, int, Codes, Codes]], bool]:
    """Table specs with per-chunk radii for this threshold, and whether to use them."""
    if not snap.tables or method == "scan":
        return [], False
    m = len(snap.tables)
    units, extra = divmod(threshold + 1, m)
    radii = [units - 1 + (1 if i < extra else 0) for i in range(m)]
    n = len(snap.base)
    probes = 0.0
    scanned = 0.0
    candidates = 0.0
    for t, r in zip(snap.tables, radii, strict=True):
        if r < 0:
            continue
        probes += _ball(t.pbits, r)
        scanned += _ball(t.pbits, r) * n / 2**t.pbits
        candidates += n * _ball(t.width, r) / 2**t.width
    # Rough costs in ns: a random access ~40, a suffix compare ~1, a sequential code ~1.5.
    if method == "auto" and 40 * probes + scanned + 40 * candidates > 1.5 * n:
        return [], False
    specs = [
        (
            t.start,
            t.width,
            t.pbits,
            r,
            t.offsets.view(np.uint8),
            t.entries,
        )
        for t, r in zip(snap.tables, radii, strict=True)
    ]
    return specs, True


def _search_numpy(snap: _Snapshot, query: Codes, limit: int) -> SearchArrays:
    codes = np.concatenate([snap.base, snap.delta])
    lists = brute_force_search(codes, query, limit)
    rm = snap.removed
    bounds = [0]
    rows: list[int] = []
    dists: list[int] = []
    for matches in lists:
        for row, d in matches:
            if not (rm[row >> 3] >> (row & 7)) & 1:
                rows.append(row)
                dists.append(d)
        bounds.append(len(rows))
    return SearchArrays(
        bounds=np.asarray(bounds, dtype=np.int64),
        rows=np.asarray(rows, dtype=np.int64),
        distances=np.asarray(dists, dtype=np.int64),
    )

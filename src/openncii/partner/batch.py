"""The engine-neutral core of a scan: hash media once, match hashes against a bank.

Pure functions, the same in ``openncii partner scan``'s worker processes and in Spark
executors (:mod:`openncii.partner.spark`):

- :func:`hash_item` / :func:`hash_items`: one id and a source (a path, an fsspec URI, or the
  bytes) to a :class:`HashedItem`: PDQ with its dihedral variants, the robust query variants
  (:func:`openncii.signals.variants.query_variants`) with their kinds, quality, MD5, vPDQ for
  videos, or the error. Nothing is silently dropped: a file that cannot be hashed is an item
  with an ``error`` (``skipped`` when it is not media at all).
- :func:`match_items`: hashed items against a :class:`openncii.partner.bank.Bank`, by the rules
  of :mod:`openncii.partner.rules`, to :class:`BankMatch` rows (item id, bank key, kind,
  distance). No image is decoded again: a rescan after the bank changes is only this.
- :func:`hash_batch` / :func:`match_batch`: the same over Arrow record batches (the tables a
  cluster keeps: :data:`HASHES_SCHEMA`, :data:`MATCHES_SCHEMA`); they need ``pyarrow``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Final

from openncii.errors import UnsupportedMediaError
from openncii.index import codes_from_hex, hex_from_codes
from openncii.media.sniff import MEDIA_SUFFIXES
from openncii.partner.rules import pair_limit, query_hashes, search_distance
from openncii.signals.pdq import MIN_QUALITY

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from openncii.partner.bank import Bank

__all__ = [
    "HASHES_COLUMNS",
    "MATCHES_COLUMNS",
    "BankMatch",
    "HashedItem",
    "hash_batch",
    "hash_item",
    "hash_items",
    "hashes_schema",
    "items_from_batch",
    "items_to_batch",
    "match_batch",
    "match_items",
    "matches_schema",
    "matches_to_batch",
    "read_source",
    "rematch_items",
]


@dataclass(frozen=True, slots=True)
class HashedItem:
    """One scanned item: its hashes, or why it has none.

    ``dihedral`` holds the 8 dihedral variants of ``pdq`` (original first); ``variants`` the
    robust query variants with their kinds in ``variant_kinds``; ``vpdq`` a video's signature
    (the reference's text: one ``frame,quality,hash,timestamp`` line per frame). ``error`` says
    why an item has no hashes; ``skipped`` is true when it is not an image or video at all (a
    text file): listed, not a failure. A file with an image or video ending that does not decode
    is a failure.
    """

    id: str
    media: str | None = None
    md5: str | None = None
    pdq: str | None = None
    quality: int | None = None
    dihedral: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    variant_kinds: tuple[str, ...] = ()
    vpdq: str | None = None
    error: str | None = None
    skipped: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None and not self.skipped


@dataclass(frozen=True, slots=True)
class BankMatch:
    """One bank record that matches one item.

    ``hash`` is the bank's value (for vPDQ the SHA-256 of its signature, as feedback names it);
    ``kind`` the bank record's kind and ``query_kind`` the kind of the item's hash that matched
    (PDQ only); ``distance`` the Hamming distance (0 for MD5 and vPDQ, whose frame percentages
    each way are in ``query_percent`` / ``target_percent``).
    """

    id: str
    signal: str
    bank_key: int
    hash: str
    distance: int
    kind: str | None = None
    query_kind: str | None = None
    query_percent: float | None = None
    target_percent: float | None = None


# ------------------------------------------------------------------------------------ hashing


def _local_path(uri: str) -> Path | None:
    """The local path a source names (a plain path or a ``file://`` URI), else None."""
    if uri.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
    if "://" not in uri:
        return Path(uri)
    return None


def read_source(uri: str) -> Path | bytes:
    """A local path as is, else the bytes behind an fsspec URI (``s3://``, ``gs://``, ...)."""
    local = _local_path(uri)
    if local is not None:
        return local
    import fsspec

    with fsspec.open(uri, "rb") as stream:
        data: bytes = stream.read()
    return data


def _suffix(name: str) -> str:
    path = urllib.parse.urlsplit(name).path if "://" in name else name
    return PurePosixPath(path.replace("\\", "/")).suffix.lower()


def hash_item(
    item_id: str,
    source: str | Path | bytes | None = None,
    *,
    variants: bool = True,
    on_frame: Callable[[float], None] | None = None,
) -> HashedItem:
    """Hash one item: ``source`` is a path, an fsspec URI or the bytes (default: ``item_id``
    as a path or URI). Never raises for a bad file: the error is in the item.

    ``variants``: compute the robust query variants (the costly part for images; without
    them only the whole picture and its rotations and mirrorings are matched). ``on_frame``
    is told how far into a video hashing is (seconds).
    """
    from openncii.hashing import hash_and_query_file, hash_file, media_bytes_file
    from openncii.signals.vpdq import VpdqFeature, format_vpdq_text

    def hashed(path: Path) -> HashedItem:
        if variants:
            hashes, found = hash_and_query_file(path, on_frame=on_frame)
        else:
            hashes, found = hash_file(path, dihedral=True, on_frame=on_frame), []
        vpdq = None
        if hashes.vpdq is not None:
            vpdq = format_vpdq_text(
                VpdqFeature(f.frame, f.quality, f.pdq, f.timestamp) for f in hashes.vpdq
            )
        return HashedItem(
            id=item_id,
            media=hashes.media,
            md5=hashes.md5,
            pdq=hashes.pdq,
            quality=hashes.quality,
            dihedral=hashes.dihedral or (),
            variants=tuple(v.hex for v in found),
            variant_kinds=tuple(v.kind.value for v in found),
            vpdq=vpdq,
        )

    name = item_id if source is None or isinstance(source, bytes) else str(source)
    try:
        where = source if isinstance(source, bytes | Path) else read_source(name)
        if isinstance(where, Path):
            return hashed(where)
        with media_bytes_file(where) as path:
            return hashed(path)
    except UnsupportedMediaError as exc:
        return HashedItem(item_id, error=str(exc), skipped=_suffix(name) not in MEDIA_SUFFIXES)
    except Exception as exc:  # one bad file never ends a scan: it becomes an error row
        return HashedItem(item_id, error=str(exc) or type(exc).__name__)


def hash_items(
    items: Iterable[tuple[str, str | Path | bytes | None]], *, variants: bool = True
) -> list[HashedItem]:
    """:func:`hash_item` over ``(id, source)`` pairs, in order."""
    return [hash_item(item_id, source, variants=variants) for item_id, source in items]


# ----------------------------------------------------------------------------------- matching


def _vpdq_frames(text: str) -> list[Any]:
    from openncii.signals.vpdq import parse_vpdq_text

    return list(parse_vpdq_text(text))


def match_items(bank: Bank, items: Sequence[HashedItem], threshold: int = 31) -> list[BankMatch]:
    """Every bank record each item matches, in item order (then signal, distance, key).

    PDQ: each hash of the item's query set (:func:`openncii.partner.rules.query_hashes`) is
    searched at :func:`~openncii.partner.rules.search_distance` and a hit is kept when the
    pair of kinds allows its distance (:func:`~openncii.partner.rules.pair_limit`); for each
    (item, bank record) the best distance is reported. MD5 by equality; vPDQ by the vPDQ rule.
    """
    owners: list[int] = []
    hexes: list[str] = []
    kinds: list[str] = []
    for position, item in enumerate(items):
        if item.error is not None:
            continue
        pdq = item.pdq if item.pdq is not None and (item.quality or 0) >= MIN_QUALITY else None
        for value, kind in query_hashes(pdq, item.dihedral, item.variants, item.variant_kinds):
            owners.append(position)
            hexes.append(value)
            kinds.append(kind.value)
    best: dict[tuple[int, int], tuple[int, str, str, int]] = {}
    if hexes and len(bank.keys):
        hits = _hits(bank, codes_from_hex(hexes), search_distance(threshold))
        for q, row, distance in zip(*(column.tolist() for column in hits), strict=True):
            owner, query_kind = owners[q], kinds[q]
            bank_kind = bank.kind(row)
            limit = pair_limit(query_kind, bank_kind, threshold)
            if limit is None or distance > limit:
                continue
            pair = (owner, int(bank.keys[row]))
            if pair not in best or distance < best[pair][0]:
                best[pair] = (distance, bank_kind.value, query_kind, row)
    out: list[BankMatch] = []
    pdq_rows = sorted(best.items(), key=lambda kv: (kv[0][0], kv[1][0], kv[0][1]))
    for (owner, key), (distance, found_kind, query_kind, row) in pdq_rows:
        (value,) = hex_from_codes(bank.index.code(row)[None, :])
        out.append(BankMatch(items[owner].id, "pdq", key, value, distance, found_kind, query_kind))
    matcher = bank.others_matcher
    with_md5 = [(i, item.md5) for i, item in enumerate(items) if item.md5 is not None]
    for m in matcher.match_md5([md5 for _, md5 in with_md5]):
        out.append(BankMatch(items[with_md5[m.query][0]].id, "md5", m.key, m.hash, 0))
    for item in items:
        if item.vpdq:
            for m in matcher.match_vpdq([_vpdq_frames(item.vpdq)], threshold):
                out.append(
                    BankMatch(
                        item.id,
                        "vpdq",
                        m.key,
                        m.hash,
                        0,
                        query_percent=m.detail.get("query_percent"),
                        target_percent=m.detail.get("target_percent"),
                    )
                )
    order = {item.id: i for i, item in enumerate(items)}
    signal_order = {"pdq": 0, "md5": 1, "vpdq": 2}
    out.sort(key=lambda m: (order[m.id], signal_order[m.signal], m.distance, m.bank_key))
    return out


#: Query hashes per bank record from which the queries are indexed and the bank searched
#: instead (a re-match: a batch of stored hashes against a sync's changes).
_FLIP_RATIO: Final = 4


def _hits(bank: Bank, codes: npt.NDArray[np.uint8], distance: int) -> tuple[Any, Any, Any]:
    """Every (query, bank row, distance) within ``distance``, by query, then distance and row.

    Many queries against a small bank (a re-match against a sync's changes) index the queries
    and search them with the bank's codes: the same pairs, at a fraction of the cost."""
    import numpy as np

    from openncii.index import PDQIndex

    if len(codes) < _FLIP_RATIO * len(bank.keys):
        found = bank.index.search_arrays(codes, distance)
        queries = np.repeat(np.arange(len(codes)), np.diff(found.bounds))
        return queries, found.rows, found.distances
    found = PDQIndex.build(codes).search_arrays(bank.codes(), distance)
    rows = np.repeat(np.arange(len(bank.keys)), np.diff(found.bounds))
    order = np.lexsort((rows, found.distances, found.rows))
    return found.rows[order], rows[order], found.distances[order]


def rematch_items(
    added: Bank,
    removed: Collection[int],
    items: Sequence[HashedItem],
    previous: Iterable[BankMatch],
    threshold: int = 31,
) -> list[BankMatch]:
    """The matches of ``items`` against a changed bank, from their ``previous`` matches: those
    whose bank record is not in ``removed``, then the matches with the ``added`` records (a
    bank of the changes: :func:`openncii.partner.bankfile.bank_delta`). No media is read."""
    gone = frozenset(removed)
    kept = [m for m in previous if m.bank_key not in gone]
    return kept + match_items(added, items, threshold)


# -------------------------------------------------------------------------------------- Arrow

#: The columns of a table of hashed items (:func:`hashes_schema`), in order.
HASHES_COLUMNS: Final = (
    "id",
    "media",
    "md5",
    "pdq",
    "quality",
    "dihedral",
    "variants",
    "variant_kinds",
    "vpdq",
    "error",
    "skipped",
)
#: The columns of a table of matches (:func:`matches_schema`), in order.
MATCHES_COLUMNS: Final = (
    "id",
    "signal_type",
    "bank_key",
    "hash",
    "distance",
    "kind",
    "query_kind",
    "query_percent",
    "target_percent",
)


def _pa() -> Any:
    import pyarrow

    return pyarrow


def hashes_schema() -> pa.Schema:
    """The Arrow schema of a table of hashed items."""
    pa = _pa()
    text = pa.list_(pa.string())
    return pa.schema(
        [
            ("id", pa.string()),
            ("media", pa.string()),
            ("md5", pa.string()),
            ("pdq", pa.string()),
            ("quality", pa.int32()),
            ("dihedral", text),
            ("variants", text),
            ("variant_kinds", text),
            ("vpdq", pa.string()),
            ("error", pa.string()),
            ("skipped", pa.bool_()),
        ]
    )


def matches_schema() -> pa.Schema:
    """The Arrow schema of a table of matches."""
    pa = _pa()
    return pa.schema(
        [
            ("id", pa.string()),
            ("signal_type", pa.string()),
            ("bank_key", pa.int64()),
            ("hash", pa.string()),
            ("distance", pa.int32()),
            ("kind", pa.string()),
            ("query_kind", pa.string()),
            ("query_percent", pa.float64()),
            ("target_percent", pa.float64()),
        ]
    )


def items_to_batch(items: Sequence[HashedItem]) -> pa.RecordBatch:
    """Hashed items as one Arrow record batch of :func:`hashes_schema`."""
    pa = _pa()
    columns = {name: [getattr(item, name) for item in items] for name in HASHES_COLUMNS}
    for name in ("dihedral", "variants", "variant_kinds"):
        columns[name] = [list(value) for value in columns[name]]
    return pa.RecordBatch.from_pydict(columns, schema=hashes_schema())


def items_from_batch(batch: pa.RecordBatch) -> list[HashedItem]:
    """The hashed items of a record batch of :func:`hashes_schema` (extra columns ignored)."""
    columns = {name: batch.column(name).to_pylist() for name in HASHES_COLUMNS}
    return [
        HashedItem(
            id=columns["id"][i],
            media=columns["media"][i],
            md5=columns["md5"][i],
            pdq=columns["pdq"][i],
            quality=columns["quality"][i],
            dihedral=tuple(columns["dihedral"][i] or ()),
            variants=tuple(columns["variants"][i] or ()),
            variant_kinds=tuple(columns["variant_kinds"][i] or ()),
            vpdq=columns["vpdq"][i],
            error=columns["error"][i],
            skipped=bool(columns["skipped"][i]),
        )
        for i in range(batch.num_rows)
    ]


def matches_to_batch(matches: Sequence[BankMatch]) -> pa.RecordBatch:
    """Matches as one Arrow record batch of :func:`matches_schema`."""
    pa = _pa()
    fields = {
        "id": "id",
        "signal_type": "signal",
        "bank_key": "bank_key",
        "hash": "hash",
        "distance": "distance",
        "kind": "kind",
        "query_kind": "query_kind",
        "query_percent": "query_percent",
        "target_percent": "target_percent",
    }
    columns = {column: [getattr(m, name) for m in matches] for column, name in fields.items()}
    return pa.RecordBatch.from_pydict(columns, schema=matches_schema())


def hash_batch(
    batch: pa.RecordBatch,
    *,
    id_col: str = "id",
    uri_col: str | None = None,
    content_col: str | None = None,
    variants: bool = True,
) -> pa.RecordBatch:
    """Hash a record batch of items: each row's ``id_col`` and either ``uri_col`` (a path or
    fsspec URI each worker reads itself) or ``content_col`` (the bytes). One row out per row
    in, in order."""
    if (uri_col is None) == (content_col is None):
        raise ValueError("give exactly one of uri_col and content_col")
    ids = [str(value) for value in batch.column(id_col).to_pylist()]
    sources = batch.column(uri_col if uri_col is not None else content_col).to_pylist()
    return items_to_batch(
        [
            hash_item(item_id, source, variants=variants)
            for item_id, source in zip(ids, sources, strict=True)
        ]
    )


def match_batch(bank: Bank, batch: pa.RecordBatch, threshold: int = 31) -> pa.RecordBatch:
    """Match a record batch of hashed items (:func:`hashes_schema`) against ``bank``."""
    return matches_to_batch(match_items(bank, items_from_batch(batch), threshold))

"""Scan a platform's corpus on Apache Spark: hash once into a table, re-match on bank changes.

Needs ``pip install 'openncii[spark]'`` (PySpark 4, pyarrow, fsspec) and a Java runtime. The
work is the engine-neutral core of :mod:`openncii.partner.batch`, run in ``mapInArrow``:

- :func:`hash_images`: a DataFrame of media URIs (or bytes) to one row per item with its
  hashes or its error (:data:`openncii.partner.batch.HASHES_COLUMNS`): nothing is dropped.
  Prefer URIs: each executor reads its own files through fsspec (local, ``s3://``, ``gs://``,
  ``abfs://``: install the filesystem's package on the cluster). When bytes travel, keep
  ``spark.sql.execution.arrow.maxRecordsPerBatch`` small (:data:`BYTES_BATCH_RECORDS`).
- :func:`match_hashes`: a table of hashes against a bank snapshot file (``openncii partner
  export-bank``; no case references) to (id, bank key, kind, distance) rows. Each executor
  process reads the bank once and keeps its index (:func:`openncii.partner.bank.open_bank`),
  saved under ``OPENNCII_PARTNER_BANK_CACHE_DIR`` (default: the temporary folder) so the
  processes of one node map one copy.
- :func:`rematch`: after a sync, re-match stored hashes against the bank's *changes* only:
  earlier matches of removed records are dropped, matches with added ones are found, and no
  image is read again.

:func:`scan_with_spark` is what ``openncii partner scan --engine spark`` runs;
:mod:`openncii.partner.spark_job` is the ``spark-submit`` entry point.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from openncii.errors import ScanSetupError
from openncii.partner.batch import (
    BankMatch,
    HashedItem,
    hash_batch,
    items_from_batch,
    match_batch,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from openncii.partner.bank import Bank, BankData
    from openncii.partner.matcher import BankSource
    from openncii.partner.scan import ScanResult

__all__ = [
    "BYTES_BATCH_RECORDS",
    "hash_images",
    "match_hashes",
    "rematch",
    "scan_with_spark",
    "spark_session",
]

#: Records per Arrow batch when image bytes travel in the DataFrame (16-64 keeps a batch of
#: 12 MP photos within a few hundred MB).
BYTES_BATCH_RECORDS: Final = 32
_HASHES_DDL: Final = (
    "id string, media string, md5 string, pdq string, quality int, dihedral array<string>, "
    "variants array<string>, variant_kinds array<string>, vpdq string, error string, "
    "skipped boolean"
)
#: A match's fields but its item's id (a row of the matches table, or one of an item's matches).
_MATCH_FIELDS_DDL: Final = (
    "signal_type string, bank_key bigint, hash string, distance int, kind string, "
    "query_kind string, query_percent double, target_percent double"
)
_MATCHES_DDL: Final = f"id string, {_MATCH_FIELDS_DDL}"


def spark_session(
    master: str = "local[2]", app_name: str = "openncii-scan", *, progress: bool = True
) -> SparkSession:
    """A Spark session for scanning (or the running one, e.g. on Databricks): Arrow batches
    of :data:`BYTES_BATCH_RECORDS`, no web UI in local mode; ``progress``: Spark's progress
    bar on the console.

    Raises :class:`ScanSetupError` when PySpark is not installed.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ScanSetupError(
            "the Spark engine needs PySpark: pip install 'openncii[spark]' (and a Java runtime)"
        ) from None
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(BYTES_BATCH_RECORDS))
        .config("spark.ui.showConsoleProgress", str(progress).lower())
        # Python workers live on from task to task: imports and the bank once per worker.
        .config("spark.python.worker.reuse", "true")
    )
    if master.startswith("local"):
        # The Python workers of a local Spark run this interpreter (where OpenNCII is), not
        # `python3`: PySpark reads the variable when it starts its context.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (
            builder.config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
        )
    return builder.getOrCreate()


def hash_images(
    df: DataFrame,
    *,
    uri_col: str | None = "uri",
    content_col: str | None = None,
    id_col: str | None = None,
    variants: bool = True,
) -> DataFrame:
    """One row per row of ``df``: its id (``id_col``, default the URI column) and hashes, or
    the error (:data:`openncii.partner.batch.HASHES_COLUMNS`).

    Give ``uri_col`` (paths or fsspec URIs, read by the executors) or ``content_col`` (the
    bytes; then ``id_col`` too). Raises :class:`ScanSetupError` for a column ``df`` lacks.
    """
    if content_col is not None:
        uri_col = None
        if id_col is None:
            raise ScanSetupError("with content_col, name the id column too (id_col)")
    source = uri_col if uri_col is not None else content_col
    if source is None:
        raise ScanSetupError("give uri_col or content_col")
    ident = id_col or source
    for column in {source, ident}:
        if column not in df.columns:
            raise ScanSetupError(
                f"the source table has no column {column!r} (it has {', '.join(df.columns)})"
            )
    picked = df.select(df[ident].cast("string").alias("id"), df[source].alias("source"))
    from_uri = uri_col is not None

    def hash_partition(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            yield hash_batch(
                batch,
                uri_col="source" if from_uri else None,
                content_col=None if from_uri else "source",
                variants=variants,
            )

    return picked.mapInArrow(hash_partition, _HASHES_DDL)


def _cache_dir(given: Path | None) -> Path:
    if given is not None:
        return given
    from openncii.settings import PartnerSettings

    return PartnerSettings().bank_cache_dir or Path(tempfile.gettempdir()) / "openncii-banks"


def _bank_matcher(
    bank_uri: str, threshold: int, cache_dir: Path | None
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The mapInArrow function matching batches of hashes against a bank file; the file is
    checked here, on the driver, before any work."""
    from openncii.partner.bankfile import read_bank_info

    checksum = read_bank_info(bank_uri).checksum

    def match_partition(batches: Iterator[Any]) -> Iterator[Any]:
        from openncii.partner.bank import open_bank
        from openncii.partner.bankfile import read_bank

        bank = open_bank(checksum, lambda: read_bank(bank_uri), _cache_dir(cache_dir))
        for batch in batches:
            yield match_batch(bank, batch, threshold)

    return match_partition


def match_hashes(
    hashes_df: DataFrame,
    bank_uri: str | Path,
    *,
    threshold: int = 31,
    cache_dir: Path | None = None,
) -> DataFrame:
    """Match a table of hashes (from :func:`hash_images`) against a bank file: one row per
    (item, bank record) match (:data:`openncii.partner.batch.MATCHES_COLUMNS`).

    Raises :class:`ScanSetupError` before any work for a missing bank file, one that is not
    a bank, or a bank of another format version.
    """
    function = _bank_matcher(str(bank_uri), threshold, cache_dir)
    return hashes_df.mapInArrow(function, _MATCHES_DDL)


def rematch(
    hashes_df: DataFrame,
    matches_df: DataFrame,
    old_bank_uri: str | Path,
    new_bank_uri: str | Path,
    *,
    threshold: int = 31,
) -> DataFrame:
    """The matches of ``hashes_df`` against the new bank, from its matches against the old one:
    the old matches of records still in the bank, plus the matches with records the new bank
    added or changed. No image is read: only the stored hashes are searched, and only against
    the changes."""
    from openncii.partner.bank import open_bank
    from openncii.partner.bankfile import bank_delta, read_bank

    delta = bank_delta(read_bank(old_bank_uri), read_bank(new_bank_uri))
    added = delta.added  # small (the changes of one sync): travels with the tasks
    spark = hashes_df.sparkSession
    kept = matches_df
    if delta.removed:
        gone = spark.createDataFrame([(key,) for key in sorted(delta.removed)], "bank_key bigint")
        kept = matches_df.join(gone, on="bank_key", how="left_anti")
    if len(added) == 0:
        return kept.select(*matches_df.columns)

    def match_partition(batches: Iterator[Any]) -> Iterator[Any]:
        bank = open_bank(added.checksum, lambda: added)
        for batch in batches:
            yield match_batch(bank, batch, threshold)

    found = hashes_df.mapInArrow(match_partition, _MATCHES_DDL)
    return kept.select(*matches_df.columns).unionByName(found)


#: Files per Spark task at most. Each task costs ~50-80 ms of CPU of its own (scheduling, the
#: JVM's and the Python worker's set-up: measured in local mode), as much as hashing 5-8 small
#: photos: tasks of a few hundred files keep that under 3 %, and files listed in order of
#: their names mix sizes evenly enough that such tasks end together.
TASK_FILES: Final = 256


def _partitions(count: int, parallelism: int) -> int:
    """Partitions for ``count`` items on ``parallelism`` cores: 4 per core (a slow task then
    holds up a quarter of one core's share), more when that makes tasks of over
    :data:`TASK_FILES` items."""
    return max(1, min(count, max(4 * parallelism, -(-count // TASK_FILES))))


def _source_frame(spark: SparkSession, sources: Sequence[str]) -> DataFrame:
    """A DataFrame of (id, uri) from a Parquet table of URIs, or from files, folders and globs
    (listed here), in :func:`_partitions`. Raises
    :class:`ScanSetupError` when a source names nothing."""
    from openncii.partner.scan import media_files

    parallelism = spark.sparkContext.defaultParallelism
    if len(sources) == 1 and sources[0].rstrip("/").endswith(".parquet"):
        table = sources[0]
        if "://" not in table and not Path(table).exists():
            raise ScanSetupError(f"no such table: {table}")
        frame = spark.read.parquet(table)
        if "uri" not in frame.columns:
            raise ScanSetupError(f"{table} has no 'uri' column (it has {', '.join(frame.columns)})")
        ident = frame["id"] if "id" in frame.columns else frame["uri"]
        picked = frame.select(ident.cast("string").alias("id"), frame["uri"])
        # A table of URIs is small beside its media: one shuffle spreads it over every core.
        return picked.repartition(_partitions(picked.count(), parallelism))
    for given in sources:
        if "://" not in given and not Path(given).exists() and not set("*?[") & set(given):
            raise ScanSetupError(f"no such file or folder: {given}")
    files = [str(path) for path in media_files(sources)]
    if not files:
        raise ScanSetupError("the sources name no file")
    # Sliced as listed (no shuffle): neighbouring files, often of one size, share a task.
    rows = spark.sparkContext.parallelize(
        [(path, path) for path in files], _partitions(len(files), parallelism)
    )
    return spark.createDataFrame(rows, "id string, uri string")


#: What the one-pass scan of :func:`scan_with_spark` gives: an item's hashes and its matches.
_SCANNED_DDL: Final = f"{_HASHES_DDL}, matches array<struct<{_MATCH_FIELDS_DDL}>>"


def _bank_opener(
    spark: SparkSession, source: BankSource, folder: Path, ship: bool | None
) -> Callable[[], Bank]:
    """Export the source's bank for this scan; returns what opens it in a Python worker (once
    per worker process).

    Local mode: the index is built here once per bank content and saved in the bank cache
    folder, which every worker maps (no bank file to write, read and index again). On a
    cluster (or with ``ship``): a bank file shipped to every executor with the job
    (``SparkContext.addFile``), read and indexed once per executor process.
    """
    from openncii.partner.bank import bank_data_from_source, open_bank

    data = bank_data_from_source(source)
    checksum = data.checksum
    if ship is None:
        ship = not (spark.sparkContext.master or "").startswith("local")
    if not ship:
        cache = _cache_dir(None)
        open_bank(checksum, lambda: data, cache)

        def gone() -> BankData:
            raise ScanSetupError(f"the bank's cache folder under {cache} was removed mid-scan")

        return lambda: open_bank(checksum, gone, cache)
    from openncii.partner.bankfile import write_bank

    name = f"openncii-bank-{checksum[:32]}.parquet"
    write_bank(data, folder / name)
    spark.sparkContext.addFile(str(folder / name))

    def shipped() -> BankData:
        from pyspark import SparkFiles

        from openncii.partner.bankfile import read_bank

        return read_bank(SparkFiles.get(name))

    return lambda: open_bank(checksum, shipped, _cache_dir(None))


def _with_matches(items: Sequence[HashedItem], matches: Sequence[BankMatch]) -> Any:
    """The record batch of ``items`` with a ``matches`` column: each item's matches."""
    import pyarrow as pa

    from openncii.partner.batch import items_to_batch, matches_schema

    by_item: dict[str, list[dict[str, Any]]] = {}
    names = matches_schema().names[1:]
    for m in matches:
        row = (m.signal, m.bank_key, m.hash, m.distance, m.kind, m.query_kind)
        values = (*row, m.query_percent, m.target_percent)
        by_item.setdefault(m.id, []).append(dict(zip(names, values, strict=True)))
    kind = pa.list_(pa.struct(list(matches_schema())[1:]))
    column = pa.array([by_item.get(item.id, []) for item in items], kind)
    batch = items_to_batch(items)
    return pa.RecordBatch.from_arrays([*batch.columns, column], [*batch.schema.names, "matches"])


def scan_with_spark(
    source: BankSource,
    sources: Sequence[str],
    *,
    master: str = "local[2]",
    threshold: int = 31,
    variants: bool = True,
    spark: SparkSession | None = None,
    ship_bank: bool | None = None,
) -> list[ScanResult]:
    """``openncii partner scan --engine spark``: export the bank (no case references), hash
    and match the sources on Spark, and join case references back here. The same results as
    :func:`openncii.partner.scan.scan`, in the order of the ids.

    One pass, as the process scan's workers do it: each Python worker hashes a batch of files
    and matches them at once against the bank it opened once; only the hashes and matches come
    back (Arrow), nothing is cached or shuffled. ``ship_bank``: send the bank to the executors
    as a file (default: on a cluster; in local mode they map the bank cache folder).
    """
    from openncii.partner.batch import hash_item, match_items
    from openncii.partner.scan import scan_results

    session = spark or spark_session(master)
    frame = _source_frame(session, sources)
    with tempfile.TemporaryDirectory(prefix="openncii-spark-") as folder:
        opener = _bank_opener(session, source, Path(folder), ship_bank)

        def scan_partition(batches: Iterator[Any]) -> Iterator[Any]:
            bank = opener()
            for batch in batches:
                ids = batch.column("id").to_pylist()
                uris = batch.column("uri").to_pylist()
                items = [
                    hash_item(str(i), uri, variants=variants)
                    for i, uri in zip(ids, uris, strict=True)
                ]
                yield _with_matches(items, match_items(bank, items, threshold))

        table = frame.mapInArrow(scan_partition, _SCANNED_DDL).toArrow()
    batch = _arrow(table)
    items = sorted(items_from_batch(batch), key=lambda item: item.id)
    found = [
        BankMatch(
            item_id,
            m["signal_type"],
            m["bank_key"],
            m["hash"],
            m["distance"],
            m["kind"],
            m["query_kind"],
            m["query_percent"],
            m["target_percent"],
        )
        for item_id, matched in zip(
            batch.column("id").to_pylist(), batch.column("matches").to_pylist(), strict=True
        )
        for m in matched or ()
    ]
    return scan_results(items, found, source)


def _arrow(table: Any) -> Any:
    """One record batch of a whole Arrow table (the items of a scan fit the driver)."""
    if table.num_rows:
        return table.combine_chunks().to_batches()[0]
    empty: list[HashedItem] = []
    return _with_matches(empty, [])

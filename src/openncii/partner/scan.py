"""Scan files against the local bank: what ``openncii partner scan`` does, as a library.

:func:`media_files` walks folders and expands globs; :func:`scan` hashes the files in worker
*processes* (hashing is CPU work that threads share badly: the GIL) with the engine-neutral
core of :mod:`openncii.partner.batch`, matches them in the workers against the bank (exported
once from the store, its index mapped by every worker from one file: no case references leave
this process) and joins the case references back here; :func:`write_report` writes the JSON,
CSV or Parquet report of matches and failures. :mod:`openncii.partner.spark` runs the same core
on a Spark cluster and gives the same :class:`ScanResult` list.
"""

from __future__ import annotations

import csv
import glob
import io
import json
import multiprocessing
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from openncii.partner.batch import (
    MATCHES_COLUMNS,
    BankMatch,
    HashedItem,
    hash_item,
    match_items,
)
from openncii.partner.matcher import BankSource, Match

if TYPE_CHECKING:
    from openncii.partner.bank import Bank

__all__ = [
    "ReportFormat",
    "ScanResult",
    "bank_sizes",
    "matched_hashes",
    "media_files",
    "prepare_bank",
    "read_matches",
    "report_json",
    "report_rows",
    "scan",
    "scan_results",
    "totals",
    "write_parquet_report",
    "write_report",
]

ReportFormat = Literal["json", "csv", "parquet"]
#: Progress callback: (path, seconds of video hashed so far).
FileProgress = Callable[[str, float], None]
#: Files per task sent to a worker process (fewer round trips; progress still moves often).
_TASK_FILES = 4
#: How often a worker reports progress within one video (seconds of wall time).
_PROGRESS_EVERY = 1.0


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One scanned file: its matches, or why it could not be hashed.

    ``skipped`` is true when the file is not an image or video at all (a text file, say): it
    is listed in the report but is not a failure. Other errors (a file with an image or video
    ending that does not decode, corrupt or hostile media, an unreadable file) are failures.
    """

    path: str
    media: str | None = None
    quality: int | None = None
    matches: tuple[Match, ...] = ()
    error: str | None = None
    skipped: bool = False

    @property
    def failed(self) -> bool:
        return self.error is not None and not self.skipped


_GLOB_CHARACTERS = frozenset("*?[")


def media_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The files named, every file under the folders named (sorted, hidden ones skipped), and
    the files a glob pattern names (``'photos/**/*.jpg'``, sorted).

    A path that does not exist is yielded as is: scanning it reports the error.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif not path.exists() and _GLOB_CHARACTERS & set(str(given)):
            # glob.glob: Path.glob takes no absolute pattern.
            for found in sorted(glob.glob(str(given), recursive=True)):  # noqa: PTH207
                if Path(found).is_file():
                    yield Path(found)
        else:
            yield path


def bank_sizes(counts: Mapping[str, int]) -> dict[str, int]:
    """The report's bank sizes from the store's counts: PDQ hashes of every kind together
    (``pdq``), MD5, vPDQ."""
    pdq = sum(count for signal, count in counts.items() if signal.startswith("pdq"))
    return {"pdq": pdq, "md5": counts.get("md5", 0), "vpdq": counts.get("vpdq", 0)}


def scan_results(
    items: Sequence[HashedItem], matches: Sequence[BankMatch], source: BankSource
) -> list[ScanResult]:
    """Join hashed items and their bank matches (in item order) into scan results, with the
    case references the partner store holds for each bank key (a key withdrawn meanwhile is
    left out)."""
    records = source.describe({m.bank_key for m in matches})
    by_item: dict[str, list[Match]] = {}
    for m in matches:
        record = records.get(m.bank_key)
        if record is None:
            continue
        detail = {
            name: value
            for name, value in (
                ("query_percent", m.query_percent),
                ("target_percent", m.target_percent),
            )
            if value is not None
        }
        by_item.setdefault(m.id, []).append(
            Match(
                record.signal,
                0,
                m.bank_key,
                m.hash,
                m.distance,
                record.case_refs,
                detail,
                query_kind=m.query_kind,
            )
        )
    # Photos' hashes of every kind (pdq, pdq_square, ...) first, then videos'.
    order = {"md5": 1, "vpdq": 2}
    for found in by_item.values():
        found.sort(key=lambda m: (order.get(m.signal, 0), m.distance, m.key))
    return [
        ScanResult(
            item.id,
            item.media,
            item.quality,
            tuple(by_item.get(item.id, ())),
            item.error,
            item.skipped,
        )
        for item in items
    ]


def read_matches(uri: str, source: BankSource) -> tuple[list[ScanResult], int]:
    """The matches a cluster scan wrote (a Parquet file or folder of
    :data:`openncii.partner.batch.MATCHES_COLUMNS`), joined with the case references of
    ``source``: one result per matched item (in id order), and how many matches were left out
    because their bank record is no longer active. Raises :class:`ScanSetupError` for a file
    that is missing or holds no matches."""
    from openncii.errors import ScanSetupError

    try:
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the extra is installed for the tests
        raise ScanSetupError(
            "reading matches needs pyarrow: pip install 'openncii[spark]'"
        ) from None
    try:
        if "://" in uri:
            import fsspec

            filesystem, path = fsspec.core.url_to_fs(uri)
            table = pq.read_table(path, filesystem=filesystem)
        else:
            table = pq.read_table(uri)
        columns = {name: table.column(name).to_pylist() for name in MATCHES_COLUMNS}
    except FileNotFoundError:
        raise ScanSetupError(f"no matches file at {uri}") from None
    except (OSError, ValueError, KeyError) as exc:
        raise ScanSetupError(f"{uri} holds no scan matches ({exc})") from None
    matches = [
        BankMatch(
            columns["id"][i],
            columns["signal_type"][i],
            columns["bank_key"][i],
            columns["hash"][i],
            columns["distance"][i],
            columns["kind"][i],
            columns["query_kind"][i],
            columns["query_percent"][i],
            columns["target_percent"][i],
        )
        for i in range(table.num_rows)
    ]
    items = [HashedItem(item_id) for item_id in sorted({m.id for m in matches})]
    results = [r for r in scan_results(items, matches, source) if r.matches]
    return results, len(matches) - sum(len(r.matches) for r in results)


def prepare_bank(source: BankSource, cache_dir: Path) -> Path:
    """Export the source's bank (no case references) and save its index under ``cache_dir``,
    once per bank content; returns the folder every worker maps."""
    from openncii.partner.bank import Bank, bank_data_from_source

    data = bank_data_from_source(source)
    folder = cache_dir / data.checksum[:40]
    if not (folder / "bank.json").exists():
        Bank.build(data).save(folder)
    return folder


# Per worker process: the banks it mapped (by folder) and where progress goes.
_worker_banks: dict[str, Bank] = {}
_worker_progress: Any = None


def _init_worker(progress: Any) -> None:
    """Start a worker: where progress goes, and the hashing code imported at once (while the
    main process still prepares the bank)."""
    global _worker_progress
    _worker_progress = progress
    import openncii.partner.bank
    import openncii.robust  # noqa: F401


def _ready() -> int:
    return os.getpid()


def _bank_at(folder: str) -> Bank:
    bank = _worker_banks.get(folder)
    if bank is None:
        from openncii.partner.bank import Bank

        _worker_banks.clear()
        bank = _worker_banks[folder] = Bank.load(folder)
    return bank


def _scan_many(
    paths: Sequence[str], folder: str, threshold: int, variants: bool
) -> list[tuple[HashedItem, list[BankMatch]]]:
    """Hash and match a few files in a worker process (one task, one round trip)."""
    bank = _bank_at(folder)
    return [_scan_one(bank, path, threshold, variants) for path in paths]


def _scan_one(
    bank: Bank, path: str, threshold: int, variants: bool
) -> tuple[HashedItem, list[BankMatch]]:
    sink = _worker_progress
    last = [-_PROGRESS_EVERY]

    def on_frame(seconds: float) -> None:
        # The first frame at once, then at most one report a second.
        now = time.monotonic()
        if sink is not None and now - last[0] >= _PROGRESS_EVERY:
            last[0] = now
            sink.put((path, seconds))

    item = hash_item(path, Path(path), variants=variants, on_frame=on_frame)
    return item, match_items(bank, [item], threshold)


def scan(
    source: BankSource,
    files: Sequence[Path],
    *,
    workers: int | None = None,
    threshold: int = 31,
    variants: bool = True,
    cache_dir: Path | None = None,
    on_result: Callable[[ScanResult], None] | None = None,
    on_progress: FileProgress | None = None,
) -> list[ScanResult]:
    """Hash and match every file; results in the order of ``files``.

    ``workers`` processes (default: one per CPU) hash and match at once; with 1 the work runs
    in this process. The bank is read from ``source`` once and its index saved under
    ``cache_dir`` (default: a temporary folder), which the workers map. ``on_result`` is called
    as each file is done (in completion order); ``on_progress`` with how far into a long video
    a worker is (path, seconds hashed).
    """
    count = max(1, workers or os.cpu_count() or 1)
    done: dict[int, tuple[HashedItem, list[BankMatch]]] = {}

    def finish(position: int, found: tuple[HashedItem, list[BankMatch]]) -> None:
        done[position] = found
        if on_result is not None:
            (result,) = scan_results([found[0]], found[1], source)
            on_result(result)

    with tempfile.TemporaryDirectory(prefix="openncii-bank-") as temporary:
        where = cache_dir or Path(temporary)
        if count == 1:
            global _worker_progress
            _worker_progress = _CallbackSink(on_progress)
            try:
                bank = _bank_at(str(prepare_bank(source, where)))
                for position, path in enumerate(files):
                    finish(position, _scan_one(bank, str(path), threshold, variants))
            finally:
                _worker_progress = None
                _worker_banks.clear()
        else:
            _scan_in_processes(
                files, source, where, count, threshold, variants, finish, on_progress
            )
    items = [done[i][0] for i in range(len(files))]
    matches = [m for i in range(len(files)) for m in done[i][1]]
    return scan_results(items, matches, source)


class _CallbackSink:
    """A queue-like sink that calls the progress callback at once (the one-process scan)."""

    def __init__(self, callback: FileProgress | None) -> None:
        self._callback = callback

    def put(self, event: tuple[str, float]) -> None:
        if self._callback is not None:
            self._callback(*event)


#: What the fork server imports once, before it forks each worker (POSIX).
_PRELOAD = ["__main__", "openncii.partner.scan", "openncii.partner.bank", "openncii.robust"]


def _worker_context() -> Any:
    """How worker processes start: forked from a fork server that imported the hashing code
    once (POSIX: no copy of this process's threads and locks, and no import per worker),
    else spawned (each worker imports it: ~0.4 s of CPU)."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return context
    return multiprocessing.get_context("spawn")


def _scan_in_processes(
    files: Sequence[Path],
    source: BankSource,
    cache_dir: Path,
    count: int,
    threshold: int,
    variants: bool,
    finish: Callable[[int, tuple[HashedItem, list[BankMatch]]], None],
    on_progress: FileProgress | None,
) -> None:
    context = _worker_context()
    events: Any = context.Queue()
    stop = threading.Event()

    def relay() -> None:
        while not stop.is_set():
            try:
                event = events.get(timeout=0.2)
            except queue.Empty:
                continue
            if event is None:  # the scan is over
                break
            if on_progress is not None:
                on_progress(*event)

    reader = threading.Thread(target=relay, name="openncii-scan-progress", daemon=True)
    reader.start()
    try:
        with ProcessPoolExecutor(
            max_workers=count, mp_context=context, initializer=_init_worker, initargs=(events,)
        ) as pool:
            # The workers start (and import) while the bank is prepared here.
            for _ in range(count):
                pool.submit(_ready)
            folder = str(prepare_bank(source, cache_dir))
            pending: dict[Future[list[tuple[HashedItem, list[BankMatch]]]], int] = {}
            window = 3 * count  # tasks in flight: bounded memory for any number of files
            starts = iter(range(0, len(files), _TASK_FILES))
            while True:
                for start in starts:
                    paths = [str(p) for p in files[start : start + _TASK_FILES]]
                    pending[pool.submit(_scan_many, paths, folder, threshold, variants)] = start
                    if len(pending) >= window:
                        break
                if not pending:
                    break
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    start = pending.pop(future)
                    for offset, found in enumerate(future.result()):
                        finish(start + offset, found)
    finally:
        stop.set()
        events.put(None)
        reader.join()
        events.close()
        events.join_thread()


def totals(results: Sequence[ScanResult]) -> dict[str, int]:
    """How many files were scanned, matched, failed and skipped (not media)."""
    return {
        "scanned": len(results),
        "matched": sum(1 for r in results if r.matches),
        "failed": sum(1 for r in results if r.failed),
        "skipped": sum(1 for r in results if r.skipped),
    }


def matched_hashes(results: Sequence[ScanResult]) -> dict[str, str | None]:
    """Every bank hash some file matched, with its signal type (what ``--feedback`` reports)."""
    matched: dict[str, str | None] = {}
    for result in results:
        for match in result.matches:
            matched.setdefault(match.hash, match.signal)
    return matched


def report_json(results: Sequence[ScanResult], bank: dict[str, int]) -> dict[str, Any]:
    """The JSON report: totals, the bank's size, and each file that matched, failed or was
    skipped (not media)."""
    files: list[dict[str, Any]] = []
    for result in results:
        if result.skipped:
            files.append({"path": result.path, "skipped": result.error})
        elif result.error is not None:
            files.append({"path": result.path, "error": result.error})
        elif result.matches:
            files.append(
                {
                    "path": result.path,
                    "media": result.media,
                    "quality": result.quality,
                    "matches": [m.to_json() for m in result.matches],
                }
            )
    return {**totals(results), "bank": bank, "files": files}


_CSV_FIELDS = ("path", "signal_type", "hash", "distance", "case_refs", "error", "skipped")


def report_rows(results: Sequence[ScanResult]) -> Iterator[dict[str, Any]]:
    """The rows of the CSV and Parquet reports: one per match, failure or skipped file
    (``case_refs`` a list)."""
    for result in results:
        if result.skipped:
            yield {"path": result.path, "skipped": result.error}
        elif result.error is not None:
            yield {"path": result.path, "error": result.error}
        for match in result.matches:
            yield {
                "path": result.path,
                "signal_type": match.signal,
                "hash": match.hash,
                "distance": match.distance,
                "case_refs": list(match.case_refs),
            }


def write_parquet_report(results: Sequence[ScanResult], path: Path) -> None:
    """The report as a Parquet file: the CSV's columns (``case_refs`` a list of strings).
    Needs pyarrow (``pip install 'openncii[spark]'``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            ("path", pa.string()),
            ("signal_type", pa.string()),
            ("hash", pa.string()),
            ("distance", pa.int32()),
            ("case_refs", pa.list_(pa.string())),
            ("error", pa.string()),
            ("skipped", pa.string()),
        ]
    )
    rows = list(report_rows(results))
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path)


def write_report(
    results: Sequence[ScanResult],
    bank: dict[str, int],
    out: TextIO,
    report_format: Literal["json", "csv"] = "json",
) -> None:
    """Write the report: JSON (:func:`report_json`) or CSV, one row per match, failure or
    skipped file (``case_refs`` joined by ``;``)."""
    if report_format == "json":
        json.dump(report_json(results, bank), out, indent=2)
        out.write("\n")
        return
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in report_rows(results):
        if "case_refs" in row:
            row["case_refs"] = ";".join(row["case_refs"])
        writer.writerow(row)
    out.write(buffer.getvalue())

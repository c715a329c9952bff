"""Scan files against the local bank: what ``openncii partner scan`` does, as a library.

:func:`media_files` walks folders; :func:`scan` hashes the files on a thread pool (decoding and
hashing release the GIL for most of their time) and matches each against a :class:`Matcher`;
:func:`write_report` writes the JSON or CSV report of matches and failures.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

from openncii.errors import MediaError, UnsupportedMediaError
from openncii.partner.matcher import Match, Matcher

__all__ = [
    "ScanResult",
    "matched_hashes",
    "media_files",
    "report_json",
    "scan",
    "totals",
    "write_report",
]

ReportFormat = Literal["json", "csv"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """One scanned file: its matches, or why it could not be hashed.

    ``skipped`` is true when the file is not an image or video at all (a text file, say): it
    is listed in the report but is not a failure. Other errors (corrupt or hostile media, an
    unreadable file) are failures.
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


def media_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """The files named, and every file under the folders named (sorted, hidden ones skipped).

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
        else:
            yield path


def _scan_one(matcher: Matcher, path: Path) -> ScanResult:
    try:
        hashes, matches = matcher.match_file(path)
    except UnsupportedMediaError as exc:
        return ScanResult(str(path), error=str(exc), skipped=True)
    except (MediaError, OSError) as exc:
        return ScanResult(str(path), error=str(exc) or type(exc).__name__)
    return ScanResult(str(path), hashes.media, hashes.quality, tuple(matches))


def scan(
    matcher: Matcher,
    files: Sequence[Path],
    *,
    workers: int | None = None,
    on_result: Callable[[ScanResult], None] | None = None,
) -> list[ScanResult]:
    """Hash and match every file; results in the order of ``files``.

    ``workers`` threads (default: one per CPU) hash at once; ``on_result`` is called as each
    file is done (in completion order), e.g. to advance a progress bar.
    """
    count = max(1, workers or os.cpu_count() or 1)
    results: list[ScanResult | None] = [None] * len(files)
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="openncii-scan") as pool:
        futures: dict[Future[ScanResult], int] = {
            pool.submit(_scan_one, matcher, path): i for i, path in enumerate(files)
        }
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            if on_result is not None:
                on_result(result)
    return [r for r in results if r is not None]


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


def write_report(
    results: Sequence[ScanResult],
    bank: dict[str, int],
    out: TextIO,
    report_format: ReportFormat = "json",
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
    for result in results:
        if result.skipped:
            writer.writerow({"path": result.path, "skipped": result.error})
        elif result.error is not None:
            writer.writerow({"path": result.path, "error": result.error})
        for match in result.matches:
            writer.writerow(
                {
                    "path": result.path,
                    "signal_type": match.signal,
                    "hash": match.hash,
                    "distance": match.distance,
                    "case_refs": ";".join(match.case_refs),
                }
            )
    out.write(buffer.getvalue())

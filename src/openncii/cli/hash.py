"""``openncii hash``: fingerprint photos and videos on this device.

Nothing leaves the machine: this command only reads the files and prints their hashes. With
``--json`` it prints one JSON object per file on stdout (the contract in DESIGN.md); otherwise a
table. A file that cannot be hashed gets one plain error line and the others are still hashed;
the exit status is 1 if any file failed.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from openncii.cli.common import ExitCode
from openncii.errors import OpenNCIIError
from openncii.media.sniff import MEDIA_SUFFIXES

if TYPE_CHECKING:
    from rich.console import Console

    from openncii.hashing import FileHashes

__all__ = ["MEDIA_SUFFIXES", "app", "collect_paths", "hash_command"]

app = typer.Typer()

#: More files than this get a progress bar (on stderr, when it is a terminal).
PROGRESS_MIN_FILES = 3


def collect_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand folders recursively (media endings only, hidden entries skipped, sorted)."""
    for path in paths:
        if path.is_dir():
            found: list[Path] = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(
                    Path(root) / name
                    for name in files
                    if not name.startswith(".") and Path(name).suffix.lower() in MEDIA_SUFFIXES
                )
            yield from sorted(found)
        else:
            yield path


def _hash_one(
    path: Path,
    dihedral: bool,
    video_fps: float | None,
    fast: bool,
    variants: Literal["enrol", "query"] | None = None,
) -> FileHashes | str:
    """Hash one file, or return a one-line error message (never raise, never a traceback)."""
    from openncii.hashing import DEFAULT_VIDEO_FPS, hash_file

    if video_fps is None:
        video_fps = DEFAULT_VIDEO_FPS
    try:
        return hash_file(path, dihedral=dihedral, video_fps=video_fps, fast=fast, variants=variants)
    except OpenNCIIError as exc:
        return str(exc)
    except FileNotFoundError:
        return "no such file"
    except PermissionError:
        return "permission denied"
    except OSError as exc:
        return f"could not read the file ({exc.strerror or type(exc).__name__})"
    except MemoryError:
        return "not enough memory to decode this file"
    except Exception as exc:  # a bug of ours must not stop the other files
        return f"internal error while hashing ({type(exc).__name__}); please report it"


@app.command("hash")
def hash_command(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Image or video files, or folders (searched recursively)."),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per file on stdout.")
    ] = False,
    dihedral: Annotated[
        bool,
        typer.Option(
            "--dihedral",
            help="Also give each image's 8 dihedral variants (itself, then its rotations and "
            "flips), derived from its PDQ's DCT as the reference does. They can differ from "
            "the PDQ of a really turned copy by tens of bits (--query-variants hashes turned "
            'pixels). JSON field "dihedral"; images only.',
        ),
    ] = False,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants",
            help="Also give each photo's robust-matching hashes (what a case submits: the "
            'whole photo, centred squares, strips, its trim; JSON field "variants").',
        ),
    ] = False,
    query_variants: Annotated[
        bool,
        typer.Option(
            "--query-variants",
            help="Also give the hashes a platform matches an upload with (POST /match's "
            '"variants"; instead of --variants).',
        ),
    ] = False,
    video_fps: Annotated[
        float | None,
        typer.Option(
            "--video-fps",
            min=0.0,
            help="Video frames hashed per second (0 = every frame; default: 1).",
        ),
    ] = None,
    full_resolution: Annotated[
        bool,
        typer.Option(
            "--full-resolution",
            help="Decode large JPEGs at full size (slower; bit-exact with the reference "
            "pipeline) instead of at reduced scale.",
        ),
    ] = False,
) -> None:
    """Compute PDQ (images), MD5 and vPDQ (videos) hashes. Files never leave this device.

    Images: JPEG, PNG, WebP, GIF, BMP, TIFF, HEIC/HEIF. Videos: MP4, MOV, WebM, MKV, AVI and
    what FFmpeg reads. Hashes of quality below 50 are reported but marked not shareable.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    if video_fps is not None and not math.isfinite(video_fps):
        raise typer.BadParameter("must be a finite number", param_hint="--video-fps")
    if variants and query_variants:
        raise typer.BadParameter("choose one of them", param_hint="--variants, --query-variants")
    regions: Literal["enrol", "query"] | None = (
        "enrol" if variants else "query" if query_variants else None
    )
    files = list(collect_paths(paths))
    out = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    results: list[tuple[Path, FileHashes | str]] = []
    failed = 0
    show_progress = len(files) > PROGRESS_MIN_FILES and err.is_terminal
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not show_progress,
    ) as progress:
        task = progress.add_task("Hashing", total=len(files))
        for path in files:
            result = _hash_one(path, dihedral, video_fps, not full_resolution, regions)
            if isinstance(result, str):
                failed += 1
            if as_json:
                _write_json(_json_record(path, result))
            else:
                results.append((path, result))
                if isinstance(result, str):
                    err.print(f"openncii: {path}: {result}", markup=False)
            progress.advance(task)
    if not as_json:
        _print_table(out, results)
    if not files:
        err.print("openncii: no media files found", markup=False)
        raise typer.Exit(ExitCode.FAILED)
    if failed:
        raise typer.Exit(ExitCode.FAILED)


def _json_record(path: Path, result: FileHashes | str) -> dict[str, Any]:
    if isinstance(result, str):
        return {"path": str(path), "error": result}
    return result.to_json()


def _write_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def _print_table(console: Console, results: list[tuple[Path, FileHashes | str]]) -> None:
    from rich.table import Table

    hashed = [(p, r) for p, r in results if not isinstance(r, str)]
    if not hashed:
        return
    table = Table(show_lines=False)
    table.add_column("file", overflow="fold")
    table.add_column("media")
    table.add_column("quality", justify="right")
    table.add_column("PDQ / vPDQ", overflow="fold")
    table.add_column("MD5", overflow="fold")
    for path, result in hashed:
        if result.media == "image":
            quality = str(result.quality)
            pdq = result.pdq or ""
            if result.variants is not None:
                pdq += f" ({len(result.variants)} robust-matching hashes)"
            if not result.shareable:
                quality += " (too low: not shareable)"
        else:
            frames = result.vpdq or ()
            good = sum(1 for f in frames if f.quality >= 50)
            quality = f"{good}/{len(frames)} frames >= 50"
            pdq = f"{len(frames)} frame hashes"
        table.add_row(str(path), result.media, quality, pdq, result.md5)
    console.print(table)

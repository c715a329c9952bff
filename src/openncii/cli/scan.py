"""``openncii partner scan``: hash a folder of media and report what matches the local bank.

Exit statuses (the table in :mod:`openncii.cli.common`): 0 done, with or without matches; 1 some
media files could not be hashed (corrupt, truncated, too large: they are in the report; files
that are not media are skipped, not failures); with ``--feedback``, those of ``openncii partner
feedback``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from openncii.cli.common import (
    ExitCode,
    PartnerServerOption,
    RetriesOption,
    StoreOption,
    fail,
    feedback_value,
    open_partner_store,
    partner_key,
    partner_settings,
    send_outcomes,
)

__all__ = ["app", "scan"]

#: ``scan`` joins the ``openncii partner`` group (assembled in :mod:`openncii.cli._app`).
app = typer.Typer()


@app.command("scan")
def scan(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH...", help="Files and folders (walked recursively)."),
    ],
    store: StoreOption = None,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            "-o",
            help="Write the report here (default: standard output).",
            dir_okay=False,
        ),
    ] = None,
    report_format: Annotated[
        Literal["json", "csv"] | None,
        typer.Option("--format", help="json or csv (default: from --report's suffix, else json)."),
    ] = None,
    threshold: Annotated[
        int, typer.Option(min=0, max=64, help="PDQ distance threshold (inclusive).")
    ] = 31,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Files hashed at once (default: one per CPU).")
    ] = None,
    feedback: Annotated[
        str | None,
        typer.Option(
            "--feedback",
            help="Report this outcome (e.g. PendingReview) to the server for every matched hash.",
        ),
    ] = None,
    server: PartnerServerOption = None,
    retries: RetriesOption = 6,
) -> None:
    """Hash every image and video under PATH... and report the ones that match the local bank.

    Images are matched by PDQ with all 8 rotations and mirrorings (distance <= --threshold) and by MD5; videos by MD5 and vPDQ.

    The report lists each file that matched (the bank hash, the distance, the opaque case references) and each file that could not be hashed.

    With --feedback, the outcome is sent for every matched hash (partner key from OPENNCII_PARTNER_KEY or a prompt) and recorded in the store.

    Files that are not images or videos are listed as skipped. Exit status 1 when some media files could not be hashed (corrupt, truncated, too large: they are listed in the report).
    """  # noqa: E501 - one line per paragraph: the help text is wrapped by the terminal
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from openncii.partner.matcher import Matcher, StoreBank
    from openncii.partner.scan import matched_hashes, media_files, totals, write_report
    from openncii.partner.scan import scan as scan_files

    chosen = None if feedback is None else feedback_value("partner scan", "--feedback", feedback)
    fmt: Literal["json", "csv"] = report_format or (
        "csv" if report is not None and report.suffix.lower() == ".csv" else "json"
    )
    settings = partner_settings("partner scan", store=store, server=server)
    key = partner_key("partner scan", settings) if chosen is not None else None
    local = open_partner_store("partner scan", settings)
    try:
        files = list(media_files(paths))
        matcher = Matcher(StoreBank(local), threshold=threshold)
        try:
            matcher.refresh()
        except Exception as exc:
            fail("partner scan", f"cannot read the store: {exc}", ExitCode.STORE)
        bank = {str(kind): count for kind, count in matcher.counts().items()}
        if sum(bank.values()) == 0:
            typer.echo(
                "openncii partner scan: the local store holds no active hash "
                "(run `openncii partner sync` first).",
                err=True,
            )
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as progress:
            task = progress.add_task("Scanning", total=len(files))
            results = scan_files(
                matcher, files, workers=workers, on_result=lambda _: progress.advance(task)
            )
        if report is None:
            write_report(results, bank, sys.stdout, fmt)
        else:
            with report.open("w", encoding="utf-8", newline="") as out:
                write_report(results, bank, out, fmt)
        done = totals(results)
        typer.echo(
            f"Scanned {done['scanned']} files: {done['matched']} matched, {done['failed']} could "
            f"not be hashed, {done['skipped']} skipped (not images or videos).",
            err=True,
        )
        if chosen is not None and key is not None:
            matched = matched_hashes(results)
            if matched:
                sent = send_outcomes(
                    "partner scan", settings, local, matched, chosen, key=key, retries=retries
                )
                typer.echo(f"Reported {chosen} for {len(sent.sent)} matched hashes.", err=True)
    finally:
        local.close()
    if done["failed"]:
        raise typer.Exit(ExitCode.FAILED)

"""``openncii partner scan``: hash a folder of media and report what matches the local bank.

Exit statuses (the table in :mod:`openncii.cli.common`): 0 done, with or without matches; 1 some
media files could not be hashed (corrupt, truncated, too large, or not what their name says:
they are in the report; files that are not media are skipped, not failures); with
``--feedback``, those of ``openncii partner feedback``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from openncii.cli.common import (
    ExitCode,
    FeedbackOption,
    PartnerServerOption,
    ReportOption,
    RetriesOption,
    StoreOption,
    exit_on_error,
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
        list[str],
        typer.Argument(
            metavar="SOURCE...",
            help="Files, folders (walked recursively) and glob patterns ('photos/**/*.jpg'); "
            "with --engine spark also a Parquet table of URIs (a 'uri' column, optional 'id').",
        ),
    ],
    store: StoreOption = None,
    report: ReportOption = None,
    report_format: Annotated[
        Literal["json", "csv", "parquet"] | None,
        typer.Option(
            "--format",
            help="json, csv or parquet (default: from --report's suffix, else json).",
        ),
    ] = None,
    threshold: Annotated[
        int,
        typer.Option(
            min=0,
            max=31,
            help="Largest PDQ distance of a match; it can only lower the limit of each pair of "
            "kinds (parts of photos, squares and strips, match closer: docs/matching.md).",
        ),
    ] = 31,
    variants: Annotated[
        bool,
        typer.Option(
            "--variants/--no-variants",
            help="Also match crops, borders and tilts (robust query variants; about 3x the "
            "hashing work per image).",
        ),
    ] = True,
    engine: Annotated[
        Literal["process", "spark"],
        typer.Option(
            help="process: worker processes on this machine; spark: an Apache Spark job "
            "(pip install 'openncii[spark]', a Java runtime).",
        ),
    ] = "process",
    master: Annotated[
        str,
        typer.Option(help="With --engine spark: the Spark master (local[2], yarn, spark://...)."),
    ] = "local[2]",
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Processes hashing at once (default: one per CPU)."),
    ] = None,
    feedback: FeedbackOption = None,
    server: PartnerServerOption = None,
    retries: RetriesOption = 6,
) -> None:
    """Hash every image and video of SOURCE... and report the ones that match the local bank.

    Images are matched by PDQ with all 8 rotations and mirrorings and (unless --no-variants) crops, borders and tilts, by the pair rules of docs/matching.md; and by MD5. Videos by MD5 and vPDQ.

    The report lists each file that matched (the bank hash, the distance, the opaque case references) and each file that could not be hashed.

    With --feedback, the outcome is sent for every matched hash (partner key from OPENNCII_PARTNER_KEY or a prompt) and recorded in the store.

    Files that are not images or videos are listed as skipped. Exit status 1 when some media files could not be hashed (corrupt, truncated, not what their name says: they are listed in the report).
    """  # noqa: E501 - one line per paragraph: the help text is wrapped by the terminal
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from openncii.partner.matcher import StoreBank
    from openncii.partner.scan import (
        bank_sizes,
        matched_hashes,
        media_files,
        totals,
        write_parquet_report,
        write_report,
    )
    from openncii.partner.scan import scan as scan_files

    chosen = None if feedback is None else feedback_value("partner scan", "--feedback", feedback)
    suffix = report.suffix.lower() if report is not None else ""
    fmt: Literal["json", "csv", "parquet"] = report_format or (
        "csv" if suffix == ".csv" else "parquet" if suffix == ".parquet" else "json"
    )
    if fmt == "parquet" and report is None:
        fail("partner scan", "a Parquet report needs --report FILE.", ExitCode.USAGE)
    settings = partner_settings("partner scan", store=store, server=server)
    key = partner_key("partner scan", settings) if chosen is not None else None
    local = open_partner_store("partner scan", settings)
    try:
        bank_source = StoreBank(local)
        try:
            bank = bank_sizes(local.counts())
        except Exception as exc:
            fail("partner scan", f"cannot read the store: {exc}", ExitCode.STORE)
        if sum(bank.values()) == 0:
            typer.echo(
                "openncii partner scan: the local store holds no active hash "
                "(run `openncii partner sync` first).",
                err=True,
            )
        with exit_on_error("partner scan"):
            if engine == "spark":
                from openncii.partner.spark import scan_with_spark

                typer.echo(f"Scanning with Spark ({master})...", err=True)
                results = scan_with_spark(
                    bank_source,
                    paths,
                    master=master,
                    threshold=threshold,
                    variants=variants,
                )
            else:
                files = list(media_files(paths))
                with Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                    console=Console(stderr=True),
                    transient=True,
                ) as progress:
                    task = progress.add_task("Scanning", total=len(files))

                    def within(path: str, seconds: float) -> None:
                        minutes, rest = divmod(int(seconds), 60)
                        progress.update(
                            task,
                            description=f"Scanning ({Path(path).name}: {minutes}:{rest:02d} "
                            "of video hashed)",
                        )

                    results = scan_files(
                        bank_source,
                        files,
                        workers=workers,
                        threshold=threshold,
                        variants=variants,
                        cache_dir=settings.bank_cache_dir,
                        on_result=lambda _: progress.update(
                            task, advance=1, description="Scanning"
                        ),
                        on_progress=within,
                    )
        if fmt == "parquet" and report is not None:
            write_parquet_report(results, report)
        elif report is None:
            write_report(results, bank, sys.stdout, "csv" if fmt == "csv" else "json")
        else:
            with report.open("w", encoding="utf-8", newline="") as out:
                write_report(results, bank, out, "csv" if fmt == "csv" else "json")
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

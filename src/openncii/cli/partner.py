"""``openncii partner``: what a participating platform runs (sync the bank, report outcomes).

``openncii partner scan`` is in :mod:`openncii.cli.scan`; the exit statuses of every command are
the table in :mod:`openncii.cli.common`.

The partner key comes from ``OPENNCII_PARTNER_KEY`` or a hidden prompt, never from an argument
(arguments end up in shell histories and process lists). Hash values and keys are never printed,
except the hash the ``feedback`` command was given.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

import typer

from openncii.cli.common import (
    ExitCode,
    FeedbackOption,
    PartnerServerOption,
    ReportOption,
    RetriesOption,
    StoreOption,
    exit_on_error,
    exit_statuses_help,
    fail,
    feed_client,
    feedback_value,
    open_partner_store,
    partner_key,
    partner_settings,
    send_outcomes,
)
from openncii.stopncii import PARTNER_FEEDBACK_VALUES

__all__ = ["app"]

_HEX: Final = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")

app = typer.Typer(
    name="partner",
    help="Participating platform: sync the hash bank into a local store, scan media against "
    "it, report outcomes.\n\n" + exit_statuses_help(),
    no_args_is_help=True,
)


@app.command("sync")
def sync(
    server: Annotated[
        str | None,
        typer.Option(
            "--server",
            help="The OpenNCII server, e.g. https://ncii.example.org (OPENNCII_PARTNER_SERVER; "
            "required).",
        ),
    ] = None,
    store: StoreOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Fetch the whole bank again (a full resync).")
    ] = False,
    page_size: Annotated[
        int, typer.Option("--page-size", min=1, max=1000, help="Records per request.")
    ] = 1000,
    retries: RetriesOption = 6,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Bring the local store up to date with the server's hash bank.

    Fetches what changed since the last sync (everything the first time), removes withdrawn hashes.

    A last sync older than 30 days, or another server, means a full resync.

    Safe to interrupt: each page is committed with the checkpoint; the next run resumes there.

    The partner key is read from OPENNCII_PARTNER_KEY, or a hidden prompt.
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from openncii.partner import SyncProgress

    settings = partner_settings("partner sync", store=store, server=server)
    if settings.server is None:
        fail(
            "partner sync",
            f"which server? Give --server or set {settings.env_name('server')}.",
            ExitCode.USAGE,
        )
    key = partner_key("partner sync", settings)
    client = feed_client("partner sync", settings, key, retries=retries, page_size=page_size)
    local = open_partner_store("partner sync", settings)
    console = Console(stderr=True)
    started = datetime.now(UTC)
    try:
        with (
            exit_on_error("partner sync"),
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TextColumn("[bold]{task.completed:,.0f}[/] records"),
                TextColumn("{task.fields[rate]:,.0f} records/s"),
                TimeElapsedColumn(),
                console=console,
                disable=quiet,
                transient=False,
            ) as bar,
        ):
            task = bar.add_task("Syncing", total=None, rate=0.0)

            def report(done: SyncProgress) -> None:
                seconds = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
                label = "Full resync" if done.full_resync else "Syncing"
                bar.update(
                    task, completed=done.records, rate=done.records / seconds, description=label
                )

            result = client.sync(local, full=full, progress=report)
    except KeyboardInterrupt:
        fail(
            "partner sync",
            "interrupted; run it again to resume where it stopped.",
            ExitCode.INTERRUPTED,
        )
    finally:
        client.close()
        counts = local.counts()
        local.close()
    seconds = (datetime.now(UTC) - started).total_seconds()
    kind = f"Full resync ({result.reason})" if result.full_resync else "Incremental sync"
    if result.resumed:
        kind += ", resumed"
    c = result.counts
    typer.echo(
        f"{kind}: {result.records:,} records in {result.pages:,} pages, {seconds:.1f} s; "
        f"{c.added:,} added, {c.updated:,} updated, {c.removed:,} removed.",
        err=True,
    )
    typer.echo(
        f"Store: {counts['pdq']:,} PDQ, {counts['md5']:,} MD5, {counts['vpdq']:,} vPDQ "
        "active hashes.",
        err=True,
    )


@app.command("feedback")
def feedback(
    hash_value: Annotated[
        str,
        typer.Argument(
            metavar="HASH",
            help="The hash as the feed sent it: PDQ (64 hex), MD5 (32 hex) or a vPDQ record's "
            "SHA-256 (64 hex).",
        ),
    ],
    value: Annotated[
        str,
        typer.Argument(
            metavar="VALUE",
            help="One of " + ", ".join(PARTNER_FEEDBACK_VALUES) + ".",
        ),
    ],
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="A tag (repeatable; 1-100 characters, at most 20)."),
    ] = None,
    server: PartnerServerOption = None,
    store: StoreOption = None,
    retries: RetriesOption = 6,
) -> None:
    """Report one outcome for a hash (SubmitFeedback) and record it in the local store.

    The person whose case holds the hash sees it in the case status; other partners in the feed.

    Exit status 1 when the server does not hold the hash (still recorded locally, as such).

    The partner key is read from OPENNCII_PARTNER_KEY, or a hidden prompt.
    """
    from openncii.partner import signal_type_of

    normalised = hash_value.strip().lower()
    if _HEX.fullmatch(normalised) is None:
        fail(
            "partner feedback",
            "HASH must be 32 (MD5) or 64 (PDQ, vPDQ digest) hex characters.",
            ExitCode.USAGE,
        )
    chosen = feedback_value("partner feedback", "VALUE", value)
    tags = tuple(dict.fromkeys(t.strip() for t in tag or []))
    if len(tags) > 20 or any(not 0 < len(t) <= 100 for t in tags):
        fail(
            "partner feedback", "tags are 1 to 100 characters, at most 20 of them.", ExitCode.USAGE
        )
    settings = partner_settings("partner feedback", store=store, server=server)
    key = partner_key("partner feedback", settings)
    local = open_partner_store("partner feedback", settings)
    try:
        hashes = {normalised: signal_type_of(local, normalised)}
        report = send_outcomes(
            "partner feedback", settings, local, hashes, chosen, key=key, retries=retries, tags=tags
        )
    finally:
        local.close()
    if report.not_found:
        fail(
            "partner feedback", f"the server does not hold the hash {normalised}.", ExitCode.FAILED
        )
    typer.echo(f"Reported {chosen} for {normalised}.", err=True)


@app.command("export-bank")
def export_bank(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Where to write the snapshot: a path or an fsspec URI (s3://..., gs://...).",
        ),
    ],
    store: StoreOption = None,
) -> None:
    """Write the local bank as a Parquet snapshot for a cluster scan (no case references).

    One row per active hash: bank key, signal type, kind, hash; the store's sequence number and a checksum in the file's metadata. Match it with openncii.partner.spark.match_hashes or the spark-submit job (openncii.partner.spark_job), then bring the matches back with `openncii partner import-matches`.

    Needs pip install 'openncii[spark]'.
    """  # noqa: E501 - one line per paragraph: the help text is wrapped by the terminal
    from openncii.partner.bank import bank_data_from_source
    from openncii.partner.bankfile import write_bank
    from openncii.partner.matcher import StoreBank

    settings = partner_settings("partner export-bank", store=store)
    local = open_partner_store("partner export-bank", settings)
    try:
        with exit_on_error("partner export-bank"):
            data = bank_data_from_source(StoreBank(local))
            write_bank(data, file)
    finally:
        local.close()
    c = data.counts()
    typer.echo(
        f"Exported {c['pdq']:,} PDQ, {c['md5']:,} MD5, {c['vpdq']:,} vPDQ hashes (sequence "
        f"{data.sequence}) to {file}.",
        err=True,
    )


@app.command("import-matches")
def import_matches(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="The matches a cluster scan wrote: a Parquet file or folder, path or URI.",
        ),
    ],
    store: StoreOption = None,
    report: ReportOption = None,
    report_format: Annotated[
        Literal["json", "csv"] | None,
        typer.Option("--format", help="json or csv (default: from --report's suffix, else json)."),
    ] = None,
    feedback: FeedbackOption = None,
    server: PartnerServerOption = None,
    retries: RetriesOption = 6,
) -> None:
    """Join the matches of a cluster scan with the case references of the local store.

    Writes the same report as `openncii partner scan` for the matched items. Matches of hashes withdrawn since the export are left out.

    With --feedback, the outcome is sent for every matched hash (partner key from OPENNCII_PARTNER_KEY or a prompt) and recorded in the store.
    """  # noqa: E501 - one line per paragraph: the help text is wrapped by the terminal
    from openncii.partner.matcher import StoreBank
    from openncii.partner.scan import bank_sizes, matched_hashes, read_matches, write_report

    chosen = (
        None
        if feedback is None
        else feedback_value("partner import-matches", "--feedback", feedback)
    )
    fmt: Literal["json", "csv"] = report_format or (
        "csv" if report is not None and report.suffix.lower() == ".csv" else "json"
    )
    settings = partner_settings("partner import-matches", store=store, server=server)
    key = partner_key("partner import-matches", settings) if chosen is not None else None
    local = open_partner_store("partner import-matches", settings)
    try:
        with exit_on_error("partner import-matches"):
            results, dropped = read_matches(file, StoreBank(local))
        bank = bank_sizes(local.counts())
        if report is None:
            write_report(results, bank, sys.stdout, fmt)
        else:
            with report.open("w", encoding="utf-8", newline="") as out:
                write_report(results, bank, out, fmt)
        typer.echo(
            f"{len(results):,} items matched; {dropped:,} matches of hashes withdrawn since the "
            "export left out.",
            err=True,
        )
        if chosen is not None and key is not None:
            matched = matched_hashes(results)
            if matched:
                sent = send_outcomes(
                    "partner import-matches",
                    settings,
                    local,
                    matched,
                    chosen,
                    key=key,
                    retries=retries,
                )
                typer.echo(f"Reported {chosen} for {len(sent.sent)} matched hashes.", err=True)
    finally:
        local.close()

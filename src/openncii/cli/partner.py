"""``openncii partner``: what a participating platform runs (sync the bank, report outcomes).

Exit statuses (``sync`` and ``feedback``):

- 0: done.
- 1: ``feedback`` only: the server does not hold this hash (the outcome is still saved locally).
- 2: usage error: a bad option or value, no partner key.
- 3: the server refused the partner key (401/403).
- 4: the server is unavailable (network errors, 429 or 5xx after the retries); run again later,
  the sync resumes where it stopped.
- 5: the server's answer is malformed, or it refused the request; nothing of it was stored.
- 6: the local store cannot be used, or another sync is using it (one at a time per store).
- 130: interrupted (Ctrl-C); the sync resumes where it stopped.

The partner key comes from ``OPENNCII_PARTNER_KEY`` or a hidden prompt, never from an argument
(arguments end up in shell histories and process lists). Hash values and keys are never printed,
except the hash the ``feedback`` command was given.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final, NoReturn

import typer

from openncii.cli._app import app

if TYPE_CHECKING:
    from openncii.partner import FeedClient, PartnerStore

__all__ = [
    "EXIT_AUTH",
    "EXIT_NOT_FOUND",
    "EXIT_PROTOCOL",
    "EXIT_STORE",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "default_store_path",
    "partner_app",
]

EXIT_NOT_FOUND: Final = 1
EXIT_USAGE: Final = 2
EXIT_AUTH: Final = 3
EXIT_UNAVAILABLE: Final = 4
EXIT_PROTOCOL: Final = 5
EXIT_STORE: Final = 6
EXIT_INTERRUPTED: Final = 130

#: Environment variable holding the partner key.
KEY_ENV: Final = "OPENNCII_PARTNER_KEY"
_STORE_FILE: Final = "partner.sqlite3"
_HEX: Final = re.compile(r"[0-9a-f]{32}|[0-9a-f]{64}")

partner_app = typer.Typer(
    name="partner",
    help="Participating platform: sync the hash bank into a local store, scan media against "
    "it, report outcomes.\n\n"
    "Exit statuses: 0 done; 1 feedback: the server does not hold the hash, scan: some media "
    "could not be hashed; 2 usage error or no "
    "key; 3 key refused; 4 server unavailable (run again: the sync resumes); 5 malformed or "
    "refused answer (nothing stored); 6 unusable local store or another sync running; "
    "130 interrupted.",
    no_args_is_help=True,
)
app.add_typer(partner_app)


def default_store_path() -> Path:
    """``partner.sqlite3`` in the user data directory (as the server's default database)."""
    from platformdirs import user_data_path

    return user_data_path("openncii", appauthor=False) / _STORE_FILE


StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        envvar="OPENNCII_PARTNER_STORE",
        help="The local store (SQLite file; OPENNCII_PARTNER_STORE). "
        "Default: partner.sqlite3 in the user data directory.",
        dir_okay=False,
    ),
]

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="OPENNCII_PARTNER_SERVER",
        help="The OpenNCII server (default: the one the store was synced with).",
    ),
]

RetriesOption = Annotated[
    int,
    typer.Option(
        "--retries",
        min=1,
        max=100,
        help="Tries per request on network errors, 429 and 5xx (exponential backoff, jitter).",
    ),
]


def _fail(command: str, message: str, code: int) -> NoReturn:
    typer.echo(f"openncii partner {command}: {message}", err=True)
    raise typer.Exit(code)


def _key(command: str) -> str:
    key = os.environ.get(KEY_ENV, "").strip()
    if key:
        return key
    try:
        key = typer.prompt("Partner API key", hide_input=True, err=True).strip()
    except typer.Abort:
        key = ""
    if not key:
        _fail(command, f"a partner key is required: set {KEY_ENV} or type it at the prompt.", 2)
    return key


def _feedback_value(command: str, what: str, value: str) -> str:
    """The feedback value as the API spells it, whatever its case; a usage error if unknown."""
    from openncii.stopncii import FEEDBACK_VALUES

    chosen = {v.lower(): v for v in FEEDBACK_VALUES}.get(value.strip().lower())
    if chosen is None:
        _fail(command, f"{what} must be one of {', '.join(FEEDBACK_VALUES)}.", EXIT_USAGE)
    return chosen


def _open_store(command: str, path: Path | None) -> PartnerStore:
    from openncii.errors import PartnerStoreError
    from openncii.partner import PartnerStore

    try:
        return PartnerStore.open(path or default_store_path())
    except (PartnerStoreError, OSError) as exc:
        _fail(command, str(exc), EXIT_STORE)


def _client(command: str, server: str, key: str, page_size: int, retries: int) -> FeedClient:
    from openncii.partner import FeedClient, RetryPolicy

    try:
        return FeedClient(server, key, page_size=page_size, retry=RetryPolicy(attempts=retries))
    except ValueError as exc:
        _fail(command, str(exc), EXIT_USAGE)


def _feedback_client(
    command: str, server: str | None, local: PartnerStore, key: str, retries: int
) -> FeedClient:
    """A client for ``SubmitFeedback``: ``--server``, else the server the store was synced with."""
    target = server or local.sync_state().server
    if not target:
        _fail(command, "no --server given and the store was never synced.", EXIT_USAGE)
    return _client(command, target, key, 1000, retries)


def _map_errors(command: str, exc: Exception) -> NoReturn:
    from openncii.errors import (
        FeedAuthError,
        FeedProtocolError,
        FeedRejectedError,
        FeedUnavailableError,
        PartnerStoreError,
    )

    codes: list[tuple[type[Exception], int]] = [
        (FeedAuthError, EXIT_AUTH),
        (FeedUnavailableError, EXIT_UNAVAILABLE),
        (FeedProtocolError, EXIT_PROTOCOL),
        (FeedRejectedError, EXIT_PROTOCOL),
        (PartnerStoreError, EXIT_STORE),
    ]
    for kind, code in codes:
        if isinstance(exc, kind):
            _fail(command, str(exc), code)
    raise exc


@partner_app.command("sync")
def sync(
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="OPENNCII_PARTNER_SERVER",
            help="The OpenNCII server, e.g. https://ncii.example.org (OPENNCII_PARTNER_SERVER).",
        ),
    ],
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

    from openncii.errors import PartnerClientError
    from openncii.partner import SyncProgress

    key = _key("sync")
    client = _client("sync", server, key, page_size, retries)
    local = _open_store("sync", store)
    console = Console(stderr=True)
    started = datetime.now(UTC)
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TextColumn("[bold]{task.completed:,.0f}[/] records"),
            TextColumn("{task.fields[rate]:,.0f} records/s"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
            transient=False,
        ) as bar:
            task = bar.add_task("Syncing", total=None, rate=0.0)

            def report(done: SyncProgress) -> None:
                seconds = max((datetime.now(UTC) - started).total_seconds(), 1e-6)
                label = "Full resync" if done.full_resync else "Syncing"
                bar.update(
                    task, completed=done.records, rate=done.records / seconds, description=label
                )

            result = client.sync(local, full=full, progress=report)
    except PartnerClientError as exc:
        _map_errors("sync", exc)
    except KeyboardInterrupt:
        _fail("sync", "interrupted; run it again to resume where it stopped.", EXIT_INTERRUPTED)
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


@partner_app.command("feedback")
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
            help="None, QualityUnknown, PendingReview, Blocked, NotBlocked, Withdrawn or Deleted.",
        ),
    ],
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", help="A tag (repeatable; 1-100 characters, at most 20)."),
    ] = None,
    server: ServerOption = None,
    store: StoreOption = None,
    retries: RetriesOption = 6,
) -> None:
    """Report one outcome for a hash (SubmitFeedback) and record it in the local store.

    The person whose case holds the hash sees it in the case status; other partners in the feed.

    Exit status 1 when the server does not hold the hash (still recorded locally, as such).

    The partner key is read from OPENNCII_PARTNER_KEY, or a hidden prompt.
    """
    from openncii.errors import PartnerClientError
    from openncii.partner import SIGNAL_MD5, FeedbackItem, Outcome

    normalised = hash_value.strip().lower()
    if _HEX.fullmatch(normalised) is None:
        _fail("feedback", "HASH must be 32 (MD5) or 64 (PDQ, vPDQ digest) hex characters.", 2)
    chosen = _feedback_value("feedback", "VALUE", value)
    tags = tuple(dict.fromkeys(t.strip() for t in tag or []))
    if len(tags) > 20 or any(not 0 < len(t) <= 100 for t in tags):
        _fail("feedback", "tags are 1 to 100 characters, at most 20 of them.", 2)
    key = _key("feedback")
    local = _open_store("feedback", store)
    try:
        client = _feedback_client("feedback", server, local, key, retries)
        signal_type: str | None = SIGNAL_MD5 if len(normalised) == 32 else None
        if signal_type is None:
            for candidate in ("pdq", "vpdq"):
                if local.get(candidate, normalised) is not None:
                    signal_type = candidate
                    break
        try:
            answer = client.submit_feedback([FeedbackItem(normalised, chosen, tags)])
        except PartnerClientError as exc:
            _map_errors("feedback", exc)
        finally:
            client.close()
        recorded = not answer.not_found
        local.record_outcome(
            Outcome(normalised, signal_type, chosen, tags, datetime.now(UTC), recorded)
        )
    finally:
        local.close()
    if not recorded:
        _fail("feedback", f"the server does not hold the hash {normalised}.", EXIT_NOT_FOUND)
    typer.echo(f"Reported {chosen} for {normalised}.", err=True)

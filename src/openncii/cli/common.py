"""What the ``openncii`` commands share: exit statuses, errors, options and server logging.

- :class:`ExitCode` and :data:`EXIT_MEANINGS` are the one table of exit statuses; ``--help``
  (:func:`exit_statuses_help`) and ``docs/partners.md`` (checked by a test) are generated from
  it.
- :func:`fail` ends a command with a message on stderr and an exit status;
  :func:`exit_code_for` and :func:`exit_on_error` map OpenNCII's error classes to exit statuses.
- The ``Annotated`` options several commands take (``--store``, ``--server``, ``--retries``,
  ``--database-url``, ``--log-level``) and the values they resolve to (the partner key, the
  local store, a feed client).

Only light modules are imported here: ``openncii --help`` must stay fast.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn

import typer

from openncii import errors

if TYPE_CHECKING:
    from openncii.partner import FeedbackReport, FeedClient, PartnerStore

__all__ = [
    "EXIT_MEANINGS",
    "DatabaseUrlOption",
    "ExitCode",
    "LogLevelOption",
    "PartnerServerOption",
    "RetriesOption",
    "StoreOption",
    "exit_code_for",
    "exit_on_error",
    "exit_statuses_help",
    "exit_statuses_markdown",
    "fail",
    "feed_client",
    "feedback_value",
    "log_config",
    "open_partner_store",
    "partner_key",
    "send_outcomes",
]


# ------------------------------------------------------------------------------------------------
# Exit statuses
# ------------------------------------------------------------------------------------------------


class ExitCode(IntEnum):
    """Every exit status an ``openncii`` command ends with (meanings: :data:`EXIT_MEANINGS`)."""

    OK = 0
    FAILED = 1
    USAGE = 2
    AUTH = 3
    UNAVAILABLE = 4
    PROTOCOL = 5
    STORE = 6
    INTERRUPTED = 130


#: What each exit status means: the one table that ``--help`` and the docs are made from.
EXIT_MEANINGS: Final[Mapping[ExitCode, str]] = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "`hash`, `partner scan`: some media could not be hashed; `partner feedback`: "
    "the server does not hold the hash (still recorded locally); `case`, `partners`: the server "
    "or the database refused the request",
    ExitCode.USAGE: "usage error: a bad option, value or setting, or no partner key; `case`: "
    "the server cannot be reached",
    ExitCode.AUTH: "the server refused the partner key (401/403)",
    ExitCode.UNAVAILABLE: "the server is unavailable (network errors, 429 or 5xx after the "
    "retries); run it again: a sync resumes where it stopped",
    ExitCode.PROTOCOL: "the server's answer is malformed, or it refused the request; nothing of "
    "it was stored",
    ExitCode.STORE: "the local store cannot be used, or another sync is using it (one at a time "
    "per store)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C); a sync resumes where it stopped",
}


def exit_statuses_help(width: int = 78) -> str:
    """The table for ``--help``: one entry a code, wrapped here and kept as is (``\\b``)."""
    import textwrap

    lines = ["\b", "Exit statuses:"]
    for code in ExitCode:
        lines += textwrap.wrap(
            EXIT_MEANINGS[code].replace("`", "") + ".",
            width=width - 2,
            initial_indent=f"  {int(code):<5}",
            subsequent_indent=" " * 7,
        )
    return "\n".join(lines)


def exit_statuses_markdown() -> str:
    """The table as a Markdown list (what ``docs/partners.md`` holds)."""
    return "\n".join(f"- `{int(code)}`: {EXIT_MEANINGS[code]}." for code in ExitCode)


def fail(command: str | None, message: str, code: ExitCode) -> NoReturn:
    """Print ``openncii COMMAND: MESSAGE`` (or the bare message, for a person's prompts) on
    stderr and end the command with ``code``."""
    typer.echo(message if command is None else f"openncii {command}: {message}", err=True)
    raise typer.Exit(int(code))


#: The exit status of each error class a command may end with; the most specific class of an
#: error (its method resolution order) decides.
_ERROR_EXITS: Final[Mapping[type[BaseException], ExitCode]] = {
    errors.FeedAuthError: ExitCode.AUTH,
    errors.FeedUnavailableError: ExitCode.UNAVAILABLE,
    errors.FeedProtocolError: ExitCode.PROTOCOL,
    errors.FeedRejectedError: ExitCode.PROTOCOL,
    errors.PartnerStoreError: ExitCode.STORE,
    errors.ConfigurationError: ExitCode.USAGE,
    errors.ServiceError: ExitCode.FAILED,
}


def exit_code_for(exc: BaseException) -> ExitCode | None:
    """The exit status for ``exc``, or None when no command should turn it into one."""
    for kind in type(exc).__mro__:
        code = _ERROR_EXITS.get(kind)
        if code is not None:
            return code
    return None


@contextmanager
def exit_on_error(command: str) -> Iterator[None]:
    """Turn the errors of :func:`exit_code_for` into a message and an exit status; others
    propagate (a bug shows its traceback)."""
    try:
        yield
    except errors.OpenNCIIError as exc:
        code = exit_code_for(exc)
        if code is None:
            raise
        fail(command, str(exc), code)


# ------------------------------------------------------------------------------------------------
# Options more than one command takes
# ------------------------------------------------------------------------------------------------

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="SQLAlchemy URL (OPENNCII_DATABASE_URL); default: SQLite in the user data dir.",
    ),
]

LogLevelOption = Annotated[str, typer.Option(help="Log level of the server.")]

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

PartnerServerOption = Annotated[
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

#: Environment variable holding the partner key.
PARTNER_KEY_ENV: Final = "OPENNCII_PARTNER_KEY"
_STORE_FILE: Final = "partner.sqlite3"


def default_store_path() -> Path:
    """``partner.sqlite3`` in the user data directory (as the server's default database)."""
    from platformdirs import user_data_path

    return user_data_path("openncii", appauthor=False) / _STORE_FILE


def partner_key(command: str) -> str:
    """The partner key: ``OPENNCII_PARTNER_KEY``, else a hidden prompt; a usage error if none."""
    import os

    key = os.environ.get(PARTNER_KEY_ENV, "").strip()
    if key:
        return key
    try:
        key = typer.prompt("Partner API key", hide_input=True, err=True).strip()
    except typer.Abort:
        key = ""
    if not key:
        fail(
            command,
            f"a partner key is required: set {PARTNER_KEY_ENV} or type it at the prompt.",
            ExitCode.USAGE,
        )
    return key


def feedback_value(command: str, what: str, value: str) -> str:
    """The feedback value as the API spells it, whatever its case; a usage error if unknown."""
    from openncii.stopncii import FEEDBACK_VALUES

    chosen = {v.lower(): v for v in FEEDBACK_VALUES}.get(value.strip().lower())
    if chosen is None:
        fail(command, f"{what} must be one of {', '.join(FEEDBACK_VALUES)}.", ExitCode.USAGE)
    return chosen


def open_partner_store(command: str, path: Path | None) -> PartnerStore:
    """The local store at ``path`` (default :func:`default_store_path`); exit 6 if unusable."""
    from openncii.partner import PartnerStore

    try:
        return PartnerStore.open(path or default_store_path())
    except (errors.PartnerStoreError, OSError) as exc:
        fail(command, str(exc), ExitCode.STORE)


def feed_client(
    command: str,
    server: str | None,
    key: str,
    *,
    retries: int,
    page_size: int | None = None,
    store: PartnerStore | None = None,
) -> FeedClient:
    """A feed client for ``server``, else for the server ``store`` was synced with."""
    from openncii.partner import DEFAULT_PAGE_SIZE, FeedClient, RetryPolicy

    target = server or (store.sync_state().server if store is not None else None)
    if not target:
        fail(command, "no --server given and the store was never synced.", ExitCode.USAGE)
    try:
        return FeedClient(
            target,
            key,
            page_size=page_size or DEFAULT_PAGE_SIZE,
            retry=RetryPolicy(attempts=retries),
        )
    except ValueError as exc:
        fail(command, str(exc), ExitCode.USAGE)


def send_outcomes(
    command: str,
    store: PartnerStore,
    hashes: Mapping[str, str | None],
    feedback: str,
    *,
    key: str,
    server: str | None,
    retries: int,
    tags: tuple[str, ...] = (),
) -> FeedbackReport:
    """Report ``feedback`` for ``hashes`` (value -> signal type) to ``server`` (else the one the
    store was synced with) and record the outcomes in the store; client errors end the command
    with their exit status."""
    from openncii.partner import report_outcomes

    client = feed_client(command, server, key, retries=retries, store=store)
    try:
        with exit_on_error(command):
            return report_outcomes(client, store, hashes, feedback, tags)
    finally:
        client.close()


# ------------------------------------------------------------------------------------------------
# Logging of the servers (``openncii serve``, ``openncii matcher serve``)
# ------------------------------------------------------------------------------------------------

_LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def log_config(level: str = "INFO") -> dict[str, Any]:
    """Logging for a server: our own access log (no client IPs unless enabled), uvicorn's off."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": _LOG_FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "plain",
                "stream": "ext://sys.stderr",
            }
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"handlers": ["stderr"], "level": level, "propagate": False},
            # uvicorn's access log prints the client's address and the query string: never used.
            "uvicorn.access": {"handlers": [], "level": "CRITICAL", "propagate": False},
            "openncii": {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }

"""What the ``openncii`` commands share: exit statuses, errors, options and server logging.

- :class:`ExitCode` and :data:`EXIT_MEANINGS` are the one table of exit statuses; ``--help``
  (:func:`exit_statuses_help`) and ``docs/partners.md`` (checked by a test) are generated from
  it.
- :func:`fail` ends a command with a message on stderr and an exit status;
  :func:`exit_code_for` and :func:`exit_on_error` map OpenNCII's error classes to exit statuses.
- :func:`load_settings` builds a settings class of :mod:`openncii.settings` with the options a
  command was given (an option wins over its environment variable); an unusable value is a
  usage error, not a traceback.
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
from typing import TYPE_CHECKING, Annotated, Any, Final, NoReturn, TypeVar

import typer

from openncii import errors

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from openncii.partner import FeedbackReport, FeedClient, PartnerStore
    from openncii.settings import OpenNCIISettings, PartnerSettings

    AnySettings = TypeVar("AnySettings", bound=OpenNCIISettings)

__all__ = [
    "EXIT_MEANINGS",
    "DatabaseUrlOption",
    "ExitCode",
    "LogLevelOption",
    "PartnerServerOption",
    "RetriesOption",
    "StoreOption",
    "ensure_port_free",
    "exit_code_for",
    "exit_on_error",
    "exit_statuses_help",
    "exit_statuses_markdown",
    "fail",
    "feed_client",
    "feedback_value",
    "load_settings",
    "log_config",
    "migrated_session",
    "open_partner_store",
    "partner_key",
    "partner_settings",
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
    "the server does not hold the hash (still recorded locally); `case`, `partners`, `staff`: the "
    "server or the database refused the request",
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


def ensure_port_free(command: str, host: str, port: int, how: str) -> None:
    """End ``command`` with a usage error that names the port when ``host:port`` cannot be
    listened on (something else listens there, say), before the server starts; ``how`` says
    how to choose another port."""
    import errno
    import socket

    if port == 0:
        return
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        fail(command, f"cannot listen on {host}: {exc.strerror}.", ExitCode.USAGE)
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "is already in use (another server is running there)"
            elif exc.errno == errno.EACCES:
                reason = "needs privileges this user does not have"
            else:
                reason = f"cannot be used ({exc.strerror})"
            fail(command, f"port {port} on {host} {reason}; choose another: {how}.", ExitCode.USAGE)


#: The exit status of each error class a command may end with; the most specific class of an
#: error (its method resolution order) decides.
_ERROR_EXITS: Final[Mapping[type[BaseException], ExitCode]] = {
    errors.FeedAuthError: ExitCode.AUTH,
    errors.FeedUnavailableError: ExitCode.UNAVAILABLE,
    errors.FeedProtocolError: ExitCode.PROTOCOL,
    errors.FeedRejectedError: ExitCode.PROTOCOL,
    errors.PartnerStoreError: ExitCode.STORE,
    errors.ScanSetupError: ExitCode.USAGE,
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
# Settings
# ------------------------------------------------------------------------------------------------


def load_settings(command: str, cls: type[AnySettings], **options: Any) -> AnySettings:
    """``cls`` from the environment, with the options given (``None``: not given) on top; an
    unusable value ends the command with a usage error naming its variable."""
    from pydantic import ValidationError

    try:
        return cls(**{name: value for name, value in options.items() if value is not None})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            name = cls.env_name(field) if field in cls.model_fields else field
            problems.append(f"{name}: {error['msg']}")
        fail(command, "unusable setting: " + "; ".join(problems) + ".", ExitCode.USAGE)


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


@contextmanager
def migrated_session(command: str, database_url: str | None) -> Iterator[Session]:
    """A session on the case service's database (``--database-url``, else the settings), after
    applying the migrations, like ``openncii serve``: for the helpline's commands."""
    from openncii.db import make_engine, make_session_factory, migrate
    from openncii.settings import Settings

    settings = load_settings(command, Settings, database_url=database_url)
    with exit_on_error(command):
        engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


LogLevelOption = Annotated[str, typer.Option(help="Log level of the server.")]

StoreOption = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="The local store (SQLite file; OPENNCII_PARTNER_STORE). "
        "Default: partner.sqlite3 in the user data directory.",
        dir_okay=False,
    ),
]

PartnerServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The OpenNCII server (OPENNCII_PARTNER_SERVER; default: the one the store was "
        "synced with).",
    ),
]

ReportOption = Annotated[
    Path | None,
    typer.Option(
        "--report",
        "-o",
        help="Write the report here (default: standard output).",
        dir_okay=False,
    ),
]

FeedbackOption = Annotated[
    str | None,
    typer.Option(
        "--feedback",
        help="Report this outcome (e.g. PendingReview) to the server for every matched hash.",
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


def partner_settings(
    command: str, *, store: Path | None = None, server: str | None = None
) -> PartnerSettings:
    """The partner-side settings, with ``--store`` and ``--server`` when given."""
    from openncii.settings import PartnerSettings

    return load_settings(command, PartnerSettings, store=store, server=server)


def partner_key(command: str, settings: PartnerSettings) -> str:
    """The partner key: ``OPENNCII_PARTNER_KEY``, else a hidden prompt; a usage error if none."""
    key = settings.key.get_secret_value().strip() if settings.key is not None else ""
    if key:
        return key
    try:
        key = typer.prompt("Partner API key", hide_input=True, err=True).strip()
    except typer.Abort:
        key = ""
    if not key:
        variable = settings.env_name("key")
        fail(
            command,
            f"a partner key is required: set {variable} or type it at the prompt.",
            ExitCode.USAGE,
        )
    return key


def feedback_value(command: str, what: str, value: str) -> str:
    """The feedback value as the API spells it, whatever its case; a usage error if unknown."""
    from openncii.stopncii import PARTNER_FEEDBACK_VALUES

    chosen = {v.lower(): v for v in PARTNER_FEEDBACK_VALUES}.get(value.strip().lower())
    if chosen is None:
        choices = ", ".join(PARTNER_FEEDBACK_VALUES)
        fail(command, f"{what} must be one of {choices}.", ExitCode.USAGE)
    return chosen


def open_partner_store(command: str, settings: PartnerSettings) -> PartnerStore:
    """The local store of ``settings``; exit 6 if unusable."""
    from openncii.partner import PartnerStore

    try:
        return PartnerStore.open(settings.store)
    except (errors.PartnerStoreError, OSError) as exc:
        fail(command, str(exc), ExitCode.STORE)


def feed_client(
    command: str,
    settings: PartnerSettings,
    key: str,
    *,
    retries: int,
    page_size: int | None = None,
    store: PartnerStore | None = None,
) -> FeedClient:
    """A feed client for the server of ``settings``, else the one ``store`` was synced with."""
    from openncii.partner import DEFAULT_PAGE_SIZE, FeedClient, RetryPolicy

    target = settings.server or (store.sync_state().server if store is not None else None)
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
    settings: PartnerSettings,
    store: PartnerStore,
    hashes: Mapping[str, str | None],
    feedback: str,
    *,
    key: str,
    retries: int,
    tags: tuple[str, ...] = (),
) -> FeedbackReport:
    """Report ``feedback`` for ``hashes`` (value -> signal type) to the server of ``settings``
    (else the one the store was synced with) and record the outcomes in the store; client
    errors end the command with their exit status."""
    from openncii.partner import report_outcomes

    client = feed_client(command, settings, key, retries=retries, store=store)
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

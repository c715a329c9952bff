"""The root ``openncii`` command: the one place where the command modules are assembled.

Each command module owns a ``typer.Typer`` of its own (``app``) and imports nothing of this
module or of the other command modules; shared options, exit statuses and the error mapping
come from :mod:`openncii.cli.common`. To add a command group: write ``cli/<group>.py`` with
``app = typer.Typer(name="<group>", help=...)`` and its commands, and add it to
:data:`_COMMAND_APPS` below. An app without a name adds its commands at the top level
(``openncii serve``, ``openncii hash``).

Command modules import their heavy dependencies (numpy, SQLAlchemy, FastAPI, ...) inside the
commands, so that ``openncii --help`` stays fast.
"""

from __future__ import annotations

import typer

from openncii import __version__
from openncii.cli import case, hash, helplines, matcher, partner, partners, scan, serve, staff
from openncii.cli.common import exit_statuses_help

__all__ = ["app"]

#: The command apps in the order ``openncii --help`` lists them.
_COMMAND_APPS: tuple[typer.Typer, ...] = (
    hash.app,
    serve.app,
    case.app,
    partner.app,
    matcher.app,
    partners.app,
    helplines.app,
    staff.app,
)
#: Apps whose commands join a group: ``openncii partner scan``.
_GROUP_EXTENSIONS: tuple[tuple[typer.Typer, typer.Typer], ...] = ((partner.app, scan.app),)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openncii {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """OpenNCII command line."""


def _assemble() -> typer.Typer:
    root = typer.Typer(
        name="openncii",
        help="OpenNCII: hash media on this device, run the case service, sync and match as a "
        "partner.",
        epilog=exit_statuses_help(),
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        # Plain help and usage errors for every command (the root's mode applies to all):
        # Rich's help renderer would more than double the start-up time of `openncii --help`.
        rich_markup_mode=None,
    )
    root.callback()(_root)
    for group, extension in _GROUP_EXTENSIONS:
        group.add_typer(extension)
    for command_app in _COMMAND_APPS:
        root.add_typer(command_app)
    return root


#: The ``openncii`` command.
app = _assemble()

"""The root ``openncii`` typer application; command modules register themselves here."""

from __future__ import annotations

import typer

from openncii import __version__

app = typer.Typer(
    name="openncii",
    help="OpenNCII: hash media on this device, run the case service, sync and match as a partner.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"openncii {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """OpenNCII command line."""


def _register() -> None:
    # Imported here so that each module can use `app` without an import cycle.
    from openncii.cli import case as _case  # noqa: F401
    from openncii.cli import hash as _hash  # noqa: F401
    from openncii.cli import matcher as _matcher  # noqa: F401
    from openncii.cli import partner as _partner  # noqa: F401
    from openncii.cli import partners as _partners  # noqa: F401
    from openncii.cli import scan as _scan  # noqa: F401
    from openncii.cli import serve as _serve  # noqa: F401


_register()

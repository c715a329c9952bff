"""The ``openncii`` command line (typer). Each command group lives in its own module; they are
assembled in :mod:`openncii.cli._app`."""

from __future__ import annotations

from openncii.cli._app import app

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    app()

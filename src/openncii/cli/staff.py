"""``openncii staff``: helpline console accounts from the shell (the first admin, a lost phone).

These commands work on the database directly (run them where the server runs); they apply the
migrations first, like ``openncii serve``. Each is written to the console's audit log (network
``shell``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from openncii.cli.common import DatabaseUrlOption, exit_on_error, load_settings, migrated_session

if TYPE_CHECKING:
    from openncii.settings import Settings
    from openncii.staff import SetupLink

__all__ = ["app"]

app = typer.Typer(
    name="staff",
    help="Manage helpline console accounts: add, list, disable, reset.",
    no_args_is_help=True,
)


def _now() -> datetime:
    return datetime.now(UTC)


def _settings(command: str, database_url: str | None) -> Settings:
    from openncii.settings import Settings

    return load_settings(command, Settings, database_url=database_url)


def _base_url(settings: Settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def _show_link(settings: Settings, link: SetupLink, as_json: bool, what: str) -> None:
    from openncii.staff import setup_url

    url = setup_url(_base_url(settings), link.token)
    if as_json:
        record = {"email": link.staff.email, "role": link.staff.role, "setup_url": url}
        typer.echo(json.dumps({**record, "expires_at": link.expires_at.isoformat()}))
        return
    typer.echo(f"{what} {link.staff.email} ({link.staff.role}). Send this one-time set-up link")
    typer.echo(f"to them; it works once, until {link.expires_at:%Y-%m-%d %H:%M} UTC:")
    typer.echo(url)


AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


@app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The staff member's e-mail (their sign-in name).")],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin (everything, staff too) or analyst (statistics, "
            "review, partners read-only).",
        ),
    ] = "analyst",
    as_json: AsJson = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a console account and print its one-time set-up link (valid 24 h by default)."""
    from openncii.audit import SHELL
    from openncii.staff import StaffPolicy, add_staff

    settings = _settings("staff add", database_url)
    with migrated_session("staff add", database_url) as session:
        policy = StaffPolicy.from_settings(settings)
        with exit_on_error("staff add"):
            link = add_staff(session, email, role, _now(), policy, actor=None, network=SHELL)
    _show_link(settings, link, as_json, "Added")


@app.command("list")
def list_(as_json: AsJson = False, database_url: DatabaseUrlOption = None) -> None:
    """List console accounts: e-mail, role, state (active, setup, disabled)."""
    from openncii.staff import list_staff

    with migrated_session("staff list", database_url) as session:
        accounts = list_staff(session)
    for info in accounts:
        if as_json:
            record = {"email": info.email, "role": info.role, "state": info.state}
            typer.echo(json.dumps({**record, "created_at": info.created_at.isoformat()}))
        else:
            typer.echo(
                f"{info.email}\t{info.role}\t{info.state}\t(added {info.created_at:%Y-%m-%d})"
            )
    if not accounts and not as_json:
        typer.echo(
            "No staff accounts yet. Add one with: openncii staff add EMAIL --role admin", err=True
        )


@app.command("disable")
def disable(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Disable an account: its sessions end at once and it can no longer sign in."""
    from openncii.audit import SHELL
    from openncii.staff import disable_staff

    with (
        migrated_session("staff disable", database_url) as session,
        exit_on_error("staff disable"),
    ):
        info = disable_staff(session, email, _now(), actor=None, network=SHELL)
    typer.echo(f"Disabled {info.email}.")


@app.command("reset")
def reset(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    as_json: AsJson = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Clear an account's password and authenticator (a lost phone) and print a new set-up link;
    a disabled account is enabled again by it."""
    from openncii.audit import SHELL
    from openncii.staff import StaffPolicy, reset_staff

    settings = _settings("staff reset", database_url)
    with migrated_session("staff reset", database_url) as session:
        policy = StaffPolicy.from_settings(settings)
        with exit_on_error("staff reset"):
            link = reset_staff(session, email, _now(), policy, actor=None, network=SHELL)
    _show_link(settings, link, as_json, "Reset")

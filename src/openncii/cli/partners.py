"""``openncii partners``: the helpline onboards and offboards participating companies.

These commands work on the database directly (run them where the server runs); they apply the
migrations first, like ``openncii serve``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from openncii.cli.common import DatabaseUrlOption, exit_on_error, load_settings, migrated_session

__all__ = ["app"]

app = typer.Typer(
    name="partners",
    help="Manage participating companies (helpline): add, list, rotate keys, rename, revoke.",
    no_args_is_help=True,
)


def _now() -> datetime:
    return datetime.now(UTC)


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Public name of the company.")],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"name", "key"}.')] = False,
    can_submit: Annotated[
        bool, typer.Option("--can-submit", help="Allow it to contribute hashes.")
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a partner and print its API key once (it is stored only hashed)."""
    from openncii.audit import SHELL
    from openncii.partners import add_partner

    with migrated_session("partners", database_url) as session, exit_on_error("partners add"):
        created = add_partner(session, name, _now(), can_submit=can_submit, network=SHELL)
    if as_json:
        typer.echo(json.dumps({"name": created.partner.name, "key": created.key}))
        return
    typer.echo(f"Partner {created.partner.name!r} created. Its API key (shown only now):")
    typer.echo(created.key)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List partners: name, whether they may submit hashes, created, revoked."""
    from openncii.partners import list_partners

    with migrated_session("partners", database_url) as session:
        partners = list_partners(session)
    for p in partners:
        record = {
            "name": p.name,
            "active": p.active,
            "can_submit": p.can_submit,
            "created_at": p.created_at.isoformat(),
            "revoked_at": p.revoked_at.isoformat() if p.revoked_at else None,
        }
        if as_json:
            typer.echo(json.dumps(record))
        else:
            state = "active" if p.active else f"revoked {p.revoked_at:%Y-%m-%d %H:%M}"
            submit = ", may submit hashes" if p.can_submit else ""
            typer.echo(f"{p.name}\t{state}{submit}\t(added {p.created_at:%Y-%m-%d})")
    if not partners and not as_json:
        typer.echo("No partners yet. Add one with: openncii partners add NAME", err=True)


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="Name of the partner.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Revoke a partner's API key; it stops working on its next request."""
    from openncii.audit import SHELL
    from openncii.partners import revoke_partner

    with migrated_session("partners", database_url) as session, exit_on_error("partners revoke"):
        revoked = revoke_partner(session, name, _now(), network=SHELL)
    typer.echo(f"Partner {revoked.name!r} revoked.")


@app.command("rotate")
def rotate(
    name: Annotated[str, typer.Argument(help="Name of the partner.")],
    grace_days: Annotated[
        float | None,
        typer.Option(
            "--grace-days",
            min=0,
            max=90,
            help="Days the old key keeps working (0: it stops now); default "
            "OPENNCII_PARTNER_KEY_GRACE_DAYS (7).",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"name", "key", "old_key_expires_at"}.')
    ] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Give a partner a new API key (printed once; it works at once). The old key keeps working
    for the grace period, then stops."""
    from datetime import timedelta

    from openncii.audit import SHELL
    from openncii.partners import rotate_partner_key
    from openncii.settings import Settings

    settings = load_settings("partners rotate", Settings, database_url=database_url)
    with migrated_session("partners rotate", database_url) as session:
        days = settings.partner_key_grace_days if grace_days is None else grace_days
        with exit_on_error("partners rotate"):
            rotated = rotate_partner_key(session, name, _now(), timedelta(days=days), network=SHELL)
    expires = rotated.old_key_expires_at
    if as_json:
        record = {"name": rotated.partner.name, "key": rotated.key}
        typer.echo(json.dumps({**record, "old_key_expires_at": expires and expires.isoformat()}))
        return
    until = f"until {expires:%Y-%m-%d %H:%M} UTC" if expires else "no longer: it stopped now"
    typer.echo(
        f"New API key of {rotated.partner.name!r} (shown only now; the old key works {until}):"
    )
    typer.echo(rotated.key)


@app.command("rename")
def rename(
    name: Annotated[str, typer.Argument(help="Current name of the partner.")],
    new_name: Annotated[str, typer.Argument(help="Its new public name.")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Rename a partner: people and every partner's feed (feedback sources) see the new name."""
    from openncii.audit import SHELL
    from openncii.partners import rename_partner

    with migrated_session("partners", database_url) as session, exit_on_error("partners rename"):
        renamed = rename_partner(session, name, new_name, _now(), network=SHELL)
    typer.echo(f"Partner {name!r} is now {renamed.name!r}.")

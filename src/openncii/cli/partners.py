"""``openncii partners``: the helpline onboards and offboards participating companies.

These commands work on the database directly (run them where the server runs); they apply the
migrations first, like ``openncii serve``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from openncii.cli.common import DatabaseUrlOption, exit_on_error, migrated_session

__all__ = ["app"]

app = typer.Typer(
    name="partners",
    help="Manage participating companies (helpline): add, list, revoke.",
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
    from openncii.partners import add_partner

    with migrated_session("partners", database_url) as session, exit_on_error("partners add"):
        created = add_partner(session, name, _now(), can_submit=can_submit)
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
    from openncii.partners import revoke_partner

    with migrated_session("partners", database_url) as session, exit_on_error("partners revoke"):
        revoked = revoke_partner(session, name, _now())
    typer.echo(f"Partner {revoked.name!r} revoked.")

"""``openncii helplines``: the helpline keeps the list of local helplines shown to people.

The page for people this service cannot help shows the helplines of their language. These
commands work on the database directly (run them where the server runs); they apply the
migrations first, like ``openncii serve``, and write their changes to the console's audit log
(from ``shell``). The console's Settings page edits the same list. The list starts with the
public helplines shipped for the Netherlands, Belgium, France and the United Kingdom.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from openncii.cli.common import DatabaseUrlOption, exit_on_error, migrated_session

__all__ = ["app"]

app = typer.Typer(
    name="helplines",
    help="Manage the local helplines shown to people, per language (helpline): list, add, remove.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List the helplines: id, language, country, name, address, phone."""
    from dataclasses import asdict

    from openncii.helplines import list_helplines

    with migrated_session("helplines", database_url) as session:
        helplines = list_helplines(session)
    for h in helplines:
        if as_json:
            typer.echo(json.dumps(asdict(h), ensure_ascii=False))
        else:
            phone = f"\t{h.phone}" if h.phone else ""
            typer.echo(f"{h.id}\t{h.language}\t{h.country}\t{h.name}\t{h.url}{phone}")
    if not helplines and not as_json:
        typer.echo(
            "No helplines. Add one with: openncii helplines add COUNTRY LANGUAGE NAME URL", err=True
        )


@app.command("add")
def add(
    country: Annotated[str, typer.Argument(help="Country it serves: two letters (NL, BE, GB).")],
    language: Annotated[str, typer.Argument(help="Page language it is shown in (nl, fr, en).")],
    name: Annotated[str, typer.Argument(help="Its name, as people know it.")],
    url: Annotated[str, typer.Argument(help="Its web site (https://...).")],
    phone: Annotated[str | None, typer.Option(help="Its phone number, as written.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the new entry as JSON.")] = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a helpline; it shows at once on the page in its language."""
    from dataclasses import asdict

    from openncii.audit import SHELL
    from openncii.helplines import add_helpline

    with migrated_session("helplines", database_url) as session, exit_on_error("helplines add"):
        added = add_helpline(
            session,
            country=country,
            language=language,
            name=name,
            url=url,
            phone=phone,
            network=SHELL,
        )
    if as_json:
        typer.echo(json.dumps(asdict(added), ensure_ascii=False))
        return
    typer.echo(f"Helpline {added.id} added: {added.name} ({added.country}, {added.language}).")


@app.command("remove")
def remove(
    helpline_id: Annotated[int, typer.Argument(help="Its id (see: openncii helplines list).")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Remove a helpline; it disappears from the page at once."""
    from openncii.audit import SHELL
    from openncii.helplines import remove_helpline

    with migrated_session("helplines", database_url) as session, exit_on_error("helplines remove"):
        removed = remove_helpline(session, helpline_id, network=SHELL)
    typer.echo(f"Helpline {removed.id} removed: {removed.name}.")

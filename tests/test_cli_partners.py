"""``openncii partners add/list/revoke``: keys shown once and stored hashed; revocation at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from case_helpers import PARTNERS
from openncii.cli import app
from openncii.db.models import Partner
from openncii.partners import authenticate_partner

runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_add_prints_name_and_key_once_as_json(database_url: str, db_sessions: Any) -> None:
    result = _run("partners", "add", "Acme Social", "--json", "--database-url", database_url)
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    assert set(created) == {"name", "key"}
    assert created["name"] == "Acme Social"
    assert created["key"].startswith("onp_") and len(created["key"]) >= 40
    with db_sessions() as session:
        row = session.scalars(select(Partner)).one()
        assert created["key"] not in row.key_digest
        assert len(row.key_digest) == 64
    with db_sessions() as session:  # services run their own transactions
        found = authenticate_partner(session, created["key"], datetime.now(UTC))
    assert found is not None and found.name == "Acme Social"
    listed = _run("partners", "list", "--json", "--database-url", database_url)
    assert created["key"] not in listed.output


def test_add_without_json_says_the_key_is_shown_once(database_url: str) -> None:
    result = _run("partners", "add", "Zeta", "--database-url", database_url)
    assert result.exit_code == 0
    assert "shown only now" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("onp_")


def test_duplicate_name_is_refused(database_url: str) -> None:
    assert _run("partners", "add", "Acme", "--database-url", database_url).exit_code == 0
    again = _run("partners", "add", "Acme", "--json", "--database-url", database_url)
    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert again.stdout == ""


def test_list_shows_state(database_url: str) -> None:
    _run("partners", "add", "Beta", "--database-url", database_url)
    _run("partners", "add", "Alpha", "--can-submit", "--database-url", database_url)
    _run("partners", "revoke", "Beta", "--database-url", database_url)
    result = _run("partners", "list", "--json", "--database-url", database_url)
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["name"], r["active"], r["can_submit"]) for r in rows] == [
        ("Alpha", True, True),
        ("Beta", False, False),
    ]
    assert rows[1]["revoked_at"] is not None
    text = _run("partners", "list", "--database-url", database_url).stdout
    assert "Alpha\tactive, may submit hashes" in text
    assert "Beta\trevoked" in text


def test_revoke_takes_effect_at_once(
    database_url: str, db_sessions: Any, api_client: Callable[..., Any]
) -> None:
    client = api_client()
    key = json.loads(
        _run("partners", "add", "Acme", "--json", "--database-url", database_url).stdout
    )["key"]
    assert client.get(PARTNERS).json() == {"partners": [{"name": "Acme"}]}
    result = _run("partners", "revoke", "Acme", "--database-url", database_url)
    assert result.exit_code == 0
    assert "revoked" in result.stdout
    with db_sessions() as session:
        assert authenticate_partner(session, key, datetime.now(UTC)) is None
    assert client.get(PARTNERS).json() == {"partners": []}  # the running server sees it too
    assert _run("partners", "revoke", "Acme", "--database-url", database_url).exit_code == 0


def test_revoke_unknown_partner_fails(database_url: str) -> None:
    result = _run("partners", "revoke", "Nobody", "--database-url", database_url)
    assert result.exit_code == 1
    assert "No partner is called 'Nobody'" in result.stderr


def test_bad_database_url_is_a_clear_error() -> None:
    result = _run("partners", "list", "--database-url", "mysql://x/y")
    assert result.exit_code == 2
    assert "unsupported database backend" in result.stderr

"""``openncii staff add/list/disable/reset``: the first admin from the shell, a lost phone."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from openncii.cli import app
from openncii.db.models import AuditEntry, Staff

runner = CliRunner()


def _run(*args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_add_prints_a_one_time_set_up_link(database_url: str, db_sessions: Any) -> None:
    result = _run(
        "staff",
        "add",
        "Lead@Example.org",
        "--role",
        "admin",
        "--json",
        "--database-url",
        database_url,
    )
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)
    assert added["email"] == "lead@example.org" and added["role"] == "admin"
    assert added["setup_url"].startswith("http://127.0.0.1:8000/admin/#setup=")
    token = added["setup_url"].split("#setup=")[1]
    with db_sessions() as session:
        row = session.scalars(select(Staff)).one()
        assert row.setup_digest is not None and token not in row.setup_digest
        entry = session.scalars(select(AuditEntry)).one()
        assert (entry.action, entry.target, entry.network) == ("staff.add", row.email, "shell")
    plain = _run("staff", "add", "b@example.org", "--database-url", database_url)
    assert plain.exit_code == 0
    assert "works once" in plain.stdout and "#setup=" in plain.stdout.splitlines()[-1]


def test_add_uses_the_public_url(database_url: str, monkeypatch: Any) -> None:
    monkeypatch.setenv("OPENNCII_PUBLIC_URL", "https://help.example.org/")
    result = _run("staff", "add", "a@example.org", "--json", "--database-url", database_url)
    assert json.loads(result.stdout)["setup_url"].startswith(
        "https://help.example.org/admin/#setup="
    )


def test_refusals_exit_1_with_a_message(database_url: str) -> None:
    assert _run("staff", "add", "a@example.org", "--database-url", database_url).exit_code == 0
    again = _run("staff", "add", "A@example.org", "--database-url", database_url)
    assert again.exit_code == 1 and "exists" in again.stderr
    bad_role = _run(
        "staff", "add", "c@example.org", "--role", "boss", "--database-url", database_url
    )
    assert bad_role.exit_code == 1 and "admin, analyst" in bad_role.stderr
    bad_email = _run("staff", "add", "not-an-email", "--database-url", database_url)
    assert bad_email.exit_code == 1 and "e-mail" in bad_email.stderr
    missing = _run("staff", "disable", "nobody@example.org", "--database-url", database_url)
    assert missing.exit_code == 1 and "No staff account" in missing.stderr


def test_list_disable_and_reset(database_url: str) -> None:
    _run("staff", "add", "b@example.org", "--role", "analyst", "--database-url", database_url)
    _run("staff", "add", "a@example.org", "--role", "admin", "--database-url", database_url)
    listed = _run("staff", "list", "--json", "--database-url", database_url)
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(r["email"], r["role"], r["state"]) for r in rows] == [
        ("a@example.org", "admin", "setup"),
        ("b@example.org", "analyst", "setup"),
    ]
    assert _run("staff", "disable", "b@example.org", "--database-url", database_url).exit_code == 0
    text = _run("staff", "list", "--database-url", database_url).stdout
    assert "b@example.org\tanalyst\tdisabled" in text
    reset = _run("staff", "reset", "b@example.org", "--json", "--database-url", database_url)
    assert "#setup=" in json.loads(reset.stdout)["setup_url"]
    text = _run("staff", "list", "--database-url", database_url).stdout
    assert "b@example.org\tanalyst\tsetup" in text


def test_list_of_nobody_says_how_to_start(database_url: str) -> None:
    result = _run("staff", "list", "--database-url", database_url)
    assert result.exit_code == 0 and "openncii staff add EMAIL --role admin" in result.stderr

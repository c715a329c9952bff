"""Partners in the console: add (key shown once), rotate with a grace period, rename (the feed
shows the new name), revoke, allow/deny submission; per-partner feed use and feedback; the
`openncii partners rotate/rename` commands. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from case_helpers import CASES, PARTNERS, case_body, pdq_item, random_pdq
from console_helpers import sign_in, signed_in_client
from openncii.cli import app as cli
from openncii.db.models import Partner
from openncii.partners import record_feedback
from openncii.testing import FakeClock
from partner_helpers import FETCH, SUBMIT, key_headers

ApiClient = Callable[..., Any]


def _fetch(client: Any, key: str) -> Any:
    return client.get(FETCH, params={"startTimestamp": 0}, headers=key_headers(key))


def _partner(client: Any, name: str) -> dict[str, Any]:
    return next(p for p in client.get("/admin/api/partners").json() if p["name"] == name)


def test_add_rotate_with_grace_and_the_figures(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    created = client.post("/admin/api/partners", json={"name": "Acme Social"}, headers=csrf)
    assert created.status_code == 201
    old_key = created.json()["key"]
    assert old_key.startswith("onp_")
    with db_sessions() as session:
        assert old_key not in session.scalars(select(Partner.key_digest)).one()
    assert old_key not in client.get("/admin/api/partners").text
    assert client.post(CASES, json=case_body(pdq_item(random_pdq()))).status_code == 201
    assert _fetch(client, old_key).json()["count"] == 1

    rotated = client.post(
        "/admin/api/partners/Acme Social/rotate", json={"grace_days": 2}, headers=csrf
    ).json()
    new_key = rotated["key"]
    assert new_key != old_key
    assert _fetch(client, new_key).status_code == 200  # the new key works at once
    clock.advance(days=1, hours=23)
    assert _fetch(client, old_key).status_code == 200  # the old one during the grace period
    admin = sign_in(client, admin.email, admin.secret, clock)  # the session has idled out
    shown = _partner(client, "Acme Social")
    assert shown["old_key_expires_at"] is not None
    clock.advance(hours=1, seconds=1)
    assert _fetch(client, old_key).status_code == 401  # and no longer after it
    assert _fetch(client, new_key).status_code == 200
    admin = sign_in(client, admin.email, admin.secret, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    shown = _partner(client, "Acme Social")
    assert shown["old_key_expires_at"] is None
    assert shown["unauthorized_24h"] == 1
    assert shown["pages_24h"] == 2 and shown["records_24h"] == 2  # the last 24 hours' pages
    assert shown["last_fetch_at"] is not None

    # Rotating with no grace period stops the current key at once.
    again = client.post(
        "/admin/api/partners/Acme Social/rotate", json={"grace_days": 0}, headers=csrf
    ).json()
    assert again["old_key_expires_at"] is None
    assert _fetch(client, new_key).status_code == 401
    assert _fetch(client, again["key"]).status_code == 200


def test_rename_restamps_the_feed_and_revoke_stops_the_key(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    reader = client.post("/admin/api/partners", json={"name": "Reader"}, headers=csrf).json()
    client.post("/admin/api/partners", json={"name": "Old Name"}, headers=csrf)
    value = random_pdq()
    client.post(CASES, json=case_body(pdq_item(value)))
    with db_sessions() as session:
        partner_id = session.scalars(select(Partner.id).where(Partner.name == "Old Name")).one()
    with db_sessions() as session:
        record_feedback(session, partner_id, "pdq", value, "Blocked", [], clock())
    first = _fetch(client, reader["key"]).json()
    assert first["hashRecords"][0]["CSPFeedbacks"][0]["source"] == "Old Name"
    checkpoint = first["nextSetTimestamp"]
    renamed = client.post(
        "/admin/api/partners/Old Name/rename", json={"name": "New Name"}, headers=csrf
    )
    assert renamed.status_code == 204
    # The record changed: a fetch from the last checkpoint brings it again, with the new name.
    later = client.get(
        FETCH, params={"startTimestamp": checkpoint}, headers=key_headers(reader["key"])
    ).json()
    assert [r["CSPFeedbacks"][0]["source"] for r in later["hashRecords"]] == ["New Name"]
    assert [p["name"] for p in client.get(PARTNERS).json()["partners"]] == ["New Name", "Reader"]
    assert _partner(client, "New Name")["feedback"] == {"Blocked": 1}
    taken = client.post(
        "/admin/api/partners/Reader/rename", json={"name": "New Name"}, headers=csrf
    )
    assert taken.status_code == 409

    revoked = client.post("/admin/api/partners/Reader/revoke", headers=csrf)
    assert revoked.status_code == 204
    assert _fetch(client, reader["key"]).status_code == 401
    assert _partner(client, "Reader")["active"] is False
    rotate = client.post("/admin/api/partners/Reader/rotate", json={}, headers=csrf)
    assert rotate.status_code == 400
    missing = client.post("/admin/api/partners/Nobody/revoke", headers=csrf)
    assert missing.status_code == 404


def test_allow_and_deny_hash_submission(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    key = client.post("/admin/api/partners", json={"name": "Helper"}, headers=csrf).json()["key"]
    body = {"count": 1, "hashRecords": [{"signalType": "ImagePDQ", "hashValue": random_pdq()}]}
    assert client.post(SUBMIT, json=body, headers=key_headers(key)).status_code == 403
    allow = client.post(
        "/admin/api/partners/Helper/submission", json={"allowed": True}, headers=csrf
    )
    assert allow.status_code == 204 and _partner(client, "Helper")["can_submit"] is True
    assert client.post(SUBMIT, json=body, headers=key_headers(key)).status_code == 200
    client.post("/admin/api/partners/Helper/submission", json={"allowed": False}, headers=csrf)
    assert client.post(SUBMIT, json=body, headers=key_headers(key)).status_code == 403
    actions = [e["action"] for e in client.get("/admin/api/audit").json()["entries"]]
    assert actions[:3] == ["partner.submission", "partner.submission", "partner.add"]


def test_an_analyst_sees_partners_but_changes_nothing(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, analyst = signed_in_client(
        api_client, db_sessions, clock, email="an@example.org", role="analyst"
    )
    assert client.get("/admin/api/partners").status_code == 200
    csrf = {"X-CSRF-Token": analyst.csrf}
    assert client.post("/admin/api/partners", json={"name": "X"}, headers=csrf).status_code == 403
    assert client.get("/admin/api/partners").json() == []


def test_cli_rotate_and_rename(database_url: str, db_sessions: Any) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, [*args, "--database-url", database_url], catch_exceptions=False)

    old = json.loads(run("partners", "add", "Zeta", "--json").stdout)["key"]
    rotated = run("partners", "rotate", "Zeta", "--grace-days", "3", "--json")
    assert rotated.exit_code == 0, rotated.output
    shown = json.loads(rotated.stdout)
    assert shown["name"] == "Zeta" and shown["key"] not in (old, "")
    assert shown["old_key_expires_at"] is not None
    plain = run("partners", "rotate", "Zeta", "--grace-days", "0")
    assert "stopped now" in plain.stdout and plain.stdout.strip().splitlines()[-1].startswith(
        "onp_"
    )
    renamed = run("partners", "rename", "Zeta", "Zeta Video")
    assert renamed.exit_code == 0 and "'Zeta Video'" in renamed.stdout
    assert run("partners", "rename", "Nobody", "X").exit_code == 1
    with db_sessions() as session:
        assert session.scalars(select(Partner.name)).all() == ["Zeta Video"]

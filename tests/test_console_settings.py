"""Settings the helpline sets in the console: the organisation's name, helpline contact and
privacy-policy link (table ``organisation``, migration 0010; shown to people through
``GET /api/v1/organisation``), and the local helplines (add, edit, remove). Validation changes
nothing, every change is audited, analysts only read. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from console_helpers import signed_in_client
from openncii.audit import SHELL, list_audit
from openncii.db.models import Organisation as OrganisationRow
from openncii.errors import HelplineError, HelplineNotFoundError, SettingError
from openncii.helplines import add_helpline, helplines_for_language, update_helpline
from openncii.organisation import get_organisation, update_organisation
from openncii.organisation.fields import clean_email, clean_https_url, clean_phone
from openncii.testing import FakeClock

ApiClient = Callable[..., Any]

SETTINGS = "/admin/api/settings"
HELPLINES = "/admin/api/helplines"
PUBLIC = "/api/v1/organisation"
FULL = {
    "name": "Stichting Example Hulp",
    "phone": "+31 20 123 45 67",
    "email": "help@example.org",
    "url": "https://help.example.org/",
    "privacy_url": "https://help.example.org/privacy",
}
NOTHING = dict.fromkeys(FULL)
ENTRY = {
    "country": "nl",
    "language": "nl",
    "name": "Centrum Seksueel Geweld",
    "url": "https://centrumseksueelgeweld.nl/",
    "phone": "0800 0188",
}


# ---------------------------------------------------------------------------------------------
# Field rules


@pytest.mark.parametrize(
    "value", ["help@example.org", "a.b+c@mail.example.co.uk", "x@xn--bcher-kva.example"]
)
def test_good_email_addresses_pass(value: str) -> None:
    assert clean_email(f"  {value} ") == value


@pytest.mark.parametrize(
    "value",
    ["help", "help@", "@example.org", "help@example", "a b@example.org", "a@b@example.org",
     "help@example.org?subject=x", "help@-example.org", "x" * 250 + "@example.org"],
)  # fmt: skip
def test_bad_email_addresses_are_refused(value: str) -> None:
    with pytest.raises(SettingError, match=r"help@example\.org") as refused:
        clean_email(value, field="email")
    assert refused.value.field == "email"


@pytest.mark.parametrize(
    "value",
    ["http://example.org/", "javascript:alert(1)", "https://", "https://localhost/",
     "https://user:pw@example.org/", "https://exa mple.org/", "ftp://example.org/",
     "example.org", "https://example.org/" + "x" * 500, "https://example.org:0/",
     'https://example.org/"><b>', "https://example.org/a<b", "https://xn--/"],
)  # fmt: skip
def test_bad_addresses_are_refused(value: str) -> None:
    with pytest.raises(SettingError, match=r"https://") as refused:
        clean_https_url(value, field="privacy_url")
    assert refused.value.field == "privacy_url"


def test_good_addresses_and_phones_pass() -> None:
    assert clean_https_url(" https://help.example.org/privacy?lang=nl ") == (
        "https://help.example.org/privacy?lang=nl"
    )
    assert clean_https_url("https://bücher.example/über") == "https://bücher.example/über"
    assert clean_phone("  +31  (0)20 123-45.67 ") == "+31 (0)20 123-45.67"
    assert clean_phone("3018") == "3018"
    for bad in ["call me", "+", "12345678901234567890123456789012345678901", "0800 0188 x"]:
        with pytest.raises(SettingError, match="phone"):
            clean_phone(bad)


# ---------------------------------------------------------------------------------------------
# Domain


def test_a_new_database_has_one_empty_organisation_row(db_sessions: Any) -> None:
    with db_sessions() as session:
        assert get_organisation(session).values() == NOTHING
    with db_sessions() as session:
        assert session.scalar(select(func.count()).select_from(OrganisationRow)) == 1


def test_update_sets_clears_and_audits_old_and_new(db_sessions: Any, clock: FakeClock) -> None:
    with db_sessions() as session:
        saved = update_organisation(session, FULL, clock(), actor="a@example.org", network=SHELL)
    assert saved.values() == FULL
    assert saved.updated_by == "a@example.org" and saved.updated_at == clock()
    clock.advance(minutes=5)
    with db_sessions() as session:
        again = update_organisation(
            session,
            {**FULL, "phone": "", "email": " new@example.org "},
            clock(),
            actor="b@example.org",
            network="192.0.2.0/24",
        )
    assert again.phone is None and again.email == "new@example.org"
    with db_sessions() as session:
        assert get_organisation(session).values() == {
            **FULL, "phone": None, "email": "new@example.org"
        }  # fmt: skip
        entries, total = list_audit(session)
    assert total == 7  # five set, then two changed
    newest = {e.target: e for e in entries[:2]}
    assert set(newest) == {"organisation.phone", "organisation.email"}
    assert newest["organisation.phone"].detail == "+31 20 123 45 67 → (empty)"
    assert newest["organisation.email"].detail == "help@example.org → new@example.org"
    assert {e.action for e in entries} == {"settings.change"}
    assert newest["organisation.email"].actor == "b@example.org"
    # The same values again change nothing and write nothing.
    with db_sessions() as session:
        same = update_organisation(
            session, again.values(), clock(), actor="c@example.org", network=SHELL
        )
        assert same.updated_by == "b@example.org"
        assert list_audit(session)[1] == 7


@pytest.mark.parametrize(
    ("field", "value"),
    [("email", "not an address"), ("url", "http://help.example.org/"),
     ("privacy_url", "javascript:alert(1)"), ("phone", "call us"), ("name", "x" * 201)],
)  # fmt: skip
def test_a_bad_value_changes_nothing(
    db_sessions: Any, clock: FakeClock, field: str, value: str
) -> None:
    with db_sessions() as session:
        update_organisation(session, FULL, clock(), actor=None, network=SHELL)
    with db_sessions() as session, pytest.raises(SettingError) as refused:
        update_organisation(
            session, {**FULL, "name": "Other", field: value}, clock(), actor=None, network=SHELL
        )
    assert refused.value.field == field
    with db_sessions() as session:
        assert get_organisation(session).values() == FULL
        assert list_audit(session)[1] == 5


def test_helpline_edit_and_errors_name_their_field(db_sessions: Any, clock: FakeClock) -> None:
    with db_sessions() as session:
        added = add_helpline(session, **ENTRY, now=clock(), actor="a@example.org", network=SHELL)
    assert added.country == "NL"
    with db_sessions() as session:
        edited = update_helpline(
            session, added.id, **{**ENTRY, "phone": None, "language": "en"}, network=SHELL
        )
    assert edited.phone is None and edited.language == "en"
    with db_sessions() as session:
        assert "Centrum Seksueel Geweld" in [h.name for h in helplines_for_language(session, "en")]
        entries, _total = list_audit(session)
    assert [e.action for e in entries[:2]] == ["helpline.edit", "helpline.add"]
    assert entries[0].detail == "language: nl → en; phone: 0800 0188 → (empty)"
    assert entries[0].target == "Centrum Seksueel Geweld (NL, en)"
    with db_sessions() as session, pytest.raises(HelplineError) as refused:
        update_helpline(session, added.id, **{**ENTRY, "url": "http://x.example/"})
    assert refused.value.field == "url"
    with db_sessions() as session, pytest.raises(HelplineNotFoundError):
        update_helpline(session, 999_999, **ENTRY)


# ---------------------------------------------------------------------------------------------
# API


def test_an_admin_sets_the_organisation_and_the_page_reads_it(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    assert client.get(PUBLIC).json() == NOTHING
    shown = client.get(SETTINGS).json()
    assert shown == {**NOTHING, "updated_at": None, "updated_by": None}
    saved = client.put(SETTINGS, json=FULL, headers=csrf)
    assert saved.status_code == 200, saved.text
    assert saved.json()["updated_by"] == admin.email
    public = client.get(PUBLIC)
    assert public.json() == FULL
    assert public.headers["cache-control"] == "no-store"
    assert "set-cookie" not in public.headers

    bad = client.put(SETTINGS, json={**FULL, "email": "help(at)example.org"}, headers=csrf)
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_setting" and bad.json()["field"] == "email"
    assert "help(at)" not in bad.text  # the answer does not echo what was typed
    assert client.get(PUBLIC).json() == FULL

    cleared = client.put(SETTINGS, json={"name": "Stichting Example Hulp"}, headers=csrf)
    assert cleared.status_code == 200
    assert client.get(PUBLIC).json() == {**NOTHING, "name": "Stichting Example Hulp"}
    unknown = client.put(SETTINGS, json={**FULL, "colour": "red"}, headers=csrf)
    assert unknown.status_code == 422

    audit = client.get("/admin/api/audit").json()["entries"]
    changes = [e for e in audit if e["action"] == "settings.change"]
    assert len(changes) == 9  # five set, four cleared
    privacy = next(e for e in changes if e["target"] == "organisation.privacy_url")
    assert privacy["detail"] == "https://help.example.org/privacy → (empty)"
    assert privacy["actor"] == admin.email


def test_an_admin_keeps_the_helplines(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, admin = signed_in_client(api_client, db_sessions, clock)
    csrf = {"X-CSRF-Token": admin.csrf}
    listed = client.get(HELPLINES).json()
    assert len(listed) == 6  # shipped by migration 0008
    added = client.post(HELPLINES, json=ENTRY, headers=csrf)
    assert added.status_code == 201, added.text
    entry = added.json()
    assert entry["country"] == "NL" and entry["phone"] == "0800 0188"
    page = client.get("/api/v1/helplines", params={"language": "nl"}).json()["helplines"]
    assert ENTRY["name"] in [h["name"] for h in page]

    edited = client.put(
        f"{HELPLINES}/{entry['id']}", json={**ENTRY, "name": "CSG", "phone": ""}, headers=csrf
    )
    assert edited.status_code == 200 and edited.json()["phone"] is None
    page = client.get("/api/v1/helplines", params={"language": "nl"}).json()["helplines"]
    assert [h for h in page if h["name"] == "CSG"] == [
        {"country": "NL", "language": "nl", "name": "CSG", "url": ENTRY["url"], "phone": None}
    ]
    bad = client.put(f"{HELPLINES}/{entry['id']}", json={**ENTRY, "country": "NLD"}, headers=csrf)
    assert bad.status_code == 422 and bad.json()["field"] == "country"
    missing = client.put(f"{HELPLINES}/999999", json=ENTRY, headers=csrf)
    assert missing.status_code == 404 and missing.json()["code"] == "helpline_not_found"

    assert client.delete(f"{HELPLINES}/{entry['id']}", headers=csrf).status_code == 204
    assert client.delete(f"{HELPLINES}/{entry['id']}", headers=csrf).status_code == 404
    assert len(client.get(HELPLINES).json()) == 6
    audit = client.get("/admin/api/audit").json()["entries"]
    steps = [(e["action"], e["target"]) for e in reversed(audit) if e["action"].startswith("help")]
    assert steps == [
        ("helpline.add", "Centrum Seksueel Geweld (NL, nl)"),
        ("helpline.edit", "CSG (NL, nl)"),
        ("helpline.remove", "CSG (NL, nl)"),
    ]


def test_analysts_read_and_nobody_else_changes(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, analyst = signed_in_client(
        api_client, db_sessions, clock, email="an@example.org", role="analyst"
    )
    csrf = {"X-CSRF-Token": analyst.csrf}
    assert client.get(SETTINGS).status_code == 200
    assert len(client.get(HELPLINES).json()) == 6
    for method, path, body in [
        ("PUT", SETTINGS, FULL),
        ("POST", HELPLINES, ENTRY),
        ("PUT", f"{HELPLINES}/1", ENTRY),
        ("DELETE", f"{HELPLINES}/1", None),
    ]:
        answer = client.request(method, path, json=body, headers=csrf)
        assert answer.status_code == 403, (method, path)
        assert answer.json()["code"] == "forbidden"
    assert client.get(PUBLIC).json() == NOTHING
    assert len(client.get(HELPLINES).json()) == 6


def test_without_a_session_or_csrf_token_nothing_changes(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, _admin = signed_in_client(api_client, db_sessions, clock)
    for method, path, body in [
        ("PUT", SETTINGS, FULL),
        ("POST", HELPLINES, ENTRY),
        ("PUT", f"{HELPLINES}/1", ENTRY),
        ("DELETE", f"{HELPLINES}/1", None),
    ]:
        without_csrf = client.request(method, path, json=body)
        assert without_csrf.status_code == 403, (method, path)
        other_site = client.request(
            method, path, json=body, headers={"Origin": "https://evil.example"}
        )
        assert other_site.status_code == 403
    stranger = api_client(clock=clock)
    for method, path in [("GET", SETTINGS), ("GET", HELPLINES), ("PUT", SETTINGS)]:
        assert stranger.request(method, path, json=FULL).status_code == 401
    assert stranger.get(PUBLIC).json() == NOTHING
    assert len(client.get(HELPLINES).json()) == 6


def test_the_helplines_commands_are_audited_from_the_shell(
    database_url: str, db_sessions: Any
) -> None:
    from typer.testing import CliRunner

    from openncii.cli import app

    runner = CliRunner()
    base = ["--database-url", database_url]
    added = runner.invoke(
        app, ["helplines", "add", "BE", "fr", "Example", "https://x.example/", "--json", *base]
    )
    assert added.exit_code == 0, added.output
    entry_id = json.loads(added.stdout)["id"]
    removed = runner.invoke(app, ["helplines", "remove", str(entry_id), *base])
    assert removed.exit_code == 0, removed.output
    missing = runner.invoke(app, ["helplines", "remove", str(entry_id), *base])
    assert missing.exit_code == 1 and f"no helpline with id {entry_id}" in missing.stderr
    with db_sessions() as session:
        entries, _total = list_audit(session)
    assert [(e.action, e.target, e.network, e.actor) for e in entries] == [
        ("helpline.remove", "Example (BE, fr)", SHELL, None),
        ("helpline.add", "Example (BE, fr)", SHELL, None),
    ]

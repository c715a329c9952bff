"""The helpline console's staff accounts: set-up links, password + TOTP sign-in, sessions,
CSRF, throttling and the audit log (API level, on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from console_helpers import (
    LOOPBACK,
    PASSWORD,
    add_admin,
    code_at,
    set_up,
    sign_in,
    signed_in_client,
)
from openncii.api.app import CONSOLE_ROUTERS
from openncii.db.models import AuditEntry, Staff
from openncii.testing import FakeClock

ApiClient = Callable[..., Any]


def _cookie_header(answer: Any) -> str:
    return str(answer.headers["set-cookie"])


def test_set_up_then_sign_in_with_password_and_code(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    me = client.get("/admin/api/session")
    assert me.status_code == 200
    assert me.json()["staff"] == {
        "email": "admin@example.org",
        "role": "admin",
        "state": "active",
        "created_at": me.json()["staff"]["created_at"],
        "disabled_at": None,
        "setup_expires_at": None,
    }
    assert me.json()["csrf_token"] == staff.csrf
    with db_sessions() as session:
        row = session.scalars(select(Staff)).one()
        assert row.password_hash is not None and row.password_hash.startswith("$argon2id$")
        assert PASSWORD not in row.password_hash and row.setup_digest is None


def test_the_cookie_flags(api_client: ApiClient, db_sessions: Any, clock: FakeClock) -> None:
    client = api_client(clock=clock)
    client.base_url = LOOPBACK
    secret = set_up(client, add_admin(db_sessions, "a@example.org", clock()), clock())
    clock.advance(seconds=30)
    body = {"email": "a@example.org", "password": PASSWORD, "code": code_at(secret, clock())}
    cookie = _cookie_header(client.post("/admin/api/session", json=body))
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert cookie.startswith("openncii_console=")
    assert {"httponly", "path", "samesite"} <= parts and "secure" not in parts
    assert "Path=/admin" in cookie and "SameSite=strict" in cookie
    # Not on loopback: Secure too.
    client.base_url = "http://console.example.org"
    clock.advance(seconds=30)
    body["code"] = code_at(secret, clock())
    answer = client.post("/admin/api/session", json=body)
    assert answer.status_code == 200
    assert "Secure" in _cookie_header(answer)
    # Answers of the console are never cached; the victim pages still set no cookie.
    assert answer.headers["cache-control"] == "no-store"
    for path in ("/", "/api/v1/partners", "/api/v1/limits"):
        assert "set-cookie" not in client.get(path).headers


def test_a_new_session_id_at_every_sign_in(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    first = client.cookies["openncii_console"]
    client.cookies.clear()
    planted = {"Cookie": "openncii_console=planted-by-attacker"}
    assert client.get("/admin/api/session", headers=planted).status_code == 401
    # Signing in with a planted session id (fixation) does not adopt it: a new one is made.
    clock.advance(seconds=30)
    body = {"email": staff.email, "password": PASSWORD, "code": code_at(staff.secret, clock())}
    answer = client.post("/admin/api/session", json=body, headers=planted)
    assert answer.status_code == 200
    second = _cookie_header(answer).split(";")[0].split("=", 1)[1]
    assert second not in (first, "planted-by-attacker") and len(second) >= 43
    for token in (first, second):
        me = client.get("/admin/api/session", headers={"Cookie": f"openncii_console={token}"})
        assert me.status_code == 200  # two sessions, each with its own id
    assert client.get("/admin/api/session", headers=planted).status_code == 401


def test_a_wrong_or_replayed_code_is_refused(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    used = code_at(staff.secret, clock())
    client.cookies.clear()
    body = {"email": staff.email, "password": PASSWORD, "code": used}
    replay = client.post("/admin/api/session", json=body)
    assert replay.status_code == 401
    wrong = str((int(code_at(staff.secret, clock(), 5)) + 1) % 1_000_000).zfill(6)
    assert client.post("/admin/api/session", json={**body, "code": wrong}).status_code == 401
    unknown = client.post("/admin/api/session", json={**body, "email": "nobody@example.org"})
    bad_password = client.post(
        "/admin/api/session", json={**body, "password": "not the password at all"}
    )
    # One answer for every failure: nothing says whether the account exists.
    assert (
        replay.json()
        == unknown.json()
        == bad_password.json()
        == {
            "detail": "The e-mail, password or authenticator code is not right.",
            "code": "not_authenticated",
        }
    )
    assert "set-cookie" not in replay.headers


@pytest.mark.parametrize("email", ["admin@example.org", "nobody@example.org"])
def test_failed_sign_ins_lock_the_account_whether_it_exists_or_not(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock, email: str
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock, console_signin_failures=3)
    client.cookies.clear()
    body = {"email": email, "password": "a wrong password!", "code": "000000"}
    statuses = [client.post("/admin/api/session", json=body).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    locked = client.post("/admin/api/session", json=body)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    if email == staff.email:
        # Even the right password and a fresh code wait for the lock to pass.
        clock.advance(seconds=30)
        good = {**body, "password": PASSWORD, "code": code_at(staff.secret, clock())}
        assert client.post("/admin/api/session", json=good).status_code == 429
        clock.advance(seconds=3600)
        good["code"] = code_at(staff.secret, clock())
        assert client.post("/admin/api/session", json=good).status_code == 200


def test_failed_sign_ins_lock_the_client(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, _staff = signed_in_client(api_client, db_sessions, clock, console_client_failures=4)
    client.cookies.clear()
    statuses = [
        client.post(
            "/admin/api/session",
            json={"email": f"guess{i}@example.org", "password": "x" * 12, "code": "123456"},
        ).status_code
        for i in range(6)
    ]
    assert statuses[:4] == [401] * 4 and statuses[4:] == [429, 429]


def test_set_up_links_expire_are_used_once_and_refuse_weak_passwords(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client = api_client(clock=clock)
    client.base_url = LOOPBACK
    token = add_admin(db_sessions, "new@example.org", clock())
    view = client.post("/admin/api/setup/view", json={"token": token}).json()
    assert view["email"] == "new@example.org"
    assert view["qr_svg"].startswith("<svg") and "http" not in view["qr_svg"].split(">", 1)[1]
    secret = view["totp_secret"]
    for weak in ("short pass", "1QAZ2WSX3EDC", "q1w2e3r4t5y6", "NEW@example.org"):
        answer = client.post(
            "/admin/api/setup",
            json={"token": token, "password": weak, "code": code_at(secret, clock())},
        )
        assert answer.status_code == 422, weak
        assert answer.json()["code"] == "weak_password"
    wrong_code = client.post(
        "/admin/api/setup", json={"token": token, "password": PASSWORD, "code": "12345x"}
    )
    assert wrong_code.status_code == 401
    with db_sessions() as session:
        assert session.scalars(select(Staff.password_hash)).one() is None  # nothing changed
    set_up(client, token, clock())
    again = client.post("/admin/api/setup/view", json={"token": token})
    assert again.status_code == 400 and again.json()["code"] == "setup_link_invalid"
    late = add_admin(db_sessions, "late@example.org", clock())
    clock.advance(hours=24, seconds=1)
    expired = client.post("/admin/api/setup/view", json={"token": late})
    assert expired.status_code == 400 and "expired" in expired.json()["detail"]


def test_sessions_end_when_idle_or_old(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    clock.advance(minutes=29)
    assert client.get("/admin/api/session").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/admin/api/session").status_code == 401
    sign_in(client, staff.email, staff.secret, clock)
    for _ in range(24):  # active all the time, but 12 hours is the most a session lives
        clock.advance(minutes=29)
        assert client.get("/admin/api/session").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/admin/api/session").status_code == 401


def test_csrf_token_and_origin_are_required_to_change_anything(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    add = {"email": "b@example.org", "role": "analyst"}
    assert client.post("/admin/api/staff", json=add).status_code == 403
    bad = client.post("/admin/api/staff", json=add, headers={"X-CSRF-Token": "nope"})
    assert bad.status_code == 403 and bad.json()["code"] == "forbidden"
    other_site = client.post(
        "/admin/api/staff",
        json=add,
        headers={"X-CSRF-Token": staff.csrf, "Origin": "https://evil.example"},
    )
    assert other_site.status_code == 403
    assert client.get("/admin/api/staff").json()[0]["email"] == staff.email  # nothing added
    ok = client.post(
        "/admin/api/staff", json=add, headers={"X-CSRF-Token": staff.csrf, "Origin": LOOPBACK}
    )
    assert ok.status_code == 201
    assert ok.json()["setup_url"].startswith(f"{LOOPBACK}/admin/#setup=")
    assert client.delete("/admin/api/session").status_code == 403
    out = client.delete("/admin/api/session", headers={"X-CSRF-Token": staff.csrf})
    assert out.status_code == 204
    assert client.get("/admin/api/session").status_code == 401


def test_an_analyst_may_not_manage_staff(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(
        api_client, db_sessions, clock, email="analyst@example.org", role="analyst"
    )
    assert client.get("/admin/api/session").json()["staff"]["role"] == "analyst"
    assert client.get("/admin/api/staff").status_code == 403
    assert client.get("/admin/api/audit").status_code == 403
    add = client.post(
        "/admin/api/staff",
        json={"email": "c@example.org", "role": "admin"},
        headers={"X-CSRF-Token": staff.csrf},
    )
    assert add.status_code == 403
    with db_sessions() as session:
        assert session.scalars(select(Staff.email)).all() == ["analyst@example.org"]


def test_disable_reset_and_sign_out_everywhere(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    admin_client, admin = signed_in_client(api_client, db_sessions, clock)
    headers = {"X-CSRF-Token": admin.csrf}
    link = admin_client.post(
        "/admin/api/staff", json={"email": "d@example.org", "role": "analyst"}, headers=headers
    ).json()["setup_url"]
    other = api_client(clock=clock)
    other.base_url = LOOPBACK
    secret = set_up(other, link.split("#setup=")[1], clock())
    sign_in(other, "d@example.org", secret, clock)
    assert other.get("/admin/api/session").status_code == 200
    disabled = admin_client.post("/admin/api/staff/d@example.org/disable", headers=headers)
    assert disabled.json()["state"] == "disabled"
    assert other.get("/admin/api/session").status_code == 401
    clock.advance(seconds=30)
    again = {"email": "d@example.org", "password": PASSWORD, "code": code_at(secret, clock())}
    assert other.post("/admin/api/session", json=again).status_code == 401
    reset = admin_client.post("/admin/api/staff/d@example.org/reset", headers=headers).json()
    assert reset["staff"]["state"] == "setup"
    secret = set_up(other, reset["setup_url"].split("#setup=")[1], clock())
    sign_in(other, "d@example.org", secret, clock)
    # Sign out everywhere: the admin's other sessions end too.
    second = api_client(clock=clock)
    second.base_url = LOOPBACK
    sign_in(second, admin.email, admin.secret, clock)
    everywhere = second.post(
        "/admin/api/session/everywhere",
        headers={"X-CSRF-Token": second.get("/admin/api/session").json()["csrf_token"]},
    )
    assert everywhere.status_code == 204
    assert admin_client.get("/admin/api/session").status_code == 401
    assert second.get("/admin/api/session").status_code == 401
    assert other.get("/admin/api/session").status_code == 200


def test_every_console_api_route_needs_a_session(api_client: ApiClient) -> None:
    client = api_client()
    open_routes = {
        ("POST", "/admin/api/session"),
        ("POST", "/admin/api/setup"),
        ("POST", "/admin/api/setup/view"),
    }
    checked = 0
    for route in (route for router in CONSOLE_ROUTERS for route in router.routes):
        path = getattr(route, "path", "")
        assert path.startswith("/admin/api/")
        for method in sorted(getattr(route, "methods", set()) - {"HEAD"}):
            if (method, path) in open_routes:
                continue
            url = path.replace("{email}", "x@example.org").replace("{name}", "Acme")
            answer = client.request(method, url, json={})
            assert answer.status_code in (401, 403), (method, path, answer.status_code)
            checked += 1
    assert checked >= 8


def test_the_audit_log_records_each_step_and_is_append_only(
    api_client: ApiClient, db_sessions: Any, clock: FakeClock
) -> None:
    client, staff = signed_in_client(api_client, db_sessions, clock)
    client.post(
        "/admin/api/session",
        json={"email": "nobody@example.org", "password": "y" * 12, "code": "000000"},
    )
    entries = client.get("/admin/api/audit").json()
    actions = [e["action"] for e in reversed(entries["entries"])]
    assert actions == ["staff.add", "staff.setup", "signin.success", "signin.failure"]
    assert entries["total"] == 4
    assert {e["network"] for e in entries["entries"]} == {"shell", "unknown"}  # test client
    csv_text = client.get("/admin/api/audit/export.csv").text
    assert csv_text.splitlines()[0] == "at,actor,action,target,network,detail"
    assert PASSWORD not in csv_text and staff.secret not in csv_text
    assert "audit.export" in csv_text
    with db_sessions() as session, pytest.raises(DBAPIError), session.begin():
        session.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with db_sessions() as session, pytest.raises(DBAPIError), session.begin():
        session.execute(text("DELETE FROM audit_log"))
    with db_sessions() as session:
        assert session.query(AuditEntry).count() == 5

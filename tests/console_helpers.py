"""Helpers of the console tests: a staff account made and signed in through the real API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openncii.staff.totp import time_step, totp_code

#: A password that passes the policy (long, not on the common list).
PASSWORD = "correct horse battery staple 7"
LOOPBACK = "http://127.0.0.1"


@dataclass
class Staff:
    email: str
    secret: str
    csrf: str
    step: int


def code_at(secret: str, now: datetime, offset: int = 0) -> str:
    """The RFC 6238 code an authenticator shows at ``now`` (``offset`` steps later)."""
    return totp_code(secret, time_step(now) + offset)


def setup_token(url: str) -> str:
    return url.split("#setup=", 1)[1]


def set_up(client: Any, token: str, now: datetime, password: str = PASSWORD) -> str:
    """Use a set-up link through the API; the authenticator secret."""
    view = client.post("/admin/api/setup/view", json={"token": token})
    assert view.status_code == 200, view.text
    secret = str(view.json()["totp_secret"])
    done = client.post(
        "/admin/api/setup",
        json={"token": token, "password": password, "code": code_at(secret, now)},
    )
    assert done.status_code == 200, done.text
    return secret


def sign_in(client: Any, email: str, secret: str, clock: Any, password: str = PASSWORD) -> Staff:
    """Sign in (the clock moves one TOTP step first, so that the code is a fresh one)."""
    clock.advance(seconds=30)
    answer = client.post(
        "/admin/api/session",
        json={"email": email, "password": password, "code": code_at(secret, clock())},
    )
    assert answer.status_code == 200, answer.text
    return Staff(email, secret, str(answer.json()["csrf_token"]), time_step(clock()))


def add_admin(sessions: Any, email: str, now: datetime, role: str = "admin") -> str:
    """A new account made as ``openncii staff add`` does; its set-up token."""
    from openncii.staff import StaffPolicy, add_staff

    with sessions() as session:
        link = add_staff(session, email, role, now, StaffPolicy(), actor=None, network="shell")
    return link.token


def signed_in_client(
    api_client: Any,
    db_sessions: Any,
    clock: Any,
    email: str = "admin@example.org",
    role: str = "admin",
    **settings: Any,
) -> tuple[Any, Staff]:
    """A TestClient on loopback with a staff member of ``role`` signed in."""
    client = api_client(clock=clock, **settings)
    client.base_url = LOOPBACK
    token = add_admin(db_sessions, email, clock(), role)
    secret = set_up(client, token, clock())
    return client, sign_in(client, email, secret, clock)

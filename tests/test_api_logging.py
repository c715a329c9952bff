"""Nothing sensitive in logs: no PINs, no hash values, no client IPs (unless enabled)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from case_helpers import CASES, STATUS, WITHDRAW, case_body, md5_item, pdq_item, vpdq_item
from openncii.testing import start_server

#: The test client connects from this loopback address, the server listens on 127.0.0.1.
CLIENT_IP = "127.0.0.2"


def _exercise(base_url: str) -> list[str]:
    """Create, check (right and wrong PIN), withdraw; return every secret value sent or got."""
    items = [pdq_item(), md5_item(), vpdq_item(frames=2)]
    transport = httpx.HTTPTransport(local_address=CLIENT_IP)
    with httpx.Client(base_url=base_url, transport=transport, timeout=30) as client:
        created = client.post(CASES, json=case_body(*items)).json()
        credentials = {"case_number": created["case_number"], "pin": created["pin"]}
        assert client.post(STATUS, json=credentials).status_code == 200
        wrong = {**credentials, "pin": "99999999" if created["pin"] != "99999999" else "11111111"}
        assert client.post(STATUS, json=wrong).status_code == 401
        assert client.post(CASES, json=case_body(pdq_item("0" * 64))).status_code == 422
        assert client.post(WITHDRAW, json=credentials).status_code == 200
    secrets = [
        created["pin"],
        created["pin"].replace("-", ""),
        created["case_number"],
        created["case_number"].replace("-", ""),
    ]
    for item in items:
        if item["type"] == "vpdq":
            secrets.extend(frame["pdq"] for frame in item["frames"])
        else:
            secrets.append(item["value"])
    return secrets


@pytest.mark.slow
def test_server_log_holds_no_pin_hash_or_client_ip(tmp_path: Path) -> None:
    """The real ``openncii serve`` log (uvicorn's and ours) on SQLite: logging does not depend on
    the backend, and every logger is checked on both backends by the last test."""
    server = start_server(f"sqlite:///{tmp_path / 'db.sqlite3'}", log_dir=tmp_path)
    try:
        secrets = _exercise(server.base_url)
    finally:
        server.stop()
    log = server.log()
    assert "POST /api/v1/cases 201" in log  # the access log is on...
    assert "POST /api/v1/cases/status 401" in log
    for secret in secrets:  # ...and says nothing it should not
        assert secret.lower() not in log.lower()
        assert secret[:16].lower() not in log.lower()
    assert CLIENT_IP not in log


@pytest.mark.slow
def test_client_ips_are_logged_only_when_enabled(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    server = start_server(database_url, {"OPENNCII_LOG_CLIENT_IPS": "true"}, log_dir=tmp_path)
    try:
        secrets = _exercise(server.base_url)
    finally:
        server.stop()
    log = server.log()
    assert f"{CLIENT_IP} POST /api/v1/cases 201" in log
    assert secrets[0] not in log


def test_no_secret_reaches_any_logger(
    api_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Every logger at DEBUG (our access log, uvicorn, SQLAlchemy, ...) during a case's life."""
    client = api_client()
    caplog.set_level(logging.DEBUG)
    items = [pdq_item(), md5_item()]
    created = client.post(CASES, json=case_body(*items)).json()
    credentials = {"case_number": created["case_number"], "pin": created["pin"]}
    client.post(STATUS, json=credentials)
    client.post(STATUS, json={**credentials, "pin": "00000000"})
    client.post(WITHDRAW, json=credentials)
    text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
    ).lower()
    assert "openncii.access" in text
    for secret in [
        created["pin"],
        created["pin"].replace("-", ""),
        created["case_number"].replace("-", ""),
    ] + [i["value"] for i in items]:
        assert secret.lower() not in text
    assert "testclient" not in text  # TestClient's peer name: no client address either

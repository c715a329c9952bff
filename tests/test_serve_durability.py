"""``openncii serve`` for real: migrates, serves, and a case acknowledged with 201 survives a
SIGKILL right after (both backends)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from case_helpers import CASES, STATUS, case_body, md5_item, pdq_item
from openncii.db import current_revision, head_revision, make_engine
from openncii.testing import start_server

pytestmark = pytest.mark.slow


def test_case_acknowledged_with_201_survives_sigkill(
    fresh_database_url: str, tmp_path: Path
) -> None:
    """Also shows that ``openncii serve`` migrates an empty database and serves the web app."""
    server = start_server(fresh_database_url, log_dir=tmp_path)
    try:
        page = httpx.get(server.base_url + "/", timeout=10)
        assert page.status_code == 200
        assert "text/html" in page.headers["content-type"]
        assert "set-cookie" not in page.headers
        response = httpx.post(
            server.base_url + CASES, json=case_body(pdq_item(), md5_item()), timeout=30
        )
        server.kill()  # at once after the 201: no graceful shutdown, no checkpoint
    finally:
        server.stop()
    assert response.status_code == 201
    created = response.json()
    restarted = start_server(fresh_database_url, log_dir=tmp_path)
    try:
        status = httpx.post(
            restarted.base_url + STATUS,
            json={"case_number": created["case_number"], "pin": created["pin"]},
            timeout=30,
        )
    finally:
        restarted.stop()
    assert status.status_code == 200
    assert status.json()["status"] == "active"
    assert len(status.json()["hashes"]) == 2
    engine = make_engine(fresh_database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()

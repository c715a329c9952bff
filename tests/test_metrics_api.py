"""``GET /metrics`` of the case service: Prometheus text, route templates as labels (never a
hash, case number or client address), a bearer token or loopback only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from case_helpers import CASES, STATUS, case_body, pdq_item, random_pdq
from openncii.api import create_app
from openncii.testing import serve_in_thread

TOKEN = "m" * 40


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_count_routes_and_events_without_values(api_client: Callable[..., Any]) -> None:
    client = api_client(metrics_token=TOKEN)
    value = random_pdq()
    created = client.post(CASES, json=case_body(pdq_item(value))).json()
    client.post(STATUS, json={"case_number": created["case_number"], "pin": created["pin"]})
    client.get("/no/such/page")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = client.get("/metrics", headers=auth)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    samples = _samples(text)
    key = (
        "openncii_http_requests_total",
        (("method", "POST"), ("route", "/api/v1/cases"), ("status", "201")),
    )
    assert samples[key] == 1
    assert samples[("openncii_cases_created_total", ())] == 1
    assert samples[("openncii_cases_withdrawn_total", ())] == 0
    assert samples[("openncii_argon2_seconds_count", ())] >= 2  # one hash, one verification
    assert (
        "openncii_http_requests_total",
        (("method", "GET"), ("route", "(static)"), ("status", "404")),
    ) in samples
    for secret in (value, created["case_number"], created["pin"], "testclient"):
        assert secret not in text


def test_metrics_need_the_token_or_loopback(
    api_client: Callable[..., Any], make_settings: Callable[..., Any]
) -> None:
    client = api_client(metrics_token=TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert api_client().get("/metrics").status_code == 403  # the test client is not loopback
    with serve_in_thread(create_app(make_settings())) as url:
        assert httpx.get(f"{url}/metrics").status_code == 200  # loopback, no token set

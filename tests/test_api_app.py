"""The application shell: health, security headers on every answer, no cookies, static app."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from openncii.api.middleware import CONTENT_SECURITY_POLICY


def _assert_security_headers(headers: Mapping[str, str]) -> None:
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "set-cookie" not in headers


def test_healthz_answers_200(api_client: Callable[..., Any]) -> None:
    response = api_client().get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    _assert_security_headers(response.headers)


def test_healthz_warns_while_no_company_takes_part(api_client: Callable[..., Any]) -> None:
    """The operator learns from /healthz that nobody looks for copies yet, and that it stops
    once a partner is added."""
    from openncii.partners import NO_PARTNERS_WARNING, add_partner

    client = api_client()
    assert client.get("/healthz").json()["details"] == {
        "partners": 0,
        "warnings": [NO_PARTNERS_WARNING],
    }
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        add_partner(session, "Example Photos", runtime.clock())
    assert client.get("/healthz").json()["details"] == {"partners": 1, "warnings": []}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/index.html"),
        ("GET", "/does-not-exist"),
        ("GET", "/docs"),
        ("GET", "/openapi.json"),
        ("GET", "/api/v1/partners"),
        ("POST", "/api/v1/cases"),
        ("POST", "/api/v1/cases/status"),
        ("DELETE", "/api/v1/cases"),
    ],
)
def test_every_answer_has_security_headers_and_no_cookie(
    api_client: Callable[..., Any], method: str, path: str
) -> None:
    response = api_client().request(method, path, json={"case_number": "x", "pin": "y"})
    assert response.status_code < 500
    _assert_security_headers(response.headers)


def test_static_app_is_served_at_root(api_client: Callable[..., Any]) -> None:
    response = api_client().get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text.lower()


def test_api_routes_win_over_static_files(api_client: Callable[..., Any]) -> None:
    client = api_client()
    assert client.get("/healthz").headers["content-type"] == "application/json"
    assert client.get("/openapi.json").json()["info"]["title"] == "OpenNCII"
    assert "swagger" in client.get("/docs").text.lower()


def test_openapi_documents_the_victim_api(api_client: Callable[..., Any]) -> None:
    paths = api_client().get("/openapi.json").json()["paths"]
    assert set(paths) >= {
        "/api/v1/cases",
        "/api/v1/cases/status",
        "/api/v1/cases/withdraw",
        "/api/v1/limits",
        "/api/v1/partners",
        "/api/v1/helplines",
        "/healthz",
    }
    assert "post" in paths["/api/v1/cases"]


def test_csp_exact_value() -> None:
    assert CONTENT_SECURITY_POLICY == (
        "default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )

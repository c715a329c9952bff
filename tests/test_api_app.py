"""The application shell: health, security headers on every answer, no cookies, static app."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from openncii.api.routes.docs import DOCS_CONTENT_SECURITY_POLICY
from openncii.serving.headers import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY


def _assert_security_headers(headers: Mapping[str, str]) -> None:
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["permissions-policy"] == PERMISSIONS_POLICY
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
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/cases", None),  # carries the PIN
        ("POST", "/api/v1/cases/status", "credentials"),  # carries the case state
        ("POST", "/api/v1/cases/withdraw", "credentials"),
        ("POST", "/api/v1/cases/status", "wrong"),  # a refusal too
        ("GET", "/v1/FetchHashes", None),  # hash values (here refused without a key)
        ("GET", "/api/v1/limits", None),
        ("GET", "/healthz", None),
    ],
)
def test_json_answers_are_never_stored(
    api_client: Callable[..., Any], method: str, path: str, body: str | None
) -> None:
    from case_helpers import CASES, case_body

    client = api_client()
    created = client.post(CASES, json=case_body())
    assert created.headers["cache-control"] == "no-store"
    assert created.headers["pragma"] == "no-cache"
    credentials = {"case_number": created.json()["case_number"], "pin": created.json()["pin"]}
    payload: Any = {
        None: case_body(),
        "credentials": credentials,
        "wrong": {**credentials, "pin": "0" * 16},
    }[body]
    response = client.request(method, path, json=payload if method == "POST" else None)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert "strict-transport-security" not in response.headers


def test_static_pages_keep_their_caching_and_get_the_policies(
    api_client: Callable[..., Any],
) -> None:
    response = api_client().get("/")
    assert "cache-control" not in response.headers
    assert "etag" in response.headers
    _assert_security_headers(response.headers)


def test_hsts_only_when_served_over_https(api_client: Callable[..., Any]) -> None:
    from openncii.serving.headers import HSTS

    plain = api_client()
    assert "strict-transport-security" not in plain.get("/").headers
    secure = api_client(served_over_https=True)
    for path in ("/", "/healthz", "/does-not-exist"):
        assert secure.get(path).headers["strict-transport-security"] == HSTS == "max-age=63072000"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/api/v1/cases", "POST"),
        ("OPTIONS", "/api/v1/cases", "POST"),
        ("PUT", "/api/v1/cases/status", "POST"),
        ("DELETE", "/api/v1/cases/withdraw", "POST"),
        ("POST", "/api/v1/limits", "GET"),
        ("OPTIONS", "/api/v1/partners", "GET"),
        ("POST", "/v1/FetchHashes", "GET"),
        ("GET", "/v1/SubmitFeedback", "POST"),
        ("OPTIONS", "/v1/SubmitHashes", "POST"),
        ("PATCH", "/healthz", "GET"),
        ("POST", "/openapi.json", "GET, HEAD"),
    ],
)
def test_a_wrong_method_on_an_api_path_gets_405_with_the_methods_of_the_path(
    api_client: Callable[..., Any], method: str, path: str, allow: str
) -> None:
    """Not the static files' answer (404, or 405 with ``Allow: GET, HEAD``)."""
    response = api_client().request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {
        "detail": f"Method not allowed here; use {allow}.",
        "code": "method_not_allowed",
    }
    _assert_security_headers(response.headers)


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v1/nothing"), ("POST", "/api/v1/cases/x"), ("PUT", "/v1"), ("POST", "/v1/X")],
)
def test_an_unknown_api_path_gets_404_whatever_the_method(
    api_client: Callable[..., Any], method: str, path: str
) -> None:
    response = api_client().request(method, path)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such API path.", "code": "not_found"}
    assert "allow" not in response.headers


def test_the_docs_page_loads_only_its_own_files_under_its_own_policy(
    api_client: Callable[..., Any],
) -> None:
    client = api_client()
    page = client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources == [
        "/docs/assets/swagger-ui.css",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/openncii-docs.js",
    ]
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200
        assert asset.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert f'{source}" integrity="sha384-{digest}"' in page.text
    assert client.get("/docs/assets/index.html").status_code == 404
    assert client.get("/docs/assets/../index.html").status_code in (404, 200)
    # The rest of the site keeps the strict policy.
    assert client.get("/").headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert client.get("/docsx").headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_document_states_every_refusal_the_server_gives(
    api_client: Callable[..., Any],
) -> None:
    """413 (body limit) and 400 (an unreadable body) on every operation that takes a body, 422
    as the one error body everywhere (never FastAPI's own validation-error shape)."""
    client = api_client(max_hashes_per_case=7)
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)
            for status, answer in responses.items():
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (path, status)
    unreadable = client.post(
        "/api/v1/cases/status", content=b"\xff", headers={"content-type": "application/json"}
    )
    assert unreadable.status_code == 400
    assert unreadable.json()["code"] == "invalid_request"
    case = document["components"]["schemas"]["CaseCreateIn"]["properties"]["hashes"]
    assert case["maxItems"] == 7  # the setting, not a fixed bound

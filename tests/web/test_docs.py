"""The API docs page (/docs) in Chromium: Swagger UI from this server only, under the page's
own Content Security Policy, rendering every operation of the OpenAPI document."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest

from openncii.api.routes.docs import DOCS_CONTENT_SECURITY_POLICY
from openncii.testing import ServerProcess

from .harness import Recorder, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_the_docs_render_every_operation_without_a_csp_violation(
    page: Page, server: ServerProcess, recorder: Recorder
) -> None:
    document = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    operations = {
        f"{method.upper()} {path}"
        for path, methods in document["paths"].items()
        for method in methods
    }
    page.add_init_script(_RECORD_VIOLATIONS)
    response = page.goto(f"{server.base_url}/docs")
    assert response is not None
    assert response.headers["content-security-policy"] == DOCS_CONTENT_SECURITY_POLICY
    page.wait_for_selector(".opblock-summary", timeout=30_000)
    shown = page.eval_on_selector_all(
        ".opblock",
        """blocks => blocks.map(b => {
            const method = b.querySelector('.opblock-summary-method').textContent.trim();
            const path = b.querySelector('.opblock-summary-path').getAttribute('data-path');
            return `${method} ${path}`;
        })""",
    )
    assert sorted(shown) == sorted(operations)
    # Open an operation and its "Try it out" form: still nothing the policy refuses.
    page.click("#operations-cases-post_case_api_v1_cases_post .opblock-summary")
    page.click("#operations-cases-post_case_api_v1_cases_post .try-out__btn")
    page.wait_for_selector("#operations-cases-post_case_api_v1_cases_post textarea")
    assert page.evaluate("window.__violations") == []
    screenshot(page, "api-docs")
    # Everything came from this server: no CDN.
    origin = urlsplit(server.base_url).netloc
    assert {urlsplit(r.url).netloc for r in recorder.requests if r.url.startswith("http")} == {
        origin
    }

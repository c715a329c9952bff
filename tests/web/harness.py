"""What the browser tests share besides fixtures: constants, the request recorder, and helpers
to open the app, run axe-core, take screenshots and serve test files to a page."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openncii.testing import FakeClock, ServerProcess

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Where the tests install axe-core from npm (git-ignored), and where screenshots go.
NODE_DIR = Path(__file__).resolve().parent / ".node"
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
LANGUAGES = ("en", "nl", "fr")
#: How long Playwright's expect() waits for a page to come right (fixture ``playwright_instance``).
EXPECT_TIMEOUT_MS = 15_000


@dataclass
class RecordedRequest:
    method: str
    url: str
    resource_type: str
    headers: dict[str, str]
    body: bytes | None


@dataclass
class Recorder:
    """Every request a page (and its workers) made."""

    requests: list[RecordedRequest] = field(default_factory=list)

    def on_request(self, request: Request) -> None:
        self.requests.append(
            RecordedRequest(
                method=request.method,
                url=request.url,
                resource_type=request.resource_type,
                headers=dict(request.headers),
                body=request.post_data_buffer,
            )
        )

    def api_calls(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if path in r.url]


@dataclass
class ClockedServer:
    """The app served in this process on a clock of the test's (fixture ``clocked_server``)."""

    base_url: str
    database_url: str
    clock: FakeClock


def open_app(
    page: Page, server: ServerProcess | ClockedServer, fragment: str = "/", lang: str | None = None
) -> None:
    """Load the app and wait until it has rendered its first view."""
    query = f"?lang={lang}" if lang else ""
    page.goto(f"{server.base_url}/{query}#{fragment}")
    page.wait_for_selector("body[data-ready='true']")


def run_axe(page: Page, axe_source: str) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now.

    axe is evaluated through the DevTools protocol (like any Playwright evaluate), which the
    page's Content Security Policy does not govern; the page itself never loads it.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source + "\n;true")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def b64decode(text: str) -> bytes:
    return base64.b64decode(text)


def json_body(request: RecordedRequest) -> Any:
    assert request.body is not None
    return json.loads(request.body)


def serve_test_files(page: Page, files: dict[str, bytes]) -> None:
    """Answer ``/__test__/<name>`` on the app's origin with the given bytes (test-only route)."""

    def handle(route: Any) -> None:
        name = route.request.url.rsplit("/__test__/", 1)[1]
        if name in files:
            route.fulfill(body=files[name], content_type="application/octet-stream")
        else:
            route.fulfill(status=404, body=b"")

    page.route("**/__test__/**", handle)


#: In the page: run the hashing worker on files fetched from /__test__/ and collect its answers.
WORKER_HASH_JS = """async (names) => {
    const worker = new Worker('/js/hash-worker.js', {type: 'module'});
    const out = {};
    try {
        for (const name of names) {
            const blob = await (await fetch('/__test__/' + name)).blob();
            const file = new File([blob], name);
            const t0 = performance.now();
            const answer = await new Promise((resolve) => {
                worker.onmessage = (event) => {
                    const m = event.data;
                    if (m.type === 'done' || m.type === 'failed') resolve(m);
                };
                worker.postMessage({type: 'hash', id: 1, file});
            });
            const ms = performance.now() - t0;
            if (answer.thumb) answer.thumb.close();
            delete answer.thumb;
            out[name] = {...answer, ms};
        }
    } finally {
        worker.terminate();
    }
    return out;
}"""

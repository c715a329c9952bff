"""Browser fixtures: the real app served by ``openncii serve``, Debian's Chromium through
Playwright, a record of every request a page makes, and axe-core for accessibility checks.

Outside CI the browser tests skip with a message when Chromium or Playwright is missing; with
``CI=true`` they fail instead.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = REPO_ROOT.parent / "shared"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Where the tests install axe-core from npm (git-ignored), and where screenshots go.
NODE_DIR = Path(__file__).resolve().parent / ".node"
AXE_JS = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1280, "height": 900}
TESTDATA = SHARED_DIR / "testdata"
LANGUAGES = ("en", "nl", "fr")


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason`` outside CI; with ``CI=true`` a missing prerequisite is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (required in CI)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_testdata() -> Path:
    if not TESTDATA.is_dir():
        skip_or_fail(f"shared test data not found at {TESTDATA}")
    return TESTDATA


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield b
    b.close()


@dataclass
class Server:
    """A running ``openncii serve`` on a loopback port with its own SQLite database."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    database_url: str


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("server")
    database_url = f"sqlite:///{folder / 'web.sqlite3'}"
    port = free_port()
    log = folder / "server.log"
    executable = Path(sys.executable).with_name("openncii")
    command = [str(executable)] if executable.exists() else [sys.executable, "-m", "openncii.cli"]
    env = {**os.environ, "OPENNCII_DATABASE_URL": database_url}
    # The flow tests open several cases from one address; keep the per-client limits out of the way.
    env.setdefault("OPENNCII_RATE_LIMIT_CREATE", "1000")
    env.setdefault("OPENNCII_RATE_LIMIT_STATUS", "1000")
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"openncii serve did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.2)
    yield Server(url=url, process=process, log=log, database_url=database_url)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=DESKTOP, accept_downloads=True, locale="en-GB")
    yield ctx
    ctx.close()


@pytest.fixture
def recorder(context: BrowserContext) -> Recorder:
    rec = Recorder()
    context.on("request", rec.on_request)
    return rec


@pytest.fixture
def page(context: BrowserContext, recorder: Recorder) -> Iterator[Page]:
    p = context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    # Console errors fail the test (a CSP violation, a script error), except the browser's note
    # on an HTTP error status, which the tests provoke on purpose (a wrong PIN gets a 401).
    p.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if (msg.type == "error" and not msg.text.startswith("Failed to load resource"))
            or msg.text.startswith("missing text")
            else None
        ),
    )
    yield p
    assert not errors, f"errors in the page: {errors}"


def open_app(page: Page, server: Server, fragment: str = "/", lang: str | None = None) -> None:
    """Load the app and wait until it has rendered its first view."""
    query = f"?lang={lang}" if lang else ""
    page.goto(f"{server.url}/{query}#{fragment}")
    page.wait_for_selector("body[data-ready='true']")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed from npm into tests/web/.node when missing."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            skip_or_fail("npm is missing: cannot install axe-core for the accessibility tests")
        result = subprocess.run(
            [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "axe-core@4"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0 or not AXE_JS.exists():
            skip_or_fail(f"npm install axe-core failed: {result.stderr[-2000:]}")
    return AXE_JS.read_text(encoding="utf-8")


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

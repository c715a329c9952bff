"""Browser fixtures: the real app served by ``openncii serve``, Debian's Chromium through
Playwright, a record of every request a page makes, and axe-core for accessibility checks.

Outside CI the browser tests skip with a message when Chromium or Playwright is missing; with
``CI=true`` they fail instead. Helpers that are not fixtures are in :mod:`tests.web.harness`.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from openncii.testing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    FakeClock,
    ServerProcess,
    serve_on_a_clock,
    skip_or_fail,
    start_server,
)

from .harness import AXE_JS, DESKTOP, EXPECT_TIMEOUT_MS, NODE_DIR, ClockedServer, Recorder

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        skip_or_fail(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("playwright is not installed (pip install -e '.[dev]')")
    # expect() waits 5 s by default: short when CI shares a loaded machine.
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    b = playwright_instance.chromium.launch(executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS))
    yield b
    b.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """``openncii serve`` on a SQLite database of its own, for the whole session."""
    folder = tmp_path_factory.mktemp("server")
    with start_server(f"sqlite:///{folder / 'web.sqlite3'}", log_dir=folder) as running:
        yield running


@pytest.fixture
def clocked_server(tmp_path: Path) -> Iterator[ClockedServer]:
    """The case service served in this process (:func:`openncii.testing.serve_on_a_clock`) on a
    SQLite database of its own, its clock a :class:`FakeClock` (now, in whole seconds) that the
    test moves: for what depends on the server's time (authenticator codes, PIN-try windows)."""
    database_url = f"sqlite:///{tmp_path / 'clocked.sqlite3'}"
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    with serve_on_a_clock(database_url, clock) as base_url:
        yield ClockedServer(base_url, database_url, clock)


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

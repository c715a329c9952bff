"""The person's journey, made trustworthy, in a real browser: honest words about who takes
part, a PIN that stays private (Back, Home then Back, history, memory), a quick exit, a safe
focus on withdrawal, a returning person, files on another device, local helplines, and a long
list of files on a phone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from openncii.testing import ServerProcess, run_openncii, start_server

from .harness import PHONE, open_app, screenshot
from .test_flow import QUESTIONS, catalogue, check_page, expect_h1
from .test_pages import _to_select_page

pytestmark = pytest.mark.browser

PHOTO = "photos/sklearn_flower.jpg"
#: Where the quick exit goes (answered by the test: the machine has no Internet).
NEUTRAL = "https://www.google.com/"


@pytest.fixture
def lonely_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """``openncii serve`` on a fresh database where no company takes part."""
    with start_server(f"sqlite:///{tmp_path / 'lonely.sqlite3'}", log_dir=tmp_path) as running:
        yield running


def _open_a_case(page: Any, server: ServerProcess, testdata: Path) -> tuple[str, str]:
    """Through the steps with one photo, to the case number and PIN (read from the answer on
    the wire, not from the page: reading the page would keep a copy in the page's memory)."""
    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", str(testdata / PHOTO))
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    with page.expect_response("**/api/v1/cases") as answer:
        page.click("[data-testid=submit-case]")
    created = answer.value.json()
    page.wait_for_selector("[data-testid=case-number]:visible")
    return created["case_number"], str(created["pin"])


def _heap_strings(page: Any) -> str:
    """A snapshot of the page's JavaScript heap after a garbage collection, as text."""
    cdp = page.context.new_cdp_session(page)
    chunks: list[str] = []
    cdp.on("HeapProfiler.addHeapSnapshotChunk", lambda event: chunks.append(event["chunk"]))
    cdp.send("HeapProfiler.enable")
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    cdp.detach()
    return "".join(chunks)


def _page_holds(page: Any, *values: str) -> list[str]:
    html = page.content()
    return [v for v in values if v in html or v in page.url]


def test_no_company_taking_part_is_said_plainly(
    testdata: Path, page: Any, lonely_server: ServerProcess, axe_source: str
) -> None:
    server = lonely_server
    assert "warning: no participating company" in server.log()
    text = catalogue("en")
    open_app(page, server, "/")
    assert page.inner_text("[data-testid=welcome-partners]") == text["welcome.partners.none"]
    # How it works, up front: the hash truth, the companies' own rules, a pen ready.
    how = page.inner_text("#view-welcome")
    for key in ("welcome.how.2", "welcome.how.3", "welcome.pen.text", "welcome.shared.who"):
        assert text[key] in how, key
    assert "nobody can turn it back" not in how
    check_page(page, axe_source, "journey-welcome-no-partner-en")
    _open_a_case(page, server, testdata)
    assert page.inner_text("[data-testid=done-partners]") == text["done.partners.none"]
    assert "will now look for copies" not in page.inner_text("#view-done")
    page.check("[data-testid=noted]")
    page.click("[data-testid=finish]")
    expect_h1(page, text["done.next.title"])
    assert page.inner_text("[data-testid=finished-text]") == text["done.partners.none"]

    # Once a company takes part, the pages name it.
    assert server.database_url is not None
    added = run_openncii("partners", "add", "Example Photos", "--database-url", server.database_url)
    assert added.returncode == 0, added.stderr
    open_app(page, server, "/", lang="nl")
    expected = catalogue("nl")["welcome.partners.some"].replace("{names}", "Example Photos")
    assert page.inner_text("[data-testid=welcome-partners]") == expected


def test_the_pin_is_gone_once_the_person_has_finished(
    testdata: Path, page: Any, server: ServerProcess
) -> None:
    text = catalogue("en")
    open_app(page, server, "/")
    page.click("[data-testid=start]")
    case_number, pin = _open_a_case(page, server, testdata)
    assert _page_holds(page, case_number, pin) == [case_number, pin]
    # The saved file says plainly what it holds.
    assert page.inner_text("#save-note") == text["done.saveNote"]
    page.check("[data-testid=noted]")
    page.click("[data-testid=finish]")
    expect_h1(page, text["done.next.title"])
    assert page.url.endswith("#/finished")
    assert _page_holds(page, case_number, pin) == []
    heap = _heap_strings(page)
    assert pin not in heap, "the PIN is still in the page's memory"
    assert case_number not in heap, "the case number is still in the page's memory"

    # Back: never the PIN page again, and no history entry leads to it.
    page.go_back()
    page.wait_for_function("() => location.hash !== '#/finished'")
    assert page.locator("#view-done").is_hidden()
    assert _page_holds(page, case_number, pin) == []
    page.go_forward()
    expect_h1(page, text["done.next.title"])
    page.click("[data-testid=home-link]")
    expect_h1(page, text["welcome.title"])
    page.go_back()
    expect_h1(page, text["done.next.title"])
    assert _page_holds(page, case_number, pin) == []
    entries = page.evaluate("history.length")
    for _ in range(entries):
        assert page.locator("#view-done").is_hidden()
        assert _page_holds(page, case_number, pin) == []
        if page.evaluate("location.hash") in ("", "#/"):
            break
        page.go_back()
        page.wait_for_load_state()

    # Step 6 right after the steps; the safe choice is focused on withdrawal; then the form
    # is cleared.
    page.goto(f"{server.base_url}/#/finished")
    page.wait_for_selector("body[data-ready='true']")
    page.click("#finished a[href='#/check']")
    expect_h1(page, text["check.title"])
    page.fill("[data-testid=check-case]", case_number)
    page.fill("[data-testid=check-pin]", pin)
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("[data-testid=case-status]:visible")
    page.click("[data-testid=withdraw-start]")
    assert page.evaluate("document.activeElement.id") == "withdraw-no"
    page.keyboard.press("Enter")  # "No, keep my case"; the focus goes back to "Withdraw..."
    page.keyboard.press("Enter")  # which asks again, the safe choice focused again
    assert page.inner_text("[data-testid=status-state]") == text["status.active"]
    assert page.evaluate("document.activeElement.id") == "withdraw-no"
    page.click("[data-testid=withdraw-confirm]")
    page.wait_for_selector("[data-testid=withdraw-done]:visible")
    assert page.input_value("[data-testid=check-case]") == ""
    assert page.input_value("[data-testid=check-pin]") == ""


def test_quick_exit_and_one_neutral_title_on_every_view(
    page: Any, server: ServerProcess, axe_source: str
) -> None:
    page.route(
        f"{NEUTRAL}**",
        lambda route: route.fulfill(
            status=200, body="<title>Search</title><p>search</p>", content_type="text/html"
        ),
    )
    views = {
        "/": "welcome",
        "/eligibility": "eligibility",
        "/check": "check",
        "/partners": "partners",
        "/finished": "finished",
    }
    for fragment, view in views.items():
        open_app(page, server, fragment)
        page.wait_for_selector(f"#view-{view}:visible")
        assert page.title() == "OpenNCII", fragment
        assert page.locator("[data-testid=quick-exit]").is_visible(), fragment
    page.set_viewport_size(PHONE)
    open_app(page, server, "/")
    page.click("[data-testid=start]")
    page.wait_for_selector("#view-eligibility:visible")
    check_page(page, axe_source, "journey-quick-exit-eligibility-en", phone=True)
    before = page.evaluate("history.length")
    page.click("[data-testid=quick-exit]")
    page.wait_for_url(NEUTRAL)
    assert page.evaluate("history.length") == before  # replaced, not added
    page.go_back()
    page.wait_for_selector("body[data-ready='true']")
    # The view the person was on is not in the history: Back lands on the one before it.
    assert page.evaluate("location.hash") in ("", "#/")


def test_a_returning_person(testdata: Path, page: Any, server: ServerProcess) -> None:
    text = catalogue("en")
    open_app(page, server, "/")
    page.click("a[href='#/check'].button")
    expect_h1(page, text["check.title"])
    assert page.locator("#check-step").is_hidden()  # no "Step 6 of 6" for a returning person
    # With the server down, nothing is said about fingerprints being "still here".
    page.route("**/api/v1/cases/status", lambda route: route.abort())
    page.fill("[data-testid=check-case]", "ABCD-EFGH-JKLM")
    page.fill("[data-testid=check-pin]", "12345678")
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("#check-error:visible")
    assert page.inner_text("#check-error") == text["errors.networkCheck"]
    page.unroute("**/api/v1/cases/status")
    # Leaving the check view forgets what was typed there.
    page.click("[data-testid=home-link]")
    expect_h1(page, text["welcome.title"])
    page.click("[data-testid=nav-check]")
    expect_h1(page, text["check.title"])
    assert page.input_value("[data-testid=check-case]") == ""
    assert page.input_value("[data-testid=check-pin]") == ""

    # Reloading the PIN page once noted: not the welcome page, but what happened and what next.
    _open_a_case(page, server, testdata)
    page.check("[data-testid=noted]")
    page.reload()
    page.wait_for_selector("body[data-ready='true']")
    expect_h1(page, text["done.next.title"])
    assert page.inner_text("[data-testid=finished-gone]") == text["done.gone"]
    page.locator("#finished a[href='#/check']").wait_for(state="visible", timeout=30_000)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", {("GB", "Revenge Porn Helpline"), ("NL", "Helpwanted")}),
        (
            "nl",
            {("BE", "Instituut voor de gelijkheid van vrouwen en mannen"), ("NL", "Helpwanted")},
        ),
        (
            "fr",
            {
                ("BE", "Institut pour l'égalité des femmes et des hommes"),
                ("FR", "3018 (e-Enfance)"),
            },
        ),
    ],
)
def test_files_elsewhere_and_local_helplines_in_each_language(
    page: Any, server: ServerProcess, axe_source: str, lang: str, expected: set[tuple[str, str]]
) -> None:
    text = catalogue(lang)
    open_app(page, server, "/eligibility", lang=lang)
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}{'-no' if q == 'has_content' else ''}]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, text["noteligible.title"])
    assert page.inner_text("[data-testid=noteligible-device]") == text["noteligible.otherDevice"]
    page.wait_for_selector("[data-testid=helplines] li")
    links = page.locator("[data-testid=helplines] li > a:first-child")
    assert all(h.startswith("https://") for h in links.evaluate_all("els => els.map(e => e.href)"))
    shown = links.all_inner_texts()
    for country, name in expected:
        country_name = page.evaluate(
            "([lang, c]) => new Intl.DisplayNames([lang], {type: 'region'}).of(c)", [lang, country]
        )
        line = text["helplines.line"].replace("{name}", name).replace("{country}", country_name)
        assert line in shown, (line, shown)
    assert len(shown) == len(expected)
    check_page(page, axe_source, f"journey-helplines-{lang}", phone=True)


def test_thirty_photos_on_a_phone_keep_send_in_reach(
    testdata: Path, page: Any, server: ServerProcess
) -> None:
    photos = sorted((testdata / "photos").glob("*.jpg"))[:30]
    assert len(photos) == 30
    page.set_viewport_size(PHONE)
    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", [str(p) for p in photos])
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=180_000)
    page.evaluate("window.scrollTo(0, 0)")
    box = page.locator("[data-testid=submit-case]").bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box
    count = page.inner_text("[data-testid=action-count]")
    ready = sum(
        s == "done"
        for s in page.locator("#items li").evaluate_all("els => els.map(e => e.dataset.status)")
    )
    assert count == catalogue("en")["select.readyCount.other"].replace("{count}", str(ready))
    # Full file names, wrapped, never cut.
    names = page.locator("#items .item-name")
    assert names.all_inner_texts() == [p.name for p in photos]
    cut = names.evaluate_all("els => els.filter(e => e.scrollWidth > e.clientWidth).length")
    assert cut == 0
    _viewport_shot(page, "journey-30-photos-phone-top")
    page.evaluate("window.scrollTo(0, document.body.scrollHeight / 2)")
    box = page.locator("[data-testid=submit-case]").bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    _viewport_shot(page, "journey-30-photos-phone-middle")
    # Remove one: it is gone from the list and from the count.
    page.locator("#items li >> nth=3 >> button").click()
    assert page.locator("#items li").count() == 29
    assert photos[3].name not in page.locator("#items .item-name").all_inner_texts()
    left = sum(
        s == "done"
        for s in page.locator("#items li").evaluate_all("els => els.map(e => e.dataset.status)")
    )
    assert page.inner_text("[data-testid=action-count]") == catalogue("en")[
        "select.readyCount.other"
    ].replace("{count}", str(left))


def _viewport_shot(page: Any, name: str) -> None:
    """What the phone's screen shows (not the whole page)."""
    path = screenshot(page, name)
    page.screenshot(path=str(path), full_page=False)


def _lines_of_text(page: Any, test_id: str) -> int:
    """How many lines the text of an element is laid out on."""
    tops: list[float] = page.locator(f"[data-testid={test_id}]").evaluate(
        """el => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return [...range.getClientRects()].map(r => Math.round(r.top));
        }"""
    )
    return len(set(tops))


@pytest.mark.parametrize("width", [1280, 360, 320])
def test_the_case_number_and_pin_each_fit_on_one_line(
    testdata: Path, page: Any, server: ServerProcess, width: int
) -> None:
    # A PIN broken over two lines is easy to copy down wrong.
    page.set_viewport_size({"width": width, "height": 800})
    _open_a_case(page, server, testdata)
    assert _lines_of_text(page, "case-number") == 1
    assert _lines_of_text(page, "pin") == 1
    overflow = page.locator("[data-testid=pin]").evaluate("el => el.scrollWidth - el.clientWidth")
    assert overflow <= 0
    _viewport_shot(page, f"journey-case-and-pin-{width}")

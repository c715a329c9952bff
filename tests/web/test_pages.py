"""The other pages and behaviours: not eligible, keyboard only, language choice and switching,
partner outcomes in plain words, the participating companies, leaving before noting the PIN."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
except ImportError:  # the browser fixtures skip (or fail in CI) with a clear message
    PlaywrightTimeoutError = TimeoutError  # type: ignore[misc,assignment]

from openncii.testing import ServerProcess, run_openncii

from .harness import (
    DESKTOP,
    LANGUAGES,
    Recorder,
    open_app,
)
from .test_flow import QUESTIONS, catalogue, check_page, expect_h1

pytestmark = pytest.mark.browser

PHOTO = "photos/sklearn_flower.jpg"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_not_eligible_is_kind_and_points_elsewhere(
    page: Any, server: ServerProcess, recorder: Recorder, axe_source: str, lang: str
) -> None:
    text = catalogue(lang)
    open_app(page, server, "/eligibility", lang=lang)
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}{'-no' if q == 'adult_when_taken' else ''}]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, text["noteligible.title"])
    take_it_down = page.locator("#help-minor a")
    take_it_down.wait_for(state="visible", timeout=30_000)
    assert take_it_down.get_attribute("href") == "https://takeitdown.ncmec.org/"
    assert page.locator("#help-other").is_hidden()
    check_page(page, axe_source, f"2b-not-eligible-minor-{lang}")
    # Not in the images and not intimate: the reasons, and still somewhere to turn to.
    page.click("#view-not-eligible a[href='#/eligibility']")
    expect_h1(page, text["eligibility.title"])  # the view changes on the next hashchange
    page.check("[data-testid=eligibility-adult_when_taken]")
    page.check("[data-testid=eligibility-in_image-no]")
    page.check("[data-testid=eligibility-intimate-no]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, text["noteligible.title"])
    assert page.locator("#help-minor").is_hidden()
    reason = page.inner_text("#noteligible-reason")
    assert text["noteligible.reason.in_image"] in reason
    assert text["noteligible.reason.intimate"] in reason
    assert page.locator("#view-not-eligible .links a").count() >= 2
    check_page(page, axe_source, f"2b-not-eligible-other-{lang}", phone=lang == "en")
    # The select page cannot be reached by typing its address.
    page.goto(f"{server.base_url}/?lang={lang}#/select")
    page.wait_for_selector("body[data-ready='true']")
    expect_h1(page, text["eligibility.title"])
    assert not recorder.api_calls("/api/v1/cases")


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _assert_focus_visible(page: Any) -> None:
    style = page.evaluate(
        """() => {
            const el = document.activeElement;
            const target = el.matches('input[type=radio], input[type=file]')
                ? (el.labels[0] || el.closest('.dropzone').querySelector('label')) : el;
            const s = getComputedStyle(target);
            return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)};
        }"""
    )
    assert style["style"] != "none" and style["width"] >= 2, style


def test_keyboard_only_flow(testdata: Path, page: Any, server: ServerProcess) -> None:
    page.bring_to_front()
    open_app(page, server, "/")
    _tab_to(page, "[data-testid=start]")
    _assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-eligibility:visible")
    for q in QUESTIONS:
        _tab_to(page, f"input[name={q}]")
        _assert_focus_visible(page)
        page.keyboard.press("Space")  # the first radio of the group: yes
        assert page.is_checked(f"[data-testid=eligibility-{q}]")
    _tab_to(page, "[data-testid=eligibility-continue]")
    _assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-select:visible")
    _tab_to(page, "[data-testid=file-input]")
    _assert_focus_visible(page)
    # Enter on the focused file input opens the chooser. Headless Chromium now and then drops
    # the first key press there (no window focus); the person would simply press it again.
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Enter")
            break
        except PlaywrightTimeoutError:
            assert attempt < 2, "Enter on the file input never opened the file chooser"
            assert page.evaluate("document.activeElement.dataset.testid") == "file-input"
    chooser.value.set_files(str(testdata / PHOTO))
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    _tab_to(page, "[data-testid=submit-case]")
    _assert_focus_visible(page)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=case-number]:visible")
    case_number = page.inner_text("[data-testid=case-number]")
    pin = page.inner_text("[data-testid=pin]")
    _tab_to(page, "[data-testid=noted]")
    _assert_focus_visible(page)
    page.keyboard.press("Space")
    _tab_to(page, "[data-testid=finish]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#finished:visible")
    _tab_to(page, "#finished a")
    page.keyboard.press("Enter")
    page.wait_for_selector("#view-check:visible")
    _tab_to(page, "[data-testid=check-case]")
    page.keyboard.type(case_number)
    page.keyboard.press("Tab")
    page.keyboard.type(pin)
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=case-status]:visible")
    _tab_to(page, "[data-testid=withdraw-start]")
    page.keyboard.press("Enter")
    # The safe choice has the focus; the withdrawal is one step back.
    assert page.evaluate("document.activeElement.id") == "withdraw-no"
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "withdraw-confirm"
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=withdraw-done]:visible")
    assert page.inner_text("[data-testid=status-state]") == catalogue("en")["status.withdrawn"]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("nl-NL", "nl"),
        ("fr-CA", "fr"),
        ("de-AT", "de"),
        ("pt-PT", "pt-BR"),
        ("zh-CN", "zh-CN"),
        ("ar-EG", "ar"),
        ("sv-SE", "en"),
        ("en-US", "en"),
    ],
)
def test_language_follows_the_browser(
    browser: Any, server: ServerProcess, locale: str, expected: str
) -> None:
    context = browser.new_context(locale=locale, viewport=DESKTOP)
    try:
        page = context.new_page()
        open_app(page, server)
        assert page.evaluate("document.documentElement.lang") == expected
        expect_h1(page, catalogue(expected)["welcome.title"])
    finally:
        context.close()


def test_switching_language_keeps_everything(page: Any, server: ServerProcess) -> None:
    open_app(page, server, "/eligibility", lang="en")
    page.check("[data-testid=eligibility-in_image]")
    page.check("[data-testid=eligibility-adult_now-no]")
    for lang in ("nl", "fr", "en", "nl"):
        page.select_option("[data-testid=language-select]", lang)
        page.wait_for_function("(l) => document.documentElement.lang === l", arg=lang)
        text = catalogue(lang)
        expect_h1(page, text["eligibility.title"])
        legends = page.locator("legend").all_inner_texts()
        assert legends[0] == text["eligibility.in_image.question"]
        assert page.inner_text("footer p >> nth=0") == text["footer.privacy"]
        assert page.is_checked("[data-testid=eligibility-in_image]")
        assert page.is_checked("[data-testid=eligibility-adult_now-no]")
        assert f"lang={lang}" in page.url
        assert page.title() == "OpenNCII"  # one neutral title on every view


def test_outcomes_and_errors_in_plain_words(page: Any, server: ServerProcess) -> None:
    """Partner outcomes as the status API reports them, rendered as sentences (the answer is
    stubbed here: partners report through the partner API, tested with the case service)."""
    status = {
        "case_number": "ABCD-EFGH-JKLM",
        "status": "active",
        "created_at": "2026-11-20T10:00:00Z",
        "withdrawn_at": None,
        "hashes": [
            {
                "type": "pdq",
                "prefix": "f8f8f0ce",
                "outcomes": [
                    {"partner": "PhotoShare", "outcome": "Blocked", "at": "2026-11-21T09:00:00Z"},
                    {"partner": "ClipSite", "outcome": "PendingReview", "at": "2026-11-21T10:00Z"},
                ],
            },
            {"type": "md5", "prefix": "d55bddf8", "outcomes": []},
            # A photo's hashes (robust matching): shown once, with every outcome once.
            {
                "type": "pdq",
                "prefix": "0a0b0c0d",
                "photo": 2,
                "outcomes": [{"partner": "PhotoShare", "outcome": "Blocked", "at": "2026-11-21"}],
            },
            {
                "type": "pdq_square",
                "prefix": "1a1b1c1d",
                "photo": 2,
                "outcomes": [
                    {"partner": "PhotoShare", "outcome": "Blocked", "at": "2026-11-21"},
                    {"partner": "ClipSite", "outcome": "NotBlocked", "at": "2026-11-22"},
                ],
            },
            {"type": "pdq_strip", "prefix": "2a2b2c2d", "photo": 2, "outcomes": []},
        ],
    }
    answers = [
        (429, {"detail": "locked", "code": "case_locked"}, {"Retry-After": "900"}),
        (200, status, {}),
    ]

    def handle(route: Any) -> None:
        code, body, headers = answers.pop(0)
        route.fulfill(
            status=code, body=json.dumps(body), headers=headers, content_type="application/json"
        )

    page.route("**/api/v1/cases/status", handle)
    for lang in LANGUAGES:
        text = catalogue(lang)
        answers[:] = [
            (429, {"detail": "locked", "code": "case_locked"}, {"Retry-After": "900"}),
            (200, status, {}),
        ]
        open_app(page, server, "/check", lang=lang)
        page.fill("[data-testid=check-case]", "ABCD-EFGH-JKLM")
        page.fill("[data-testid=check-pin]", "12345678")
        page.click("[data-testid=check-submit]")
        page.wait_for_selector("#check-error:visible")
        expected = text["errors.tooManyTriesMinutes.other"].replace("{count}", "15")
        assert page.inner_text("#check-error") == expected
        page.click("[data-testid=check-submit]")
        page.wait_for_selector("[data-testid=case-status]:visible")
        assert page.locator("#check-error").is_hidden()
        rows = page.locator("#status-hashes li li").all_inner_texts()
        line = text["outcome.line"].replace("{partner}", "{}").replace("{outcome}", "{}")
        assert rows[0].startswith(line.format("PhotoShare", text["outcome.Blocked"]))
        assert rows[1].startswith(line.format("ClipSite", text["outcome.PendingReview"]))
        assert page.locator("#status-none").is_hidden()
        titles = page.locator("#status-hashes > li > .hash-title").all_inner_texts()
        assert titles == [
            text["hashType.pdq"].replace("{prefix}", "f8f8f0ce"),
            text["hashType.md5"].replace("{prefix}", "d55bddf8"),
            text["hashType.pdq"].replace("{prefix}", "0a0b0c0d"),
        ]
        assert len(rows) == 4
        assert rows[3].startswith(line.format("ClipSite", text["outcome.NotBlocked"]))


def test_participating_companies(page: Any, server: ServerProcess, axe_source: str) -> None:
    assert server.database_url is not None
    result = run_openncii(
        "partners", "add", "Example Photos", "--json", "--database-url", server.database_url
    )
    assert result.returncode == 0, result.stderr
    open_app(page, server, "/partners", lang="nl")
    page.wait_for_selector("[data-testid=partners-list] li")
    assert "Example Photos" in page.locator("[data-testid=partners-list] li").all_inner_texts()
    check_page(page, axe_source, "7-partners-nl")


def test_leaving_before_noting_the_pin_asks_first(
    testdata: Path, page: Any, server: ServerProcess
) -> None:
    open_app(page, server, "/eligibility")
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}]")
    page.click("[data-testid=eligibility-continue]")
    page.set_input_files("[data-testid=file-input]", str(testdata / PHOTO))
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible")
    case_number = page.inner_text("[data-testid=case-number]")
    pin = page.inner_text("[data-testid=pin]")
    # Copy buttons put the exact values on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    for button, value, said in [
        ("#copy-case", case_number, "done.copiedCase"),
        ("#copy-pin", pin, "done.copiedPin"),
    ]:
        page.click(button)
        page.wait_for_function(
            "(t) => document.getElementById('copy-status').textContent === t",
            arg=catalogue("en")[said],
        )
        assert page.evaluate("navigator.clipboard.readText()") == value
    messages: list[str] = []

    def dismiss(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("[data-testid=nav-check]")
    page.wait_for_function("() => location.hash === '#/done'")
    assert messages == [catalogue("en")["done.leaveConfirm"]]
    assert page.inner_text("[data-testid=case-number]") == case_number
    page.locator("#view-done").wait_for(state="visible", timeout=30_000)
    # Once noted, leaving is free, and the case number is gone from the page.
    page.check("[data-testid=noted]")
    page.click("[data-testid=nav-check]")
    page.wait_for_selector("#view-check:visible")


def _to_select_page(page: Any, server: ServerProcess) -> None:
    open_app(page, server, "/eligibility")
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}]")
    page.click("[data-testid=eligibility-continue]")
    page.wait_for_selector("#view-select:visible")


DROP_JS = """async ({names, b64s}) => {
    const transfer = new DataTransfer();
    names.forEach((name, i) => {
        const bytes = Uint8Array.from(atob(b64s[i]), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bytes], name, {type: 'image/jpeg'}));
    });
    const zone = document.getElementById('dropzone');
    zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: transfer, bubbles: true,
                                                  cancelable: true}));
    const over = zone.classList.contains('over');
    zone.dispatchEvent(new DragEvent('drop', {dataTransfer: transfer, bubbles: true,
                                              cancelable: true}));
    return over;
}"""


def test_drop_files_remove_one_and_a_refused_fingerprint(
    testdata: Path, page: Any, server: ServerProcess
) -> None:
    import base64

    names = ["skimage_coffee.jpg", "skimage_chelsea.jpg", "skimage_rocket.jpg"]
    b64s = [base64.b64encode((testdata / "photos" / n).read_bytes()).decode() for n in names]
    _to_select_page(page, server)
    assert page.evaluate(DROP_JS, {"names": names, "b64s": b64s}) is True
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    assert page.locator("#items li").count() == 3
    # Remove the second file: it is gone from the list and from what is sent.
    page.click("#items li >> nth=1 >> button")
    assert page.locator("#items li .item-name").all_inner_texts() == [names[0], names[2]]
    text = catalogue("en")
    assert page.inner_text("[data-testid=review-summary]") == text["review.summary"].replace(
        "{items}", text["review.photos.other"].replace("{count}", "2")
    )
    # The service refuses the second fingerprint sent (as it does for a deny-listed image):
    # that file is left out with a word of explanation, and the rest can be sent at once.
    refused = {"detail": "refused", "code": "hash_rejected", "index": 1}
    bodies: list[Any] = []

    def handle(route: Any) -> None:
        bodies.append(json.loads(route.request.post_data))
        if len(bodies) == 1:
            route.fulfill(status=422, body=json.dumps(refused), content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/v1/cases", handle)
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("#submit-error:visible")
    assert page.inner_text("#submit-error") == text["errors.hashRefused"].replace(
        "{name}", names[2]
    )
    assert page.locator("#items li >> nth=1").get_attribute("data-status") == "refused"
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible")
    assert len(bodies[0]["hashes"]) == 2
    assert bodies[1]["hashes"] == bodies[0]["hashes"][:1]


def test_the_same_file_chosen_twice_is_listed_and_sent_once(
    testdata: Path, page: Any, server: ServerProcess, recorder: Recorder
) -> None:
    photo = str(testdata / "photos" / "skimage_coffee.jpg")
    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", [photo, photo])
    page.set_input_files("[data-testid=file-input]", photo)
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    assert page.locator("#items li").count() == 1
    text = catalogue("en")
    one_photo = text["review.photos.one"].replace("{count}", "1")
    assert page.inner_text("[data-testid=review-summary]") == text["review.summary"].replace(
        "{items}", one_photo
    )
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible")
    (post,) = [r for r in recorder.api_calls("/api/v1/cases") if r.method == "POST"]
    sent = json.loads(post.body or b"")["hashes"]
    assert [h["type"] for h in sent] == ["photo"]
    assert one_photo in page.inner_text("#done-lead")


def test_the_per_case_limit_comes_from_the_server(
    testdata: Path, page: Any, server: ServerProcess, recorder: Recorder
) -> None:
    """The page reads the limit from GET /api/v1/limits: with a limit of 1, two photos are not
    sent, and the person is told the server's number."""
    import base64

    limits = {"max_files_per_case": 1, "max_hashes_per_case": 1000, "max_body_bytes": 262144}
    page.route(
        "**/api/v1/limits",
        lambda route: route.fulfill(
            status=200, body=json.dumps(limits), content_type="application/json"
        ),
    )
    names = ["skimage_coffee.jpg", "skimage_chelsea.jpg"]
    b64s = [base64.b64encode((testdata / "photos" / n).read_bytes()).decode() for n in names]
    _to_select_page(page, server)
    assert page.evaluate(DROP_JS, {"names": names, "b64s": b64s}) is True
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("#submit-error:visible")
    assert page.inner_text("#submit-error") == catalogue("en")["errors.tooManyFiles"].replace(
        "{max}", "1"
    )
    assert not [r for r in recorder.api_calls("/api/v1/cases") if r.method == "POST"]
    assert recorder.api_calls("/api/v1/limits")


def test_a_partners_real_feedback_in_plain_words(
    testdata: Path, page: Any, server: ServerProcess, recorder: Recorder
) -> None:
    """End to end: a case from the browser, a partner reports "Blocked" for its photo through
    the partner API, and the person reads it in the status page, in Dutch."""
    import urllib.request

    assert server.database_url is not None
    added = run_openncii(
        "partners", "add", "Beeldbank", "--json", "--database-url", server.database_url
    )
    assert added.returncode == 0, added.stderr
    key = json.loads(added.stdout)["key"]

    _to_select_page(page, server)
    page.set_input_files("[data-testid=file-input]", str(testdata / "photos/skimage_coffee.jpg"))
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=30_000)
    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible")
    case_number = page.inner_text("[data-testid=case-number]")
    pin = page.inner_text("[data-testid=pin]")
    sent = json.loads(recorder.api_calls("/api/v1/cases")[0].body or b"")
    pdq = sent["hashes"][0]["variants"][1]["pdq"]  # a square: a platform's match on a region

    feedback = {"count": 1, "hashFeedbacks": [{"hashValue": pdq, "feedbackValue": "Blocked"}]}
    request = urllib.request.Request(
        f"{server.base_url}/v1/SubmitFeedback",
        data=json.dumps(feedback).encode(),
        headers={"Content-Type": "application/json", "Ocp-Apim-Subscription-Key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["count"] == 1

    page.check("[data-testid=noted]")
    page.select_option("[data-testid=language-select]", "nl")
    page.click("[data-testid=nav-check]")
    page.fill("[data-testid=check-case]", case_number)
    page.fill("[data-testid=check-pin]", pin)
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("[data-testid=case-status]:visible")
    text = catalogue("nl")
    rows = page.locator("#status-hashes li li").all_inner_texts()
    line = text["outcome.line"].replace("{partner}", "{}").replace("{outcome}", "{}")
    assert len(rows) == 1
    assert rows[0].startswith(line.format("Beeldbank", text["outcome.Blocked"]))
    assert page.locator("#status-none").is_hidden()

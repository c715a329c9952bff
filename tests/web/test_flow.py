"""The whole flow in a real browser against ``openncii serve``, in every language: welcome,
eligibility, files (real photos and a video), review, case number and PIN, check, withdraw.

Every page is checked with axe-core and photographed at phone and desktop width; every request
the page makes is recorded and checked: only JSON to our own origin, nothing over 64 KB, no
image or video bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from openncii.testing import ServerProcess

from .harness import (
    DESKTOP,
    LANGUAGES,
    PHONE,
    REPO_ROOT,
    Recorder,
    open_app,
    run_axe,
    screenshot,
)

pytestmark = pytest.mark.browser

CATALOGUES = REPO_ROOT / "src" / "openncii" / "web" / "static" / "i18n"
QUESTIONS = ["in_image", "adult_when_taken", "adult_now", "has_content", "intimate"]
PHOTOS = ["photos/skimage_astronaut.jpg", "photos/sklearn_china.jpg", "photos/mate_ladybird.jpg"]
LOW_QUALITY = "threatexchange/pdq/data/reg-test-input/labelme-subset/q0003.jpg"
VIDEO = "videos/bigbuckbunny.mp4"
MAX_BODY = 64 * 1024


def catalogue(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((CATALOGUES / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def check_page(page: Any, axe_source: str, name: str, *, phone: bool = True) -> None:
    """axe-core (no serious or critical violation) and screenshots at desktop and phone width."""
    violations = run_axe(page, axe_source)
    assert not violations, f"{name}: {json.dumps(violations, indent=1)}"
    screenshot(page, f"{name}-desktop")
    if phone:
        page.set_viewport_size(PHONE)
        violations = run_axe(page, axe_source)
        assert not violations, f"{name} (phone): {json.dumps(violations, indent=1)}"
        # Nothing may be wider than the phone's screen.
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= PHONE["width"], f"{name}: page is {overflow}px wide on a phone"
        screenshot(page, f"{name}-phone")
        page.set_viewport_size(DESKTOP)


def expect_h1(page: Any, title: str) -> None:
    """The visible view's heading becomes `title`. A click on a link changes the address at
    once but the view only on the next ``hashchange`` event, so this waits (up to
    ``EXPECT_TIMEOUT_MS``)."""
    from playwright.sync_api import expect

    expect(page.locator("main h1:visible")).to_have_text(title)


def assert_requests_are_clean(
    recorder: Recorder, server: ServerProcess, files: list[bytes]
) -> None:
    """Only our origin; bodies only JSON, small, and free of any piece of the files."""
    assert recorder.requests, "no request was recorded"
    probes: list[bytes] = []
    for data in files:
        for start in (0, len(data) // 3, len(data) // 2, len(data) - 64):
            piece = data[max(0, start) : max(0, start) + 48]
            probes += [piece, base64.b64encode(piece), piece.hex().encode()]
    for request in recorder.requests:
        assert request.url.startswith(server.base_url + "/"), (
            f"request to another origin: {request.url}"
        )
        body = request.body or b""
        assert len(body) <= MAX_BODY, f"{request.method} {request.url}: {len(body)} bytes"
        if request.method != "GET":
            assert request.method == "POST", request.method
            assert "/api/v1/" in request.url, request.url
            assert request.headers.get("content-type", "").startswith("application/json")
            json.loads(body)
        else:
            assert not body
        for probe in probes:
            assert probe not in body, f"file bytes in the body of {request.url}"
        assert "cookie" not in {k.lower() for k in request.headers}


def answer_all_yes(page: Any) -> None:
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}]")
    page.click("[data-testid=eligibility-continue]")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_whole_flow(
    testdata: Path, page: Any, server: ServerProcess, recorder: Recorder, axe_source: str, lang: str
) -> None:
    text = catalogue(lang)
    photos = [testdata / p for p in PHOTOS]
    video = testdata / VIDEO
    low = testdata / LOW_QUALITY

    # 1. Welcome, in the language asked for in the URL.
    open_app(page, server, "/", lang=lang)
    assert page.evaluate("document.documentElement.lang") == lang
    expect_h1(page, text["welcome.title"])
    assert page.input_value("[data-testid=language-select]") == lang
    check_page(page, axe_source, f"1-welcome-{lang}")

    # 2. Eligibility: five questions, each with "why we ask"; all must be answered.
    page.click("[data-testid=start]")
    expect_h1(page, text["eligibility.title"])
    assert page.locator("details.why").count() == 5
    page.locator("details.why summary").first.click()
    assert page.locator("details.why p").first.inner_text() == text["eligibility.in_image.why"]
    page.click("[data-testid=eligibility-continue]")
    assert page.locator("#eligibility-error").inner_text() == text["eligibility.missing"]
    check_page(page, axe_source, f"2-eligibility-{lang}")
    answer_all_yes(page)

    # 3. Files: three photos, one too plain to share, one video. Hashing in workers.
    expect_h1(page, text["select.title"])
    check_page(page, axe_source, f"3-select-empty-{lang}", phone=lang == "en")
    page.set_input_files("[data-testid=file-input]", [*map(str, photos), str(low), str(video)])
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=60_000)
    assert page.locator("#progress").evaluate("p => p.value") == 100
    statuses = page.locator("#items li").evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses == ["done", "done", "done", "low", "done"]
    low_text = page.locator("#items li[data-status=low] .item-status").inner_text()
    assert low_text == text["item.lowQuality"]

    # 4. Review: how many items, nothing else.
    summary = page.locator("[data-testid=review-summary]").inner_text()
    assert text["review.photos.other"].replace("{count}", "3") in summary
    assert text["review.videos.one"].replace("{count}", "1") in summary
    check_page(page, axe_source, f"4-review-{lang}")
    page.click("[data-testid=submit-case]")

    # 5. Case number and PIN, once.
    page.wait_for_selector("[data-testid=case-number]:visible")
    case_number = page.inner_text("[data-testid=case-number]").strip()
    pin = page.inner_text("[data-testid=pin]").strip()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){2,}", case_number), case_number
    assert re.fullmatch(r"\d{4}(-\d{4}){3}", pin), pin
    expect_h1(page, text["done.title"])
    assert page.is_disabled("[data-testid=finish]")
    # The done page counts what the review counted: 3 photos and 1 video, not hashes.
    received = page.inner_text("#done-lead")
    assert text["review.photos.other"].replace("{count}", "3") in received
    assert text["review.videos.one"].replace("{count}", "1") in received
    check_page(page, axe_source, f"5-case-{lang}")
    with page.expect_download() as download_info:
        page.click("[data-testid=save-text]")
    saved = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert case_number in saved and pin in saved
    page.check("[data-testid=noted]")
    page.click("[data-testid=finish]")
    page.wait_for_selector("#finished", state="visible")

    # What was sent: only fingerprints, as the contract says, in the chosen language.
    posts = recorder.api_calls("/api/v1/cases")
    assert len(posts) == 1
    body = json.loads(posts[0].body or b"")
    assert set(body) == {"eligibility", "hashes", "language"}
    assert body["language"] == lang
    assert body["eligibility"] == dict.fromkeys(QUESTIONS, True)
    sent_photos = [h for h in body["hashes"] if h["type"] == "photo"]
    md5s = [h for h in body["hashes"] if h["type"] == "md5"]
    vpdqs = [h for h in body["hashes"] if h["type"] == "vpdq"]
    assert len(sent_photos) == 3 and len(md5s) == 1 and len(vpdqs) == 1
    assert len(body["hashes"]) == 5
    assert md5s[0]["value"] == hashlib.md5(video.read_bytes()).hexdigest()
    from openncii import enroll_file

    # Each photo: its robust-matching enrolment, bit for bit what the Python library computes.
    for photo, sent in zip(photos, sent_photos, strict=True):
        assert sent["variants"] == [v.to_json() for v in enroll_file(photo)], photo.name
    frames = vpdqs[0]["frames"]
    assert len(frames) >= 5
    assert all(set(f) == {"pdq", "quality", "timestamp"} for f in frames)

    # 6. Check my case: status in plain words; then withdraw, with a confirmation step.
    page.click("#finished a[href='#/check']")
    expect_h1(page, text["check.title"])
    page.fill("[data-testid=check-case]", case_number.lower())
    page.fill("[data-testid=check-pin]", "00000000" if pin != "00000000" else "11111111")
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("#check-error:visible")
    assert page.inner_text("#check-error") == text["errors.notFound"]
    check_page(page, axe_source, f"6-check-error-{lang}", phone=False)
    page.fill("[data-testid=check-pin]", pin)
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("[data-testid=case-status]:visible")
    assert page.inner_text("[data-testid=status-state]") == text["status.active"]
    assert page.locator("#status-hashes > li").count() == 5
    check_page(page, axe_source, f"6-status-{lang}")
    page.click("[data-testid=withdraw-start]")
    page.locator("#withdraw-confirm").wait_for(state="visible", timeout=30_000)
    check_page(page, axe_source, f"6-withdraw-confirm-{lang}", phone=lang == "en")
    page.click("[data-testid=withdraw-confirm]")
    page.wait_for_selector("[data-testid=withdraw-done]:visible")
    assert page.inner_text("[data-testid=status-state]") == text["status.withdrawn"]
    check_page(page, axe_source, f"6-withdrawn-{lang}")

    # Privacy: the record of every request (kept as an artifact), no cookies, nothing stored.
    record = REPO_ROOT / "artifacts" / "requests" / f"flow-{lang}.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(
        json.dumps(
            [
                {
                    "method": r.method,
                    "url": r.url,
                    "type": r.resource_type,
                    "content_type": r.headers.get("content-type"),
                    "body_bytes": len(r.body or b""),
                }
                for r in recorder.requests
            ],
            indent=1,
        )
    )
    data = [p.read_bytes() for p in photos] + [low.read_bytes(), video.read_bytes()]
    assert_requests_are_clean(recorder, server, data)
    assert page.context.cookies() == []
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    withdraws = recorder.api_calls("/api/v1/cases/withdraw")
    assert len(withdraws) == 1
    assert json.loads(withdraws[0].body or b"") == {"case_number": case_number, "pin": pin}
    assert all(pin not in r.url for r in recorder.requests)

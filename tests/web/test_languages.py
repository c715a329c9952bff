"""Every view in every language of ``i18n/languages.json``, in Chromium on a 360 px phone.

For each language one walk through the app (welcome, the questions with their error, the page
for those the service cannot take, a photo and a file left out, the case number and PIN, a
wrong PIN, the status with the withdrawal question, the withdrawn case, the companies) checks
on each view: the view's heading in that language, axe-core, nothing wider than the screen, no
text cut off in its box, and a screenshot in ``artifacts/screenshots/languages/`` (look at
them: the script, the wrapping). Per language it also checks the plural forms the browser's
``Intl.PluralRules`` asks for and that the text is drawn with a font of the language's script
(fontconfig names the fonts that cover it). A last test checks that Arabic is mirrored.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from openncii.testing import ServerProcess, skip_or_fail

from .harness import DESKTOP, PHONE, SCREENSHOTS, open_app, run_axe
from .test_flow import CATALOGUES, LOW_QUALITY, QUESTIONS, catalogue, expect_h1

pytestmark = [pytest.mark.browser, pytest.mark.slow]

LANGUAGE_LIST: list[dict[str, str]] = json.loads(
    (CATALOGUES / "languages.json").read_text(encoding="utf-8")
)["languages"]
CODES = [entry["code"] for entry in LANGUAGE_LIST]
DIRECTION = {entry["code"]: entry["dir"] for entry in LANGUAGE_LIST}
SHOTS = SCREENSHOTS / "languages"
PHOTO = "photos/skimage_coffee.jpg"

#: In the page: does any element with text draw it outside its own box (cut off by
#: ``overflow: hidden``, or spilling over its neighbours)? Answers a list of offenders.
CLIPPED_TEXT_JS = """() => {
    const out = [];
    const selector = 'h1, h2, h3, p, li, dt, dd, label, legend, summary, a, button, option';
    for (const el of document.querySelectorAll(selector)) {
        if (!el.offsetParent && getComputedStyle(el).position !== 'fixed') continue;  // hidden
        if (el.closest('.visually-hidden, .offscreen, .skip-link')) continue;
        if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0) {
            out.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className}: ` +
                     `${el.scrollWidth} > ${el.clientWidth} "${el.textContent.slice(0, 40)}"`);
        }
    }
    return out;
}"""

#: In the page: for each plural category of the page's language, up to two whole numbers of
#: 0..1000 that take it (the counts the page shows are whole numbers).
PLURAL_CATEGORIES_JS = """() => {
    const rules = new Intl.PluralRules(document.documentElement.lang);
    const seen = {};
    for (let n = 0; n <= 1000; n++) {
        const category = rules.select(n);
        seen[category] = seen[category] || [];
        if (seen[category].length < 2) seen[category].push(n);
    }
    return seen;
}"""


def _fontconfig_language(code: str) -> str:
    return "zh-cn" if code == "zh-CN" else code.split("-")[0]


@cache
def _fonts_for(code: str) -> frozenset[str]:
    """The font families fontconfig says cover the language (`fc-list :lang=xx family`)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        skip_or_fail("fc-list is missing (apt-get install fontconfig)")
    result = subprocess.run(
        [fc_list, f":lang={_fontconfig_language(code)}", "family"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    families = {name.strip() for line in result.stdout.splitlines() for name in line.split(",")}
    families.discard("")
    if not families:
        skip_or_fail(
            f"no font covers {code} (apt-get install fonts-noto-core fonts-noto-cjk; .ci/run does)"
        )
    return frozenset(families)


def _fonts_drawing(page: Any, selector: str) -> dict[str, int]:
    """The platform fonts Chromium used to draw the text of `selector`, with glyph counts."""
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    finally:
        cdp.detach()
    return {font["familyName"]: font["glyphCount"] for font in fonts}


def _check_view(page: Any, axe_source: str, code: str, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{code}-{name}.png"), full_page=True)
    violations = run_axe(page, axe_source)
    assert not violations, f"{code} {name}: {json.dumps(violations, indent=1)}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{code} {name}: the page is {width}px wide on a phone"
    clipped = page.evaluate(CLIPPED_TEXT_JS)
    assert not clipped, f"{code} {name}: text wider than its box: {clipped}"


def _check_plural_forms(page: Any, code: str, texts: dict[str, str]) -> None:
    """Every plural text has a form for each category ``Intl.PluralRules`` gives a count, and a
    form that says its number in words (no ``{count}``) stands for one number only."""
    seen: dict[str, list[int]] = page.evaluate(PLURAL_CATEGORIES_JS)
    english = catalogue("en")
    bases = {key.removesuffix(".one") for key in english if key.endswith(".one")}
    for base in bases:
        for category in seen:
            assert f"{base}.{category}" in texts, (
                f"{code}: {base}.{category} is missing (for {seen[category]})"
            )
        for key in [k for k in texts if k.startswith(f"{base}.")]:
            category = key.removeprefix(f"{base}.")
            if "{count}" not in texts[key]:
                assert len(seen.get(category, [])) == 1, (
                    f"{code}: {key} leaves out {{count}} but stands for {seen.get(category)}"
                )


@pytest.mark.parametrize("code", CODES)
def test_every_view_in_the_language(
    testdata: Path, page: Any, server: ServerProcess, axe_source: str, code: str
) -> None:
    text = catalogue(code)
    page.set_viewport_size(PHONE)
    # No transitions: axe and the screenshots see each view as it settles, not half-way.
    page.emulate_media(reduced_motion="reduce")

    open_app(page, server, "/", lang=code)
    assert page.evaluate("document.documentElement.lang") == code
    assert page.evaluate("document.documentElement.dir") == DIRECTION[code]
    assert page.evaluate("getComputedStyle(document.body).direction") == DIRECTION[code]
    assert page.input_value("[data-testid=language-select]") == code
    expect_h1(page, text["welcome.title"])
    drawn = _fonts_drawing(page, "#view-welcome h1")
    main_font = max(drawn, key=lambda family: drawn[family])
    assert main_font in _fonts_for(code), f"{code}: the heading is drawn in {drawn}"
    _check_plural_forms(page, code, text)
    _check_view(page, axe_source, code, "1-welcome")

    page.click("[data-testid=start]")
    expect_h1(page, text["eligibility.title"])
    page.click("[data-testid=eligibility-continue]")
    assert page.inner_text("#eligibility-error") == text["eligibility.missing"]
    legends = page.locator("legend").all_inner_texts()
    assert legends == [text[f"eligibility.{q}.question"] for q in QUESTIONS]
    _check_view(page, axe_source, code, "2-eligibility")

    # Under 18 then, and not intimate: both kinds of help on one page.
    for q in QUESTIONS:
        no = q in ("adult_when_taken", "intimate")
        page.check(f"[data-testid=eligibility-{q}{'-no' if no else ''}]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, text["noteligible.title"])
    page.locator("#help-minor").wait_for(state="visible", timeout=30_000)
    assert page.inner_text("#noteligible-reason") == text["noteligible.reason.intimate"]
    _check_view(page, axe_source, code, "2b-not-eligible")

    page.click("#view-not-eligible a[href='#/eligibility']")
    expect_h1(page, text["eligibility.title"])
    for q in QUESTIONS:
        page.check(f"[data-testid=eligibility-{q}]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, text["select.title"])
    page.set_input_files(
        "[data-testid=file-input]", [str(testdata / PHOTO), str(testdata / LOW_QUALITY)]
    )
    page.wait_for_selector("[data-testid=submit-case]:enabled", timeout=60_000)
    assert page.inner_text("#items li[data-status=low] .item-status") == text["item.lowQuality"]
    _check_view(page, axe_source, code, "3-select-review")

    page.click("[data-testid=submit-case]")
    page.wait_for_selector("[data-testid=case-number]:visible")
    expect_h1(page, text["done.title"])
    case_number = page.inner_text("[data-testid=case-number]").strip()
    pin = page.inner_text("[data-testid=pin]").strip()
    # Case numbers and PINs read left to right, whatever the language.
    for selector in ("[data-testid=case-number]", "[data-testid=pin]"):
        assert (
            page.evaluate(f"getComputedStyle(document.querySelector('{selector}')).direction")
            == "ltr"
        )
    _check_view(page, axe_source, code, "5-case")
    page.check("[data-testid=noted]")
    page.click("[data-testid=finish]")

    page.click("#finished a[href='#/check']")
    expect_h1(page, text["check.title"])
    page.fill("[data-testid=check-case]", case_number)
    wrong = "0000 0000 0000 0000" if pin != "0000 0000 0000 0000" else "1111 1111 1111 1111"
    page.fill("[data-testid=check-pin]", wrong)
    # The third wrong PIN of a window leaves two tries: the page warns. (The server counts
    # tries in fixed minute windows; when the tries straddle two, more are needed.)
    for _ in range(5):
        # Hide the last answer first: the page shows the next one after reading the body.
        page.evaluate("document.getElementById('check-error').hidden = true")
        with page.expect_response("**/api/v1/cases/status") as answer:
            page.click("[data-testid=check-submit]")
        page.wait_for_selector("[data-testid=check-submit]:enabled")
        page.wait_for_selector("#check-error:visible")
        if answer.value.json()["tries_left"] == 2:
            break
    else:
        raise AssertionError("five wrong PINs in a row never left two tries")
    assert page.inner_text("#check-error") == text["errors.notFound"]
    two = page.evaluate("new Intl.PluralRules(document.documentElement.lang).select(2)")
    page.wait_for_selector("[data-testid=check-tries]:visible")
    warning = text[f"check.triesLeft.{two}"].replace("{count}", "2")
    assert page.inner_text("[data-testid=check-tries]") == warning
    _check_view(page, axe_source, code, "6-check-error")

    page.fill("[data-testid=check-pin]", pin)
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("[data-testid=case-status]:visible")
    assert page.inner_text("[data-testid=status-state]") == text["status.active"]
    page.click("[data-testid=withdraw-start]")
    page.locator("#withdraw-confirm").wait_for(state="visible", timeout=30_000)
    _check_view(page, axe_source, code, "6-status-withdraw")

    page.click("[data-testid=withdraw-confirm]")
    page.wait_for_selector("[data-testid=withdraw-done]:visible")
    assert page.inner_text("[data-testid=status-state]") == text["status.withdrawn"]
    _check_view(page, axe_source, code, "6-withdrawn")

    page.click("footer a[href='#/partners']")
    expect_h1(page, text["partners.title"])
    page.wait_for_function(
        "() => document.querySelector('#partners-list li') || "
        "!document.getElementById('partners-empty').hidden"
    )
    _check_view(page, axe_source, code, "7-partners")


#: In the page: on which side of its box the first line of an element's text sits.
TEXT_SIDE_JS = """(selector) => {
    const el = document.querySelector(selector);
    const range = document.createRange();
    range.selectNodeContents(el);
    const line = range.getClientRects()[0];
    const box = el.getBoundingClientRect();
    return line.left - box.left < box.right - line.right ? 'left' : 'right';
}"""


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def test_arabic_is_mirrored(page: Any, server: ServerProcess) -> None:
    """In Arabic the page reads from the right: the brand, the first action, the question's
    answers, the side borders of messages all sit where English has them on the left."""
    assert DIRECTION["ar"] == "rtl"
    sides = {}
    for code in ("en", "ar"):
        page.set_viewport_size(DESKTOP)
        open_app(page, server, "/", lang=code)
        expect_h1(page, catalogue(code)["welcome.title"])
        brand = _box(page, "[data-testid=home-link]")
        start = _box(page, "[data-testid=start]")
        other = _box(page, "#view-welcome .actions a:not([data-testid=start])")
        h1 = page.evaluate(TEXT_SIDE_JS, "#view-welcome h1")
        page.click("[data-testid=start]")
        expect_h1(page, catalogue(code)["eligibility.title"])
        page.click("[data-testid=eligibility-continue]")
        error = page.evaluate(
            "() => { const s = getComputedStyle(document.getElementById('eligibility-error'));"
            " return {left: s.borderLeftWidth, right: s.borderRightWidth}; }"
        )
        yes = _box(page, "label[for=answer-in_image-yes]")
        no = _box(page, "label[for=answer-in_image-no]")
        proceed = _box(page, "[data-testid=eligibility-continue]")
        back = _box(page, "#view-eligibility .actions a")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{code}-desktop-eligibility.png"), full_page=True)
        sides[code] = {
            "brand on the left": brand["x"] < DESKTOP["width"] / 2,
            "first action on the left": start["x"] < other["x"],
            "heading starts on the left": h1 == "left",
            "error bar on the left": error["left"] == "5px" and error["right"] == "0px",
            "yes left of no": yes["x"] < no["x"],
            "continue left of back": proceed["x"] < back["x"],
            "direction": page.evaluate(
                "getComputedStyle(document.querySelector('main')).direction"
            ),
        }
    assert sides["en"] == {
        "brand on the left": True,
        "first action on the left": True,
        "heading starts on the left": True,
        "error bar on the left": True,
        "yes left of no": True,
        "continue left of back": True,
        "direction": "ltr",
    }
    assert sides["ar"] == {
        "brand on the left": False,
        "first action on the left": False,
        "heading starts on the left": False,
        "error bar on the left": False,
        "yes left of no": False,
        "continue left of back": False,
        "direction": "rtl",
    }

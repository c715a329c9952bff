"""Settings in Chromium: an admin sets the organisation's name, helpline contact and privacy
link and a local helpline in the console (a bad e-mail address is refused, nothing saved), and
the person's pages show them: the foot of every page, the page after a case is opened, the page
for people this service cannot help. Before that, the pages offer no contact at all.
axe-core clean; keyboard usable; screenshots at 1280 and 360 px."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from .harness import DESKTOP, PHONE, run_axe, screenshot
from .test_console import Console, check_page, cli_json, console, set_up_and_sign_in
from .test_flow import QUESTIONS, catalogue, expect_h1

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser
__all__ = ["console"]  # the fixture, shared with test_console.py

ORG = {
    "name": "Stichting Voorbeeld Hulp",
    "phone": "+31 20 123 45 67",
    "email": "help@voorbeeld.example",
    "url": "https://hulp.voorbeeld.example/contact",
    "privacy_url": "https://hulp.voorbeeld.example/privacy",
}
FIELDS = {"name": "#org-name", "phone": "#org-phone", "email": "#org-email", "url": "#org-url",
          "privacy_url": "#org-privacy"}  # fmt: skip
HELPLINE = {
    "#helpline-country": "nl",
    "#helpline-language": "en",
    "#helpline-name": "Example Support Line",
    "#helpline-url": "https://support.example/",
    "#helpline-phone": "0800 123 4567",
}


def _not_eligible(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/?lang=en#/eligibility")
    page.wait_for_selector("body[data-ready='true']")
    page.check("[data-testid=eligibility-adult_when_taken]")
    for q in QUESTIONS:
        if q != "adult_when_taken":
            page.check(f"[data-testid=eligibility-{q}{'-no' if q == 'intimate' else ''}]")
    page.click("[data-testid=eligibility-continue]")
    expect_h1(page, catalogue("en")["noteligible.title"])


def _person_sees_nothing_of_the_organisation(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/?lang=en#/finished")
    page.wait_for_selector("body[data-ready='true']")
    assert page.locator("[data-testid=org-footer]").is_hidden()
    assert page.locator("[data-testid=finished-contact]").is_hidden()
    _not_eligible(page, base_url)
    assert page.locator("[data-testid=noteligible-contact]").is_hidden()
    assert page.locator("a[href^='mailto:']").count() == 0
    # The only numbers are the shipped local helplines' (GB and NL in English).
    phones = page.locator("a[href^='tel:']").count()
    assert phones == page.locator("[data-testid=helplines] a[href^='tel:']").count() == 2


def _set_organisation(page: Page, base_url: str, axe_source: str) -> None:
    page.click("[data-nav=settings]")
    page.wait_for_selector("[data-view=settings]:not([hidden]) #org-form")
    assert page.locator("#settings-readonly").is_hidden()
    for field, selector in FIELDS.items():
        page.fill(selector, ORG[field])
    page.fill("#org-email", "help at voorbeeld")
    page.click("[data-testid=org-save]")
    error = page.locator("#console-error")
    error.wait_for()
    assert "e-mail address is not valid" in error.inner_text()
    assert page.get_attribute("#org-email", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "org-email"
    assert httpx.get(f"{base_url}/api/v1/organisation").json()["name"] is None  # nothing saved
    # Keyboard only: type the right address in the focused field, Enter submits the form.
    page.keyboard.press("Control+A")
    page.keyboard.type(ORG["email"])
    page.keyboard.press("Enter")
    page.locator("#console-notice").wait_for()
    assert page.get_attribute("#org-email", "aria-invalid") is None
    assert httpx.get(f"{base_url}/api/v1/organisation").json() == ORG
    assert "lead@example.org" in page.inner_text("#org-updated")


def _add_helpline(page: Page) -> None:
    for selector, value in HELPLINE.items():
        page.fill(selector, value)
    page.fill("#helpline-url", "http://support.example/")
    page.click("[data-testid=helpline-save]")
    page.locator("#console-error").wait_for()
    assert page.get_attribute("#helpline-url", "aria-invalid") == "true"
    page.fill("#helpline-url", HELPLINE["#helpline-url"])
    page.click("[data-testid=helpline-save]")
    row = page.locator("#helplines-table tr:has-text('Example Support Line')")
    row.wait_for()
    assert row.locator("td").nth(1).inner_text() == "NL"
    # Change it: the form fills with the entry, the new name is saved.
    row.get_by_role("button", name="Change Example Support Line").click()
    assert page.input_value("#helpline-name") == "Example Support Line"
    assert page.evaluate("document.activeElement.id") == "helpline-country"
    page.fill("#helpline-name", "Example Support")
    page.click("[data-testid=helpline-save]")
    page.wait_for_selector("#helplines-table td:text-is('Example Support')")
    assert page.locator("#helpline-cancel").is_hidden()


def _person_sees_the_organisation(
    page: Page, base_url: str, axe_source: str, case: dict[str, str]
) -> None:
    text = catalogue("en")
    page.goto(f"{base_url}/?lang=en#/finished")
    page.reload()  # the page reads the organisation when it loads
    page.wait_for_selector("body[data-ready='true']")
    footer = page.locator("[data-testid=org-footer]")
    assert footer.inner_text() == f"This service is run by {ORG['name']}. {text['org.privacy']}"
    assert footer.locator("a").get_attribute("href") == ORG["privacy_url"]
    contact = page.locator("[data-testid=finished-contact]")
    assert contact.is_visible()
    assert contact.locator("p").inner_text() == (
        f"Contact {ORG['name']}, the organisation that runs this service:"
    )
    hrefs = [a.get_attribute("href") for a in contact.locator("a").all()]
    assert hrefs == ["tel:+31201234567", f"mailto:{ORG['email']}", ORG["url"]]
    assert contact.locator("a").nth(2).inner_text() == "hulp.voorbeeld.example/contact"
    check_page_person(page, axe_source, "settings-person-finished")

    _not_eligible(page, base_url)
    contact = page.locator("[data-testid=noteligible-contact]")
    assert contact.is_visible() and ORG["phone"] in contact.inner_text()
    helplines = page.locator("[data-testid=helplines] li")
    assert "Example Support (Netherlands)" in helplines.all_inner_texts()[-1]
    check_page_person(page, axe_source, "settings-person-not-eligible")

    # In Dutch, the same facts in Dutch words (and the Dutch helplines, not the English one).
    page.select_option("[data-testid=language-select]", "nl")
    from playwright.sync_api import expect

    nl = catalogue("nl")
    expect(page.locator("[data-testid=org-footer]")).to_contain_text(
        nl["org.runBy"].replace("{name}", ORG["name"])
    )
    assert nl["org.privacy"] in page.inner_text("[data-testid=org-footer]")
    page.wait_for_selector("[data-testid=helplines] li:has-text('Helpwanted')")
    assert "Example Support" not in page.inner_text("[data-testid=helplines]")

    # Checking a case: the status card offers the same contact, in Dutch now.
    page.click("[data-testid=nav-check]")
    page.fill("[data-testid=check-case]", case["case_number"])
    page.fill("[data-testid=check-pin]", case["pin"])
    page.click("[data-testid=check-submit]")
    page.wait_for_selector("[data-testid=case-status]:visible")
    contact = page.locator("[data-testid=status-contact]")
    assert contact.is_visible() and ORG["email"] in contact.inner_text()
    assert nl["org.contact.named"].replace("{name}", ORG["name"]) in contact.inner_text()
    check_page_person(page, axe_source, "settings-person-status")


def check_page_person(page: Page, axe_source: str, name: str) -> None:
    assert run_axe(page, axe_source) == [], name
    screenshot(page, f"{name}-1280")
    page.set_viewport_size(PHONE)
    assert run_axe(page, axe_source) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"{name}-360")
    page.set_viewport_size(DESKTOP)


def test_an_admin_sets_the_organisation_and_a_helpline_and_the_person_sees_them(
    page: Page, console: Console, axe_source: str
) -> None:
    person = page.context.new_page()
    _person_sees_nothing_of_the_organisation(person, console.base_url)

    added = cli_json(console, "staff", "add", "lead@example.org", "--role", "admin")
    set_up_and_sign_in(page, console, added["setup_url"], None)
    _set_organisation(page, console.base_url, axe_source)
    _add_helpline(page)
    check_page(page, axe_source, "settings")

    from case_helpers import CASES, case_body, pdq_item, random_pdq

    case = httpx.post(f"{console.base_url}{CASES}", json=case_body(pdq_item(random_pdq()))).json()
    _person_sees_the_organisation(person, console.base_url, axe_source, case)
    assert person.context.cookies(console.base_url + "/") == []  # the person's pages: none

    # Without a name, the pages name no one: the footer keeps the privacy link, the contact
    # speaks of "the organisation that runs this service".
    page.fill("#org-name", "")
    page.click("[data-testid=org-save]")
    page.locator("#console-notice").wait_for()
    person.goto(f"{console.base_url}/?lang=en#/finished")
    person.reload()
    person.wait_for_selector("body[data-ready='true']")
    assert person.inner_text("[data-testid=org-footer]") == catalogue("en")["org.privacy"]
    assert (
        person.locator("[data-testid=finished-contact] p").inner_text()
        == (catalogue("en")["org.contact"])
    )
    assert ORG["name"] not in person.inner_text("body")

    page.click("[data-nav=audit]")
    page.wait_for_selector("#audit-table tbody tr")
    actions = page.locator("#audit-table tbody tr td:nth-child(3)").all_inner_texts()
    assert actions[:4] == [
        "Settings changed",
        "Helpline changed",
        "Helpline added",
        "Settings changed",
    ]
    assert actions.count("Settings changed") == 6
    name_change = page.locator("#audit-table tbody tr").first.inner_text()
    assert "organisation.name" in name_change and f"{ORG['name']} → (empty)" in name_change


def test_an_analyst_reads_the_settings_and_changes_nothing(
    page: Page, console: Console, axe_source: str
) -> None:
    added = cli_json(console, "staff", "add", "reader@example.org", "--role", "analyst")
    set_up_and_sign_in(page, console, added["setup_url"], None)
    page.click("[data-nav=settings]")
    page.wait_for_selector("#helplines-table tbody tr")
    assert page.locator("#settings-readonly").is_visible()
    assert page.locator("#helpline-form").is_hidden()
    assert page.locator("[data-testid=org-save]").is_hidden()
    assert page.get_attribute("#org-name", "readonly") is not None
    assert page.locator("#helplines-table button").count() == 0
    assert run_axe(page, axe_source) == []

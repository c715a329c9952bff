"""The helpline console in Chromium: set-up link, password, TOTP (computed here, RFC 6238),
sign-in, staff and audit views; axe-core clean; screenshots at 1280 and 360 px.

The server runs in this process (fixture ``clocked_server``) so that its clock is the test's
:class:`~openncii.testing.FakeClock`: the authenticator codes the test computes are the
server's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from openncii.cli import app as cli
from openncii.db import make_engine
from openncii.staff.totp import time_step, totp_code

from .harness import DESKTOP, PHONE, ClockedServer, run_axe, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PASSWORD = "plum orchard lantern 42"


#: The console's server: the app in this process on the test's clock (fixture ``clocked_server``).
Console = ClockedServer


@pytest.fixture
def console(clocked_server: ClockedServer) -> ClockedServer:
    return clocked_server


def cli_json(console: Console, *args: str) -> Any:
    result = CliRunner().invoke(
        cli,
        [*args, "--json", "--database-url", console.database_url],
        env={"OPENNCII_PUBLIC_URL": console.base_url},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fresh_code(console: Console, secret: str) -> str:
    """The authenticator's code one step later (a code is accepted once)."""
    console.clock.advance(seconds=30)
    return totp_code(secret, time_step(console.clock()))


def check_page(page: Page, axe_source: str, name: str) -> None:
    assert run_axe(page, axe_source) == [], name
    screenshot(page, f"console-{name}-1280")
    page.set_viewport_size(PHONE)
    assert run_axe(page, axe_source) == [], name
    screenshot(page, f"console-{name}-360")
    page.set_viewport_size(DESKTOP)


def set_up_and_sign_in(page: Page, console: Console, url: str, axe_source: str | None) -> str:
    page.goto(url)
    page.wait_for_selector("#setup-secret:not(:empty)")
    secret = page.inner_text("#setup-secret").replace(" ", "")
    assert page.locator("#setup-qr svg").count() == 1
    if axe_source:
        check_page(page, axe_source, "setup")
    page.fill("#setup-password", PASSWORD)
    page.fill("#setup-password2", PASSWORD)
    page.fill("#setup-code", totp_code(secret, time_step(console.clock())))
    page.click("[data-testid=setup-submit]")
    page.wait_for_selector("[data-view=signin]:not([hidden])")
    assert "#setup=" not in page.url
    if axe_source:
        check_page(page, axe_source, "signin")
    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", fresh_code(console, secret))
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-view=overview]:not([hidden])")
    return secret


def test_set_up_sign_in_staff_and_audit(page: Page, console: Console, axe_source: str) -> None:
    import httpx

    from case_helpers import CASES, case_body, md5_item, pdq_item, random_md5, random_pdq

    with httpx.Client(base_url=console.base_url) as http:
        for i in range(6):
            hashes = [pdq_item(random_pdq())] + ([md5_item(random_md5())] if i % 2 else [])
            assert http.post(CASES, json=case_body(*hashes)).status_code == 201
    added = cli_json(console, "staff", "add", "lead@example.org", "--role", "admin")
    assert added["setup_url"].startswith(f"{console.base_url}/admin/#setup=")
    set_up_and_sign_in(page, console, added["setup_url"], axe_source)
    page.wait_for_selector("[data-testid=figure-opened]")
    assert page.inner_text("[data-testid=figure-opened]") == "6"
    assert page.locator(".chart svg rect").count() >= 1
    assert page.inner_text("#who").startswith("lead@example.org")
    cookies = page.context.cookies()
    assert [(c["name"], c["path"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        ("openncii_console", "/admin", True, "Strict")
    ]
    check_page(page, axe_source, "overview")

    page.click("[data-nav=staff]")
    page.fill("#staff-email", "analyst@example.org")
    page.click("[data-testid=staff-add]")
    link = page.locator("[data-testid=staff-link]")
    link.wait_for()
    assert "#setup=" in link.inner_text()
    page.wait_for_selector("#staff-table td:has-text('analyst@example.org')")
    check_page(page, axe_source, "staff")

    page.click("[data-nav=audit]")
    page.wait_for_selector("#audit-table tbody tr")
    actions = page.locator("#audit-table tbody tr td:nth-child(3)").all_inner_texts()
    assert actions[:4] == [
        "Staff account added",
        "Signed in",
        "Account set up",
        "Staff account added",
    ]
    check_page(page, axe_source, "audit")

    page.click("[data-testid=sign-out]")
    page.wait_for_selector("[data-view=signin]:not([hidden])")
    assert page.context.cookies() == []


def pytx_client(base_url: str, key: str) -> Any:
    """python-threatexchange's StopNCII client, as an HMA operator configures it."""
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIIEndpoint

    return StopNCIIAPI(
        subscription_key=key,
        fetch_function_key=key,
        additional_function_keys={StopNCIIEndpoint.SubmitFeedback: key},
        base_url_override=f"{base_url}/v1",
    )


def test_partners_add_and_rotate_with_a_grace_period(
    page: Page, console: Console, axe_source: str
) -> None:
    import httpx
    import requests

    from case_helpers import CASES, case_body, pdq_item, random_pdq

    added = cli_json(console, "staff", "add", "lead@example.org", "--role", "admin")
    secret = set_up_and_sign_in(page, console, added["setup_url"], None)
    with httpx.Client(base_url=console.base_url) as http:
        assert http.post(CASES, json=case_body(pdq_item(random_pdq()))).status_code == 201

    page.click("[data-nav=partners]")
    page.fill("#partner-name", "Acme Social")
    page.click("[data-testid=partner-add]")
    page.wait_for_selector("#partner-key:not([hidden])")
    old_key = page.inner_text("[data-testid=partner-key]")
    assert old_key.startswith("onp_")
    page.wait_for_selector("tr[data-partner='Acme Social']")
    assert len(pytx_client(console.base_url, old_key).fetch_hashes().hashRecords) == 1

    page.once("dialog", lambda dialog: dialog.accept("2"))
    page.click("tr[data-partner='Acme Social'] button:has-text('New key')")
    page.wait_for_function(
        "key => document.querySelector('[data-testid=partner-key]').textContent !== key",
        arg=old_key,
    )
    new_key = page.inner_text("[data-testid=partner-key]")
    assert "The old key works until" in page.inner_text("#partner-key-old")
    check_page(page, axe_source, "partners")

    assert len(pytx_client(console.base_url, new_key).fetch_hashes().hashRecords) == 1
    console.clock.advance(days=1, hours=23)
    assert len(pytx_client(console.base_url, old_key).fetch_hashes().hashRecords) == 1
    console.clock.advance(hours=1)
    with pytest.raises(requests.HTTPError) as refused:
        pytx_client(console.base_url, old_key).fetch_hashes()
    assert refused.value.response.status_code == 401
    assert len(pytx_client(console.base_url, new_key).fetch_hashes().hashRecords) == 1

    # The session idled out meanwhile: sign in again; the table counts the refused fetch.
    page.reload()
    page.wait_for_selector("[data-view=signin]:not([hidden])")
    page.fill("#signin-email", "lead@example.org")
    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", fresh_code(console, secret))
    page.click("[data-testid=signin-submit]")
    page.wait_for_selector("[data-view=overview]:not([hidden])")
    page.click("[data-nav=partners]")
    row = page.locator("tr[data-partner='Acme Social']")
    row.wait_for()
    assert row.locator("td.num").nth(1).inner_text() == "1"  # keys refused (24 h)


def test_review_disable_reaches_partners_and_the_person(
    page: Page, console: Console, axe_source: str, tmp_path: Path
) -> None:
    """Two partners report a photo's hash NotBlocked; a reviewer finds it in the queue, shows
    it whole, disables it with a reason and deny-lists it: the real python-threatexchange client
    and `openncii partner sync` see it as Deleted, the person's status page (in Dutch) says the
    helpline disabled it, and the audit log shows every step."""
    import httpx
    from threatexchange.exchanges.clients.stopncii.api import (
        StopNCIICaseStatus,
        StopNCIICSPFeedbackValue,
        StopNCIISignalType,
    )

    from case_helpers import CASES, case_body, pdq_item, photo_item
    from openncii.partner import PartnerStore

    photo = photo_item(("full", "square", "strip"))
    full = photo["variants"][0]["pdq"]
    keys = [cli_json(console, "partners", "add", name)["key"] for name in ("Acme", "Beta")]
    with httpx.Client(base_url=console.base_url) as http:
        created = http.post(CASES, json=case_body(photo, pdq_item(), language="nl")).json()
    first = pytx_client(console.base_url, keys[0]).fetch_hashes()
    assert {r.hashStatus for r in first.hashRecords} == {StopNCIICaseStatus.Active}
    for key in keys:
        pytx_client(console.base_url, key).submit_feedback(
            StopNCIISignalType.ImagePDQ, full, StopNCIICSPFeedbackValue.NotBlocked, {"cartoon"}
        )
    store = tmp_path / "partner.sqlite3"
    sync = ["partner", "sync", "--server", console.base_url, "--store", str(store), "-q"]
    synced = CliRunner().invoke(cli, sync, env={"OPENNCII_PARTNER_KEY": keys[0]})
    assert synced.exit_code == 0, synced.output
    with PartnerStore.open(store) as local:
        assert full in {row.key for row in local.active("pdq")}

    added = cli_json(console, "staff", "add", "lead@example.org", "--role", "admin")
    set_up_and_sign_in(page, console, added["setup_url"], None)
    page.click("[data-nav=review]")
    row = page.locator(f"#review-table tr[data-hash='{full[:8]}']")
    row.wait_for()
    assert row.locator("[data-reason=not_blocked]").inner_text() == (
        "2 partners reviewed what it matched and did not block it (NotBlocked)"
    )
    assert full not in page.content()
    check_page(page, axe_source, "review")
    row.locator("[data-testid=review-open]").click()
    page.wait_for_selector(f"#review-table code:has-text('{full}')")
    # Keyboard: the disable button, then the form (the reason field has the focus).
    row.locator("[data-testid=review-disable]").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#review-disable:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "review-reason"
    page.keyboard.type("A cartoon, not an intimate image (two partners checked)")
    page.check("#review-deny")
    check_page(page, axe_source, "review-disable")
    page.click("[data-testid=review-disable-submit]")
    page.wait_for_selector("#console-notice:not([hidden])")
    assert "3 hashes of the photo" in page.inner_text("#console-notice")
    page.wait_for_selector(f"#review-disabled-table tr[data-hash='{full[:8]}']")
    assert page.locator("#review-table tbody tr").count() == 0
    assert page.locator(f"#denylist-table tr[data-hash='{full[:8]}']").count() == 1
    check_page(page, axe_source, "review-disabled")

    # Every partner: the real client sees Deleted; `openncii partner sync` removes it.
    (record,) = (
        pytx_client(console.base_url, keys[1])
        .fetch_hashes(start_timestamp=first.nextSetTimestamp)
        .hashRecords
    )
    assert (record.hashValue, record.hashStatus) == (full, StopNCIICaseStatus.Deleted)
    synced = CliRunner().invoke(cli, sync, env={"OPENNCII_PARTNER_KEY": keys[0]})
    assert synced.exit_code == 0, synced.output
    with PartnerStore.open(store) as local:
        assert full not in {row.key for row in local.active("pdq")}

    # The person, in Dutch: the photo's fingerprint is disabled, and whom to ask (the
    # helpline's contact as set in the console's settings).
    from openncii.organisation.service import update_organisation

    engine = make_engine(console.database_url)
    with Session(engine) as session:
        org = {"name": "Hulplijn Voorbeeld", "phone": "+31 20 123 45 67"}
        update_organisation(session, org, console.clock(), actor=None, network="shell")
    engine.dispose()
    person = page.context.new_page()
    person.set_viewport_size(DESKTOP)
    person.goto(f"{console.base_url}/#/check")
    person.select_option("[data-testid=language-select]", "nl")
    person.fill("[data-testid=check-case]", created["case_number"])
    person.fill("[data-testid=check-pin]", created["pin"])
    person.click("[data-testid=check-submit]")
    person.wait_for_selector("[data-testid=status-disabled]:visible")
    nl = json.loads(
        (Path(__file__).parents[2] / "src/openncii/web/static/i18n/nl.json").read_text("utf-8")
    )
    assert person.inner_text("[data-testid=status-disabled]") == nl["status.disabled.explain"]
    notes = person.locator("[data-testid=hash-disabled]").all_inner_texts()
    assert notes == [nl["status.disabled.hash"]]  # the photo, not the other fingerprint
    assert person.locator("#status-hashes > li").count() == 2
    contact = person.inner_text("[data-testid=status-contact]")
    assert "Hulplijn Voorbeeld" in contact and "+31 20 123 45 67" in contact
    check_page(person, axe_source, "person-status-disabled")
    person.close()

    page.click("[data-nav=audit]")
    page.wait_for_selector("#audit-table tbody tr")
    rows = page.locator("#audit-table tbody tr")
    actions = rows.locator("td:nth-child(3)").all_inner_texts()
    targets = rows.locator("td:nth-child(4)").all_inner_texts()
    # Newest first: the two settings written from the shell, then the review's three steps.
    assert actions[:5] == [
        "Settings changed",
        "Settings changed",
        "Hash deny-listed",
        "Hash disabled",
        "Hash opened",
    ]
    assert targets[2:5] == [full[:8]] * 3
    assert full not in page.inner_text("#audit-table")

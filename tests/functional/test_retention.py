"""In the browser: the demo's expired pilot is deleted by the retention task and Kent's DPO
finds, reads and downloads its certificate; Maidstone's admin confirms a copy is deleted."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from playwright.sync_api import Page, expect

from accord.demo.loader import load_demo
from accord.vault import retention

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
PILOT = "Covid tests by LSOA, weekly (pilot)"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def test_the_retention_task_deletes_the_pilot_and_kent_sees_the_certificate(
    page: Page, transactional_db
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    report = retention.run()
    assert [item.name for item in report.deleted] == [PILOT]

    dpo = "dpo@kent.demo.accord.test"
    sign_in(page, dpo, DEMO_PASSWORD, _key(summary, dpo))
    page.get_by_role("link", name="See deletion certificates for your organisation's data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deletion certificates")
    assert_accessible(page)
    page.get_by_role("link", name=PILOT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(PILOT)
    expect(page.locator(".govuk-inset-text")).to_contain_text("cannot be recovered")
    expect(page.locator(".govuk-summary-list")).to_contain_text("counted from receipt on")
    assert_accessible(page)
    with page.expect_download() as waiting:
        page.get_by_role("link", name="Download the certificate (JSON)").click()
    document = json.loads(Path(waiting.value.path()).read_text(encoding="utf-8"))
    assert document["audit_event"]["action"] == "vault.object.shredded"
    assert document["audit_event"]["details"]["name"] == PILOT

    page.goto("/organisation/notices/")
    expect(page.get_by_role("link", name=f"Data deleted: {PILOT}")).to_be_visible()
    assert_accessible(page)


def test_maidstone_confirms_its_copy_is_deleted(page: Page, transactional_db) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    admin = "admin@maidstone.demo.accord.test"
    sign_in(page, admin, DEMO_PASSWORD, _key(summary, admin))
    page.goto("/organisation/copies/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Copies held outside Accord")
    assert_accessible(page)
    page.get_by_role("link", name="Confirm deleted").click()
    page.get_by_role("button", name="Confirm the copies are deleted").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say how the copies were deleted")
    assert_accessible(page)
    page.get_by_label("How were the copies deleted?").fill("Deleted from the shared drive")
    page.get_by_label("I confirm that every copy").check()
    page.get_by_role("button", name="Confirm the copies are deleted").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Copies held outside Accord")
    expect(page.locator("table").first).to_contain_text("Deleted")

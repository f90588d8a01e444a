"""In the browser, the whole of issue 5's story: a combined authority's analyst asks for care home
status data, the county's DPO approves, an agreement is drafted from the framework's template, a
blocker is shown and fixed, both parties sign, it comes into force and appears on the public
register, with every step in the audit chain."""

from __future__ import annotations

import base64
import datetime as dt
import re

from playwright.sync_api import Page, expect

from accord.agreements.models import Agreement
from accord.audit.models import AuditEvent
from accord.audit.verification import verify_chain
from accord.demo.loader import load_demo

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
ANALYST = "analyst@gmca.demo.accord.test"
GMCA_DPO = "dpo@gmca.demo.accord.test"
KENT_DPO = "dpo@kent.demo.accord.test"
TITLE = "Care home status for the Greater Manchester dashboard"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _sign_out(page: Page) -> None:
    page.locator("#sign-out").click()


def test_from_a_data_request_to_an_agreement_on_the_public_register(
    page: Page, transactional_db
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    today = dt.date.today()

    # The combined authority's analyst asks Kent for care home status data.
    sign_in(page, ANALYST, DEMO_PASSWORD, _key(summary, ANALYST))
    page.get_by_role("link", name="Data requests").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data requests")
    page.get_by_role("link", name="Ask for data").click()
    assert_accessible(page)
    page.get_by_label("Give your request a short title").fill(TITLE)
    page.get_by_label("What question would the data answer?").fill(
        "Which care homes need help today: free beds, outbreaks, PPE running short?"
    )
    page.get_by_label("Why do you need it?").fill(
        "To send infection control and staffing support to the homes that need it first, "
        "under our public health and social care functions."
    )
    page.get_by_label("Care home daily status").check()
    page.get_by_label("Kent County Council").check()
    page.get_by_label("How often do you need it?").select_option("daily")
    page.get_by_role("button", name="Continue").click()

    # Before sending, what may already answer the question.
    expect(page.get_by_role("heading", level=1)).to_have_text("Before you send your request")
    expect(page.locator("#suggestions")).to_contain_text("Care home daily status")
    assert_accessible(page)
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator("#request-status")).to_have_text("Open")
    assert_accessible(page)
    _sign_out(page)

    # Kent's DPO reads it, asks a question in the discussion, and approves.
    sign_in(page, KENT_DPO, DEMO_PASSWORD, _key(summary, KENT_DPO))
    page.get_by_role("link", name="Data requests").first.click()
    page.get_by_role("link", name=TITLE).click()
    page.get_by_label("Add a comment").fill("We will share every column but the home's UPRN.")
    page.get_by_role("button", name="Post comment").click()
    expect(page.locator(".comment")).to_contain_text("every column but")
    assert_accessible(page)
    page.get_by_label("Under which framework?").select_option(
        label="Public Service Data Sharing Accord (demo)"
    )
    page.get_by_label("One-way disclosure").check()
    page.get_by_role("button", name="Approve and draft the agreement").click()

    # The agreement, drafted from the framework's template, pre-filled from the request.
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("#status")).to_have_text("Draft")
    assert_accessible(page)
    agreement = Agreement.objects.get(title=TITLE)
    assert agreement.framework is not None
    _sign_out(page)

    # The analyst works through the questions and sets a review date too far away: a blocker.
    sign_in(page, ANALYST, DEMO_PASSWORD, _key(summary, ANALYST), steps_ahead=1)
    page.goto(f"/agreements/{agreement.pk}/")
    page.get_by_role("link", name="Dates and review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dates and review")
    assert_accessible(page)
    too_late = today.replace(year=today.year + 4)
    page.get_by_label("When will the parties review it?").fill(
        f"{too_late.day}/{too_late.month}/{too_late.year}"
    )
    page.get_by_role("button", name="Save and continue").click()
    page.goto(f"/agreements/{agreement.pk}/")
    blocker = page.locator("#findings .finding-blocker")
    expect(blocker).to_contain_text("more than 36 months after the start date")
    expect(page.locator("#step-term-status")).to_have_text("1 blocker")
    page.get_by_role("button", name="Send for signature").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "cannot be sent for signature"
    )
    expect(page.locator("#status")).to_have_text("Draft")

    # ... and fixes it where the finding points.
    page.get_by_role("link", name=re.compile("Fix this")).first.click()
    expect(page.locator("#blockers")).to_contain_text("more than 36 months")
    next_year = today.replace(year=today.year + 1)
    page.get_by_label("When will the parties review it?").fill(
        f"{next_year.day}/{next_year.month}/{next_year.year}"
    )
    page.get_by_role("button", name="Save and continue").click()
    page.goto(f"/agreements/{agreement.pk}/")
    expect(page.locator("#findings .finding-blocker")).to_have_count(0)
    expect(page.locator("#step-term-status")).to_have_text("No blockers")
    page.get_by_role("button", name="Send for signature").click()
    expect(page.locator("#status")).to_have_text("In review")
    assert_accessible(page)
    _sign_out(page)

    # Both parties sign; the county's DPO then brings it into force.
    sign_in(page, GMCA_DPO, DEMO_PASSWORD, _key(summary, GMCA_DPO))
    page.goto(f"/agreements/{agreement.pk}/")
    page.get_by_label("Data protection officer").check()
    page.get_by_role("button", name="Sign the agreement").click()
    expect(page.locator("#signatures")).to_contain_text("Greater Manchester Combined Authority")
    expect(page.locator("#status")).to_have_text("In review")
    _sign_out(page)

    sign_in(page, KENT_DPO, DEMO_PASSWORD, _key(summary, KENT_DPO), steps_ahead=1)
    page.goto(f"/agreements/{agreement.pk}/")
    page.get_by_role("button", name="Sign the agreement").click()
    expect(page.locator("#status")).to_have_text("Approved")
    page.get_by_role("button", name="Make it active").click()
    expect(page.locator("#status")).to_have_text("Active")
    expect(page.locator("#history")).to_contain_text("Agreement in force")
    assert_accessible(page)
    _sign_out(page)

    # On the public register, with no sign-in.
    page.goto("/register/")
    card = page.locator(f"#agreement-{agreement.pk}")
    expect(card).to_contain_text(TITLE)
    expect(card).to_contain_text("Kent County Council")
    expect(card).to_contain_text("Greater Manchester Combined Authority")
    expect(card).to_contain_text("Care home daily status")

    # Every step is in the audit chain, and the chain verifies.
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    for step in (
        "data_request.posted",
        "data_request.commented",
        "data_request.approved",
        "agreement.drafted",
        "agreement.draft_saved",
        "agreement.in_review",
        "agreement.signed",
        "agreement.approved",
        "agreement.active",
    ):
        assert step in actions, step
    refused = AuditEvent.objects.filter(action="agreement.in_review", outcome="refused")
    assert refused.exists()  # the attempt with the blocker is in the chain too
    assert verify_chain().ok

"""In the browser, issue 10's breach story on the demo.

Maidstone's analyst takes an extract of Kent's housing benefit collection. Kent's DPO then
reports a suspected breach against the housing benefit agreement from the agreement's page,
sees the clocks (partners and ICO, with time left), and clicks "Suspend the agreement now".
Maidstone's analyst's next download of that extract is refused, with the reason. Every page
passes axe.
"""

from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone
from playwright.sync_api import Page, expect

from accord.access.models import Extract
from accord.agreements.models import Agreement
from accord.breaches.models import Breach
from accord.demo.housing_benefit import NAME as HB_NAME
from accord.demo.housing_benefit import PURPOSE as HB_PURPOSE
from accord.demo.housing_benefit import SHARING as HB_SHARING
from accord.demo.loader import load_demo

from .conftest import assert_accessible
from .test_governed_access import (
    _SIGNED_IN,
    DEMO_PASSWORD,
    KENT_DPO,
    MAIDSTONE_ANALYST,
    _download,
    _sign_in,
    _sign_out,
    _wait_until_ready,
)

HB_AGREEMENT = HB_SHARING.title


def _take_an_extract(page: Page, summary) -> Extract:
    """Maidstone's analyst, signed in, takes an extract of Kent's housing benefit claims and
    downloads it."""
    _sign_in(page, summary, MAIDSTONE_ANALYST)
    page.get_by_role("link", name="Shared with you").click()
    kent = page.locator(".shared-grant", has_text=HB_PURPOSE)
    kent.get_by_role("link", name=re.compile(f"Request an extract of {re.escape(HB_NAME)}")).click()
    page.get_by_label(HB_PURPOSE).check()
    page.get_by_role("radio", name=re.compile("CSV")).check()
    page.get_by_role("button", name="Request the extract").click()
    _wait_until_ready(page)
    assert _download(page)  # it can be downloaded now
    return Extract.objects.latest("created_at")


def test_a_reported_breach_suspends_the_agreement_and_stops_downloads(
    page: Page, transactional_db, task_worker
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    _SIGNED_IN.clear()

    # 1. Maidstone's analyst takes an extract of Kent's housing benefit collection.
    extract = _take_an_extract(page, summary)
    _sign_out(page)

    # 2. Kent's DPO reports a suspected breach from the agreement's page.
    agreement = Agreement.objects.get(title=HB_AGREEMENT)
    _sign_in(page, summary, KENT_DPO)
    page.goto(f"/agreements/{agreement.pk}/")
    page.locator("#report-breach").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Report a suspected breach")
    assert_accessible(page)
    # First, a mistake: the page says what is wrong.
    page.get_by_role("button", name="Report the breach").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what happened")
    assert_accessible(page)
    discovered = timezone.localtime() - dt.timedelta(hours=1)
    page.get_by_label("What happened?").fill(
        "A Maidstone officer emailed the housing benefit extract to the wrong council."
    )
    page.get_by_label("When was it discovered?").fill(f"{discovered:%d/%m/%Y %H:%M}")
    page.locator("input[name=involved]").first.check()
    page.get_by_role("button", name="Report the breach").click()

    breach = Breach.objects.get()
    expect(page.get_by_role("heading", level=1)).to_have_text(breach.reference)
    expect(page.locator("#clock-partners")).to_contain_text("Done in time")
    expect(page.locator("#clock-ico")).to_contain_text("Due")
    expect(page.locator("#clock-ico")).to_contain_text("left")
    expect(page.locator("#clock-ico")).to_contain_text(
        f"{timezone.localtime(breach.ico_deadline):%-d %B %Y}"
    )
    expect(page.locator("#suspend-reason")).to_contain_text(breach.reference)
    assert_accessible(page)

    page.get_by_role("button", name="Suspend the agreement now").click()
    expect(page.locator("#agreement-suspended")).to_be_visible()
    expect(page.locator("#suspended-note")).to_contain_text("suspended from this breach")
    assert_accessible(page)
    page.get_by_role("link", name="Breaches", exact=True).click()
    expect(page.locator("#breaches")).to_contain_text(breach.reference)
    assert_accessible(page)
    _sign_out(page)
    agreement.refresh_from_db()
    assert agreement.status == "suspended"

    # 3. Maidstone's analyst's next download of the extract is refused, with the reason.
    _sign_in(page, summary, MAIDSTONE_ANALYST)
    response = page.goto(f"/extracts/{extract.pk}/download/")
    assert response is not None
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("is suspended, so no data flows under it")
    assert_accessible(page)

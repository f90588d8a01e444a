"""In the browser, on the demo: Oakleigh's manager sends today's status on the one GOV.UK form
(not a file), makes a mistake the form points out, corrects it, and sees the return checked by
the real background worker and accepted; next time the home's details are already filled in.
Every page passes axe."""

from __future__ import annotations

import base64
import time

from django.utils import timezone
from playwright.sync_api import Page, expect

from accord.demo.collections import NAME
from accord.demo.datasets import CARE_HOMES, upper_tier_of
from accord.demo.loader import load_demo
from accord.submissions.models import CompiledDataset, Submission

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in

DEMO_PASSWORD = "demo-persona-password-for-tests"
OAKLEIGH = "manager@oakleigh.demo.accord.test"
HOME = "Oakleigh House Care Home (synthetic)"


def _key(summary, username: str) -> bytes:
    persona = next(p for p in summary.personas if p.username == username)
    secret = persona.totp_secret
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def _open_form(page: Page) -> None:
    page.get_by_role("link", name="Collections", exact=True).click()
    page.get_by_role("link", name=NAME, exact=True).click()
    assert_accessible(page)
    page.get_by_role("link", name="Send today's status using a form").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send today's status")
    assert_accessible(page)


def _about_the_home(page: Page) -> None:
    """The home's details, typed in if the form has none from an earlier return."""
    spec = CARE_HOMES[HOME]
    about = page.locator("#about-your-home")
    if about.get_attribute("open") is None:
        return  # filled in from the home's last return
    page.get_by_label("Name of the home").fill(HOME)
    page.get_by_label("CQC location ID", exact=True).fill(spec.cqc_location_id)
    page.get_by_label("Postcode").fill(spec.postcode)
    page.get_by_label("Older adults: nursing care").check()
    page.get_by_label("Local authority code", exact=True).fill(spec.ltla_cd)
    page.get_by_label("Upper-tier local authority code (optional)").fill(
        upper_tier_of(spec.ltla_cd)
    )
    page.get_by_label("Integrated care board code (optional)").fill(spec.icb_cd)
    page.get_by_label("UPRN (optional)").fill(spec.uprn)
    page.get_by_label("ODS code (optional)").fill(spec.ods_code)
    page.get_by_label("CQC provider ID (optional)").fill(spec.cqc_provider_id)


def _figures(page: Page, *, occupied: str) -> None:
    fill = {
        "How many beds is the home registered for?": "48",
        "How many beds are occupied?": occupied,
        "Vacant beds you could fill today: residential care": "1",
        "Vacant beds you could fill today: nursing care": "2",
        "Vacant beds you could fill today: dementia care": "1",
        "Residents with a new positive Covid test in the last 24 hours": "0",
        "Staff with a new positive Covid test in the last 24 hours": "0",
        "Residents who died with Covid in the last 7 days": "0",
        "Gloves: days of supply": "18",
        "Aprons: days of supply": "15",
        "Type IIR masks: days of supply": "16",
        "How many staff does the home employ?": "62",
        "How many staff were absent today?": "3",
        "Of those, how many were absent because of Covid?": "0",
        "Agency shifts worked in the last 7 days": "6",
        "Residents with the latest Covid vaccine (%)": "88",
        "Staff with the latest Covid vaccine (%)": "45.5",
    }
    for label, value in fill.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Yes, open to admissions").check()
    page.get_by_role("group", name="Does the home have a Covid outbreak?").get_by_label(
        "No", exact=True
    ).check()
    page.get_by_label("Green: more than two weeks").check()
    page.get_by_label("Yes, visiting is open").check()
    page.get_by_role("group", name="infection prevention and control").get_by_label(
        "Yes", exact=True
    ).check()


def _wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.25)


def test_a_care_home_manager_sends_todays_status_on_one_form(
    page: Page, transactional_db, task_worker
) -> None:
    summary = load_demo(password=DEMO_PASSWORD)
    today = timezone.localdate()
    sign_in(page, OAKLEIGH, DEMO_PASSWORD, _key(summary, OAKLEIGH))
    _open_form(page)
    expect(page.get_by_label("Which day are the figures for?")).to_have_value(
        f"{today.day}/{today.month}/{today.year}"
    )

    # A mistake: more beds occupied than registered. The form says which answer and how to fix it.
    _about_the_home(page)
    _figures(page, occupied="50")
    page.get_by_role("button", name="Send today's status").click()
    summary_box = page.locator(".govuk-error-summary")
    expect(summary_box).to_contain_text("There is a problem")
    expect(summary_box).to_contain_text(
        "Occupied beds (50) cannot be more than registered beds (48): check both figures"
    )
    assert_accessible(page)
    summary_box.get_by_role("link", name="Occupied beds (50)").click()
    expect(page.get_by_label("How many beds are occupied?", exact=True)).to_be_focused()
    # Everything else typed is still there.
    expect(page.get_by_label("Gloves: days of supply")).to_have_value("18")

    page.get_by_label("How many beds are occupied?", exact=True).fill("44")
    page.get_by_label("Anything the people using these figures should know? (optional)").fill(
        "Two residents are in hospital and will return."
    )
    page.get_by_role("button", name="Send today's status").click()

    # The submission page follows the same check as an uploaded file, to the end.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"status-form-{today.isoformat()}.csv"
    )
    assert_accessible(page)
    state = page.locator("#submission-state")
    if state.inner_text() in ("Received", "Being checked"):
        expect(page.locator(".accord-task-progress")).to_contain_text("Finished", timeout=60_000)
        page.get_by_role("link", name="See the result").click()
    expect(page.locator("#submission-state")).to_have_text("Accepted")
    expect(page.locator("#rows")).to_contain_text("1 row, 1 without errors")
    assert_accessible(page)

    submission = Submission.objects.get(
        organisation__name=HOME, period=today, filename=f"status-form-{today.isoformat()}.csv"
    )
    assert submission.via == "web"
    assert submission.state == "accepted"
    # The collection's compiled dataset (which the dashboards are made from) takes it in.
    _wait_for(lambda: CompiledDataset.objects.filter(submissions=submission).exists())

    # Next time, the home's details are filled in from this return and folded away.
    _open_form(page)
    about = page.locator("#about-your-home")
    assert about.get_attribute("open") is None
    about.locator("summary").click()
    expect(page.get_by_label("CQC location ID", exact=True)).to_have_value(
        CARE_HOMES[HOME].cqc_location_id
    )
    expect(page.get_by_label("Postcode")).to_have_value(CARE_HOMES[HOME].postcode)
    expect(page.get_by_label("How many beds are occupied?", exact=True)).to_have_value("")
    assert_accessible(page)

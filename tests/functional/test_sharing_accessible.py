"""Data shared with you, extracts and releases, in the browser: no axe-core violations on each
page, with the progress indicator while an extract is built by the real worker, the provider's
pick-up chart, and a refused upload's error summary."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.access import releases
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from tests.factories import PASSWORD, MembershipFactory, UserFactory, member_actor, totp_device
from tests.integration.test_sharing_pages import HEADER, ROWS
from tests.unit.access.sharing import county_shares_housing_benefit, hb_frame

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in


def _member(organisation: Organisation, role: Role, email: str) -> tuple[str, bytes]:
    user = UserFactory(email=email, username=email)
    MembershipFactory(user=user, organisation=organisation, roles=[role])
    return user.email, totp_device(user).bin_key


def test_the_sharing_pages_are_accessible(page: Page, transactional_db, task_worker) -> None:
    world = county_shares_housing_benefit()
    release = releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label="Housing benefit, November",
        frame=hb_frame(),
        caveats="Provisional figures.",
    )
    email, key = _member(world.district, Role.ANALYST, "analyst@maidstone.example")
    sign_in(page, email, PASSWORD, key, check_accessibility=False)

    page.get_by_role("link", name="Shared with you").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Data shared with you")
    expect(page.locator(".row-limit")).to_contain_text("Only rows for your area: E07000110")
    assert_accessible(page)

    page.get_by_role("link", name="Request an extract").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Request an extract")
    assert_accessible(page)
    page.get_by_role("button", name="Request the extract").click()
    expect(page.locator("[data-task-progress-text]")).to_contain_text("Finished", timeout=30_000)
    page.reload()
    expect(page.locator("#extract-state")).to_have_text("Ready to download")
    expect(page.locator("#applied")).to_contain_text("Pseudonymised")
    assert_accessible(page)

    page.get_by_role("link", name="Extracts", exact=True).click()
    expect(page.locator("#extracts")).to_contain_text("Ready to download")
    assert_accessible(page)

    page.goto("/releases/")
    expect(page.locator("#received")).to_contain_text("Housing benefit, November")
    assert_accessible(page)
    page.goto(f"/releases/{release.pk}/")
    expect(page.locator("#slice-rows")).to_contain_text("2 rows")
    assert_accessible(page)

    page.locator("#sign-out").click()
    email, key = _member(world.county, Role.DATA_OFFICER, "officer@kent.example")
    sign_in(page, email, PASSWORD, key, check_accessibility=False)
    page.goto("/releases/")
    expect(page.locator("#schedules")).to_contain_text("Monthly")
    assert_accessible(page)
    page.get_by_role("link", name="Publish data").click()
    assert_accessible(page)
    page.get_by_label("Name of the release").fill("December")
    bad = ROWS[2].replace("1990-07-08", "not a date")
    page.get_by_label("Upload the file").set_input_files(
        files=[
            {
                "name": "hb.csv",
                "mimeType": "text/csv",
                "buffer": ("\r\n".join([HEADER, bad]) + "\r\n").encode(),
            }
        ]
    )
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("date_of_birth")
    assert_accessible(page)

    page.goto(f"/releases/{release.pk}/")
    expect(page.locator("#pickup-chart")).to_contain_text("0 of 2 recipients picked up")
    assert_accessible(page)

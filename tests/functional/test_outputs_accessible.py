"""Outputs pages not walked by the "Done when" test, in the browser with no axe-core
violations: a district making a flexible table of the county's housing benefit collection
(its own area, perturbed counts), with its error summary; and the combined authority's output
list, the dashboard at another area level, and defining an output with its error summary."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.organisations.enums import Role
from tests.factories import PASSWORD, MembershipFactory, UserFactory, totp_device
from tests.unit.access.sharing import county_shares_housing_benefit
from tests.unit.outputs.test_flexible import hb_collection
from tests.unit.outputs.world import build_output_world

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in


def _member(organisation, role: Role, email: str) -> tuple[str, bytes]:
    user = UserFactory(email=email, username=email)
    MembershipFactory(user=user, organisation=organisation, roles=[role])
    return user.email, totp_device(user).bin_key


def test_a_district_makes_a_flexible_table(page: Page, transactional_db) -> None:
    world = county_shares_housing_benefit()
    hb_collection(world)
    email, key = _member(world.district, Role.ANALYST, "analyst@maidstone.example")
    sign_in(page, email, PASSWORD, key, check_accessibility=False)
    page.get_by_role("link", name="Shared with you").click()
    page.get_by_role("link", name="make a table").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Make a table")
    assert_accessible(page)

    # Three ways at once is too many: the error summary says so.
    for label in ("District", "Tenure", "Claim status"):
        page.get_by_label(label, exact=True).check()
    page.get_by_role("button", name="Make the table").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Choose at most 2 ways to break the table down"
    )
    assert_accessible(page)

    page.get_by_label("Claim status", exact=True).uncheck()
    page.get_by_role("button", name="Make the table").click()
    table = page.locator("#flexible-table")
    expect(table).to_contain_text("E07000110")
    expect(table).not_to_contain_text("E07000106")
    assert_accessible(page)


def test_the_owners_output_pages_are_accessible(page: Page, transactional_db) -> None:
    world = build_output_world()
    email, key = _member(world.owner, Role.ANALYST, "analyst@gmca.example")
    sign_in(page, email, PASSWORD, key, check_accessibility=False)
    page.goto("/outputs/")
    assert_accessible(page)
    page.get_by_role("link", name="Care home status by area").click()
    page.get_by_role("link", name="Region", exact=True).click()
    expect(page.locator("#areas")).to_contain_text("South East")
    assert_accessible(page)
    page.goto("/outputs/")
    page.get_by_role("link", name="Define an output of Care home daily status").click()
    page.get_by_role("button", name="Define the output").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name for the output")
    assert_accessible(page)

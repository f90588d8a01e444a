"""Who used our data and our access history, in the browser: no axe-core violations, with the
chart, the table, the filters and an error in the filters."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from accord.organisations.enums import Role, Sector
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    totp_device,
)
from tests.integration.usage_helpers import OUTSIDER_PURPOSE, make_uses

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in


def test_the_data_use_pages_are_accessible(page: Page, transactional_db) -> None:
    provider = OrganisationFactory(name="Canterbury City Council", gss_code="E07000106")
    reader = OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )
    make_uses(provider, reader)
    dpo = UserFactory(email="dpo@canterbury.example")
    MembershipFactory(user=dpo, organisation=provider, roles=[Role.DPO])
    device = totp_device(dpo)
    sign_in(page, dpo.email, PASSWORD, device.bin_key)

    page.get_by_role("link", name="Data use").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Who used our data")
    expect(page.locator("#uses")).to_contain_text(OUTSIDER_PURPOSE)
    expect(page.locator("#chart-organisations")).to_contain_text("Kent County Council")
    assert_accessible(page)

    page.get_by_label("Outcome").select_option("refused")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#usage-count")).to_contain_text("2 uses found")
    assert_accessible(page)

    page.goto("/usage/?since=31/02/2026")
    expect(page.locator(".govuk-error-summary")).to_contain_text("is not a real date")
    assert_accessible(page)

    page.goto("/usage/history/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Our access history")
    assert_accessible(page)

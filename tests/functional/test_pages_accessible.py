"""Every page of the service, visited in the browser, has no axe-core violations; and the
core flows work with JavaScript off."""

from __future__ import annotations

from django.core import mail
from playwright.sync_api import Browser, Page, expect

from accord.audit.actor import Actor
from accord.audit.checkpoints import create_checkpoint
from accord.organisations.enums import Role, Sector
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    totp_device,
)

from .conftest import assert_accessible
from .test_people_and_organisations import sign_in


def test_every_signed_in_page_is_accessible(page: Page, transactional_db) -> None:
    council = OrganisationFactory(name="Canterbury City Council", gss_code="E07000106")
    admin = UserFactory(email="admin@canterbury.example")
    MembershipFactory(user=admin, organisation=council, roles=[Role.ORGANISATION_ADMIN])
    colleague = MembershipFactory(organisation=council, roles=[Role.ANALYST])
    device = totp_device(admin)
    sign_in(page, admin.email, PASSWORD, device.bin_key)
    create_checkpoint(by=Actor.system("test"))

    for path, heading in [
        ("/organisation/audit/", "Audit log of Canterbury City Council"),
        ("/organisation/audit/?since=31/02/2026", "Audit log of Canterbury City Council"),
        ("/audit/checkpoints/", "Audit checkpoints"),
        (f"/organisation/members/{colleague.pk}/", f"Roles of {colleague.user.display_name}"),
        ("/account/password/", "Change your password"),
        ("/organisation/switch/", "Switch organisation"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(heading)
        assert_accessible(page)
    expect(page.locator(".govuk-error-summary")).to_have_count(0)

    page.goto("/organisation/audit/?since=31/02/2026")
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the from date")


def test_every_signed_out_page_is_accessible(page: Page, transactional_db) -> None:
    UserFactory(email="someone@example.org")
    page.goto("/password-reset/")
    assert_accessible(page)
    page.get_by_label("Email address").fill("someone@example.org")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert_accessible(page)
    assert len(mail.outbox) == 1
    page.goto("/password-reset/MQ/not-a-token/")
    expect(page.get_by_role("heading", name="This link has expired")).to_be_visible()
    assert_accessible(page)
    page.goto("/invitations/no-such-invitation/")
    expect(page.get_by_role("heading", name="This invitation link is not valid")).to_be_visible()
    assert_accessible(page)
    page.goto("/register/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Register of data sharing agreements")
    assert_accessible(page)
    page.get_by_label("Search by organisation, purpose, dataset or legal basis").fill("fsm")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#count")).to_contain_text("No agreement in force matches")
    assert_accessible(page)
    for _ in range(5):
        page.goto("/sign-in/")
        page.get_by_label("Email address").fill("someone@example.org")
        page.get_by_label("Password").fill("not the password at all")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Your account is locked")).to_be_visible()
    assert_accessible(page)


def test_switch_and_invite_work_without_javascript(
    browser: Browser, live_server, transactional_db
) -> None:
    hackney = OrganisationFactory(
        name="London Borough of Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    islington = OrganisationFactory(
        name="London Borough of Islington", sector=Sector.LONDON_BOROUGH, gss_code="E09000019"
    )
    person = UserFactory(email="admin@hackney.example")
    MembershipFactory(user=person, organisation=hackney, roles=[Role.ORGANISATION_ADMIN])
    MembershipFactory(user=person, organisation=islington, roles=[Role.VIEWER])
    device = totp_device(person)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, person.email, PASSWORD, device.bin_key, check_accessibility=False)
        page.goto("/organisation/switch/")
        page.get_by_label("London Borough of Islington").check()
        page.get_by_role("button", name="Switch organisation").click()
        expect(page.locator("#current-organisation")).to_contain_text("Islington")
        page.goto("/organisation/switch/")
        page.get_by_label("London Borough of Hackney").check()
        page.get_by_role("button", name="Switch organisation").click()
        page.goto("/organisation/members/invite/")
        page.get_by_label("Email address").fill("new.person@hackney.example")
        page.get_by_label("Viewer").check()
        page.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_role("alert")).to_contain_text("Invitation sent")
        assert len(mail.outbox) == 1
    finally:
        context.close()

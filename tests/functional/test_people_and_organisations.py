"""A new user signs in, switches organisation, invites a colleague who accepts and signs in —
in a real browser, with and without JavaScript, every page checked for accessibility."""

from __future__ import annotations

import base64
import re
import time

from django.core import mail
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from accord.organisations.enums import Role, Sector
from tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    totp_device,
)
from tests.integration.helpers import code_for as device_code_for

from .conftest import assert_accessible


def code_for(key: bytes, *, steps_ahead: int = 0, email: str = "") -> str:
    """The authenticator code for a key. For a user's device (``email``) that Accord holds, a
    code it accepts now (``tests.integration.helpers.code_for``): after the step of the last
    code used (a replay is refused), and allowing for the drift django-otp learnt when a code
    crossed a 30-second step on its way to the server, which a fixed step ahead would not.
    Otherwise the key's code ``steps_ahead`` steps on, within the allowed drift."""
    device = TOTPDevice.objects.filter(
        user__email__iexact=email, confirmed=True, key=key.hex()
    ).first()
    if email and device is not None:
        return device_code_for(device)
    token = TOTP(key)
    token.time = time.time() + 30 * steps_ahead
    return f"{token.token():06d}"


def sign_in(
    page: Page,
    email: str,
    password: str,
    key: bytes | None,
    *,
    steps_ahead: int = 0,
    check_accessibility: bool = True,
) -> None:
    """Sign in through the pages. axe needs JavaScript, so a no-JavaScript run skips it (the
    same pages are checked in the runs with JavaScript)."""
    page.goto("/sign-in/")
    if check_accessibility:
        assert_accessible(page)
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    if key is not None:
        expect(page.get_by_role("heading", name="Enter your security code")).to_be_visible()
        if check_accessibility:
            assert_accessible(page)
        page.get_by_label("Security code").fill(code_for(key, steps_ahead=steps_ahead, email=email))
        page.get_by_role("button", name="Continue").click()


def test_sign_in_switch_invite_accept(page: Page, transactional_db) -> None:
    maidstone = OrganisationFactory(name="Maidstone Borough Council", gss_code="E07000110")
    kent = OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )
    admin = UserFactory(email="admin@maidstone.example", first_name="Ada", last_name="Admin")
    MembershipFactory(
        user=admin, organisation=maidstone, roles=[Role.ORGANISATION_ADMIN, Role.ANALYST]
    )
    MembershipFactory(user=admin, organisation=kent, roles=[Role.ANALYST])
    device = totp_device(admin)

    # Signed out, the home page asks for sign-in; the second step asks for the code.
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    sign_in(page, admin.email, PASSWORD, device.bin_key)
    expect(page.locator("#current-organisation")).to_contain_text("Kent County Council")
    assert_accessible(page)

    # Switch organisation.
    page.get_by_role("link", name="Switch organisation").first.click()
    assert_accessible(page)
    page.get_by_label("Maidstone Borough Council").check()
    page.get_by_role("button", name="Switch organisation").click()
    expect(page.locator("#current-organisation")).to_contain_text("Maidstone Borough Council")
    expect(page.get_by_role("alert")).to_contain_text("acting for Maidstone Borough Council")

    # Invite a colleague; the form's errors are specific first.
    page.get_by_role("link", name="Manage members and invitations").click()
    assert_accessible(page)
    page.get_by_role("button", name="Invite someone").click()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the email address of the person to invite"
    )
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible(page)
    page.get_by_label("Email address").fill("colleague@maidstone.example")
    page.get_by_label("Analyst").check()
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Invitation sent to colleague@maidstone.example"
    )
    assert_accessible(page)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+(/invitations/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    page.locator("#sign-out").click()

    # The colleague follows the link, creates an account and enrols an authenticator.
    page.goto(link.group(1))
    expect(page.get_by_role("heading", name="Join Maidstone Borough Council")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("First name").fill("Colin")
    page.get_by_label("Last name").fill("League")
    page.get_by_label("Create a password").fill("tulip-harbour-violin-93")
    page.get_by_label("Confirm password").fill("tulip-harbour-violin-93")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    assert_accessible(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label("Security code").fill(code_for(key))
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#current-organisation")).to_contain_text(
        "colleague@maidstone.example, acting for Maidstone Borough Council"
    )

    # ... and signs in again later.
    page.locator("#sign-out").click()
    sign_in(page, "colleague@maidstone.example", "tulip-harbour-violin-93", key, steps_ahead=1)
    expect(page.get_by_role("heading", name="Maidstone Borough Council")).to_be_visible()
    assert TOTPDevice.objects.get(user__email="colleague@maidstone.example").confirmed


def test_core_flow_works_without_javascript(browser, live_server, transactional_db) -> None:
    organisation = OrganisationFactory(
        name="Medway Council", gss_code="E06000035", sector=Sector.UNITARY_AUTHORITY
    )
    person = UserFactory(email="officer@medway.example")
    MembershipFactory(user=person, organisation=organisation, roles=[Role.DATA_OFFICER])
    device = totp_device(person)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in(page, person.email, PASSWORD, device.bin_key, check_accessibility=False)
        expect(page.locator("#current-organisation")).to_contain_text("Medway Council")
        page.locator("#sign-out").click()
        expect(page.get_by_role("alert")).to_contain_text("You have signed out")
    finally:
        context.close()


def test_error_pages_are_styled_and_accessible(page: Page, transactional_db) -> None:
    response = page.goto("/no-such-page/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    assert_accessible(page)

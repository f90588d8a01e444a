"""Signing in (password, then the authenticator code), enrolling an authenticator, the
two-factor rule for people whose roles change, session expiry and signing out."""

from __future__ import annotations

import base64
import re
import time

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.actor import Actor
from accord.organisations import actions
from accord.organisations.enums import Role
from accord.organisations.models import Membership
from accord.web.middleware import SIGNED_IN_AT
from accord.web.views.auth import PENDING_SINCE, PENDING_USER
from tests.factories import PASSWORD

from .helpers import (
    ENROL,
    HOME,
    SIGN_IN,
    SIGN_IN_CODE,
    actions_after,
    assert_redirects_to_sign_in,
    code_for,
    code_from_secret,
    device_of,
    events_after,
    last_seq,
    only,
    person,
    sign_in,
    signed_in_user_id,
    texts,
    wrong_code_for,
)

WRONG_PASSWORD_MESSAGE = "Enter a correct email address and password"
WRONG_CODE_MESSAGE = "The security code is not right"


# The home page -------------------------------------------------------------------------------


def test_home_signed_out_sends_to_sign_in(client: Client) -> None:
    assert_redirects_to_sign_in(client.get(HOME), HOME)


def test_home_shows_the_organisation_and_only_the_links_the_roles_allow(council) -> None:
    analyst = person(council, Role.ANALYST)
    client = Client()
    sign_in(client, analyst)
    page = texts(client.get(HOME))
    assert council.name in page
    assert "Analyst" in page
    assert "/organisation/members/" not in page
    assert "/organisation/audit/" not in page

    admin = person(council, Role.ORGANISATION_ADMIN)
    admin_client = Client()
    sign_in(admin_client, admin)
    page = texts(admin_client.get(HOME))
    assert "/organisation/members/" in page
    assert "/organisation/audit/" in page


def test_home_for_someone_in_no_organisation() -> None:
    loner = person(None)
    client = Client()
    sign_in(client, loner)
    response = client.get(HOME)
    assert response.status_code == 200
    assert "You are not a member of any organisation yet" in texts(response)


# Password step -------------------------------------------------------------------------------


def test_a_viewer_goes_straight_in_without_a_second_factor(client: Client, council) -> None:
    viewer = person(council, Role.VIEWER)
    assert device_of(viewer) is None
    before = last_seq()
    response = client.post(SIGN_IN, {"username": viewer.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == HOME
    assert signed_in_user_id(client) == viewer.pk
    assert client.get(HOME).status_code == 200
    assert actions_after(before) == ["auth.signed_in"]
    event = only(events_after(before))
    assert event.actor == f"user:{viewer.pk}"
    assert event.outcome == "success"
    assert event.organisation == str(council.pk)  # recorded against the organisation acted for


@pytest.mark.parametrize(
    "role", [Role.ANALYST, Role.DATA_OFFICER, Role.ORGANISATION_ADMIN, Role.DPO, Role.SIRO]
)
def test_a_data_role_needs_the_code_before_being_signed_in(client: Client, council, role) -> None:
    someone = person(council, role)
    device = device_of(someone)
    assert device is not None
    before = last_seq()
    response = client.post(SIGN_IN, {"username": someone.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == SIGN_IN_CODE
    # Passing the password alone signs nobody in.
    assert signed_in_user_id(client) is None
    assert_redirects_to_sign_in(client.get(HOME), HOME)
    assert actions_after(before) == []

    page = client.get(SIGN_IN_CODE)
    assert page.status_code == 200
    assert "Enter your security code" in texts(page)

    response = client.post(SIGN_IN_CODE, {"code": code_for(device)})
    assert response.status_code == 302
    assert response.url == HOME
    assert signed_in_user_id(client) == someone.pk
    assert client.get(HOME).status_code == 200
    assert sorted(actions_after(before)) == ["auth.second_factor_passed", "auth.signed_in"]


def test_a_wrong_password_is_refused_with_a_specific_message_and_audited(
    client: Client, council
) -> None:
    viewer = person(council, Role.VIEWER)
    before = last_seq()
    response = client.post(SIGN_IN, {"username": viewer.email, "password": "not-the-password"})
    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in texts(response)
    assert "After 5 wrong attempts your account is locked for 15 minutes" in texts(response)
    assert signed_in_user_id(client) is None
    event = only(events_after(before))
    assert event.action == "auth.sign_in_failed"
    assert event.outcome == "failed"
    assert event.actor == "anonymous"
    assert event.actor_label == viewer.email


def test_an_unknown_address_gets_the_same_answer(client: Client) -> None:
    before = last_seq()
    response = client.post(
        SIGN_IN, {"username": "nobody@example.org", "password": "whatever-it-is"}
    )
    assert response.status_code == 200
    assert WRONG_PASSWORD_MESSAGE in texts(response)
    assert actions_after(before) == ["auth.sign_in_failed"]


def test_a_switched_off_account_cannot_sign_in(client: Client, council) -> None:
    viewer = person(council, Role.VIEWER, is_active=False)
    response = client.post(SIGN_IN, {"username": viewer.email, "password": PASSWORD})
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(
    client: Client, council
) -> None:
    analyst = person(council, Role.ANALYST)
    bystander = person(council, Role.VIEWER)
    before = last_seq()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(SIGN_IN, {"username": analyst.email, "password": "wrong-password"})
        assert response.status_code == 200
        assert WRONG_PASSWORD_MESSAGE in texts(response)

    response = client.post(SIGN_IN, {"username": analyst.email, "password": "wrong-password"})
    assert response.status_code == 429
    assert "Your account is locked" in texts(response)
    assert "15 minutes" in texts(response)
    locked = only(events_after(before, "auth.locked_out"))
    assert locked.outcome == "refused"
    assert locked.actor_label == analyst.email
    assert len(events_after(before, "auth.sign_in_failed")) == settings.AXES_FAILURE_LIMIT

    # The right password no longer works, from this browser or any other.
    for attempt in (client, Client()):
        response = attempt.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
        assert response.status_code == 429
        assert "Your account is locked" in texts(response)
        assert signed_in_user_id(attempt) is None
        assert attempt.get(SIGN_IN_CODE).status_code == 302  # no pending second step either

    # Lockout is per account: someone else signs in from the same browser.
    other = Client()
    sign_in(other, bystander)


def test_next_is_honoured_through_both_steps(client: Client, council) -> None:
    admin = person(council, Role.ORGANISATION_ADMIN)
    response = sign_in(client, admin, next_url="/organisation/audit/?outcome=refused")
    assert response.url == "/organisation/audit/?outcome=refused"


def test_next_is_honoured_for_a_viewer(client: Client, council) -> None:
    viewer = person(council, Role.VIEWER)
    response = sign_in(client, viewer, next_url="/audit/checkpoints/")
    assert response.url == "/audit/checkpoints/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example",
        "https://evil.example/sign-in/",
        "//evil.example/",
        "/\\evil.example",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "\\\\evil.example",
    ],
)
def test_next_never_leaves_the_site(client: Client, council, target: str) -> None:
    analyst = person(council, Role.ANALYST)
    response = sign_in(client, analyst, next_url=target)
    assert response.url == HOME


def test_signing_in_again_when_signed_in_goes_home(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    response = client.get(SIGN_IN)
    assert response.status_code == 302
    assert response.url == HOME


# Security code step --------------------------------------------------------------------------


def test_a_wrong_code_is_refused_and_audited(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    device = device_of(analyst)
    assert device is not None
    client.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    before = last_seq()
    response = client.post(SIGN_IN_CODE, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert WRONG_CODE_MESSAGE in texts(response)
    assert signed_in_user_id(client) is None
    event = only(events_after(before))
    assert event.action == "auth.second_factor_failed"
    assert event.outcome == "failed"
    assert event.actor == f"user:{analyst.pk}"
    assert_redirects_to_sign_in(client.get(HOME), HOME)


def test_a_code_that_is_not_six_digits_is_a_form_error(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    client.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    response = client.post(SIGN_IN_CODE, {"code": "12ab"})
    assert response.status_code == 200
    assert "Enter the security code as 6 digits" in texts(response)
    assert signed_in_user_id(client) is None


def test_a_code_already_used_cannot_be_used_again(council) -> None:
    analyst = person(council, Role.ANALYST)
    device = device_of(analyst)
    assert device is not None
    first = Client()
    first.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    code = code_for(device)
    assert first.post(SIGN_IN_CODE, {"code": code}).status_code == 302

    # Someone who saw the code (and knows the password) cannot replay it.
    second = Client()
    second.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    response = second.post(SIGN_IN_CODE, {"code": code})
    assert response.status_code == 200
    assert WRONG_CODE_MESSAGE in texts(response)
    assert signed_in_user_id(second) is None


def test_the_code_page_without_a_password_step_goes_back_to_sign_in(
    client: Client, council
) -> None:
    analyst = person(council, Role.ANALYST)
    device = device_of(analyst)
    assert device is not None
    response = client.get(SIGN_IN_CODE)
    assert response.status_code == 302
    assert response.url == SIGN_IN
    response = client.post(SIGN_IN_CODE, {"code": code_for(device)})
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert signed_in_user_id(client) is None


def test_a_password_step_older_than_five_minutes_must_be_done_again(
    client: Client, council
) -> None:
    analyst = person(council, Role.ANALYST)
    device = device_of(analyst)
    assert device is not None
    client.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    session = client.session
    assert session[PENDING_USER] == analyst.pk
    session[PENDING_SINCE] = time.time() - 5 * 60 - 1
    session.save()

    response = client.post(SIGN_IN_CODE, {"code": code_for(device)})
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert signed_in_user_id(client) is None
    page = client.get(SIGN_IN)
    assert "the sign-in step timed out" in texts(page)


# Enrolling an authenticator ------------------------------------------------------------------


def _enrol_page(client: Client, user) -> tuple[str, TOTPDevice]:
    response = client.post(SIGN_IN, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == ENROL
    page = client.get(ENROL)
    assert page.status_code == 200
    text = texts(page)
    assert "Set up your authenticator app" in text
    assert "<svg" in text  # the QR code
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', text)
    assert secret is not None
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    return secret.group(1).replace(" ", ""), device


def test_a_data_role_without_an_authenticator_is_sent_to_enrol_and_a_wrong_code_is_refused(
    client: Client, council
) -> None:
    officer = person(council, Role.DATA_OFFICER, device=False)
    _, device = _enrol_page(client, officer)
    assert signed_in_user_id(client) is None
    before = last_seq()
    response = client.post(ENROL, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert WRONG_CODE_MESSAGE in texts(response)
    device.refresh_from_db()
    assert not device.confirmed
    assert signed_in_user_id(client) is None
    assert "auth.two_factor_enrolled" not in actions_after(before)
    assert_redirects_to_sign_in(client.get(HOME), HOME)


def test_the_right_code_from_the_key_shown_confirms_the_authenticator_and_signs_in(
    client: Client, council
) -> None:
    officer = person(council, Role.DATA_OFFICER, device=False)
    secret, device = _enrol_page(client, officer)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    assert key == device.bin_key
    # Reloading the page keeps the same key (the app may already have scanned it).
    assert TOTPDevice.objects.get(user=officer).pk == device.pk
    client.get(ENROL)
    assert TOTPDevice.objects.filter(user=officer).count() == 1

    before = last_seq()
    response = client.post(ENROL, {"code": code_from_secret(key)})
    assert response.status_code == 302
    assert response.url == HOME
    device.refresh_from_db()
    assert device.confirmed
    assert signed_in_user_id(client) == officer.pk
    assert client.get(HOME).status_code == 200
    assert sorted(actions_after(before)) == [
        "auth.second_factor_passed",
        "auth.signed_in",
        "auth.two_factor_enrolled",
    ]

    # From now on the code page is asked for, not enrolment.
    again = Client()
    response = again.post(SIGN_IN, {"username": officer.email, "password": PASSWORD})
    assert response.url == SIGN_IN_CODE


def test_someone_with_an_authenticator_cannot_enrol_another_after_the_password_step(
    client: Client, council
) -> None:
    analyst = person(council, Role.ANALYST)
    client.post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response.url == SIGN_IN_CODE
    assert TOTPDevice.objects.filter(user=analyst).count() == 1
    response = client.post(ENROL, {"code": "123456"})
    assert response.url == SIGN_IN_CODE
    assert signed_in_user_id(client) is None


def test_the_enrol_page_without_a_password_step_goes_back_to_sign_in(client: Client) -> None:
    response = client.get(ENROL)
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert not TOTPDevice.objects.exists()


# People whose roles change while signed in ---------------------------------------------------


def test_a_viewer_given_a_data_role_must_enrol_before_anything_else(council) -> None:
    viewer = person(council, Role.VIEWER)
    client = Client()
    sign_in(client, viewer)
    assert client.get(HOME).status_code == 200

    membership = Membership.objects.get(user=viewer, organisation=council)
    actions.change_roles(by=Actor.system(), membership=membership, roles=[Role.ANALYST])

    for path in (HOME, "/organisation/audit/", "/audit/checkpoints/", "/account/password/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url == ENROL, path

    page = client.get(ENROL)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=viewer, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_a_viewer_given_a_data_role_can_still_sign_out(council) -> None:
    viewer = person(council, Role.VIEWER)
    client = Client()
    sign_in(client, viewer)
    Membership.objects.filter(user=viewer).update(roles=[Role.ANALYST])
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert signed_in_user_id(client) is None


def test_a_viewer_with_an_authenticator_given_a_data_role_is_asked_for_a_code(council) -> None:
    viewer = person(council, Role.VIEWER, device=True)
    device = device_of(viewer)
    assert device is not None
    client = Client()
    sign_in(client, viewer)  # a viewer is not asked for the code
    Membership.objects.filter(user=viewer).update(roles=[Role.ANALYST])

    response = client.get(HOME)
    assert response.status_code == 302
    # Wherever they are sent, they must reach a page that asks for their code.
    response = client.get(response.url)
    if response.status_code == 302:
        response = client.get(response.url)
    assert response.status_code == 200
    assert "Enter your security code" in texts(response)
    response = client.post(SIGN_IN_CODE, {"code": code_for(device)})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


# Session lifetime ----------------------------------------------------------------------------


def test_a_session_ends_a_fixed_time_after_sign_in_however_active(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    assert client.get(HOME).status_code == 200
    session = client.session
    assert SIGNED_IN_AT in session

    # Just inside the limit: still signed in.
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS + 120
    session.save()
    assert client.get(HOME).status_code == 200

    session = client.session
    session[SIGNED_IN_AT] = time.time() - settings.SESSION_ABSOLUTE_SECONDS - 1
    session.save()
    before = last_seq()
    response = client.get("/organisation/switch/")
    assert response.status_code == 302
    assert response.url == f"{SIGN_IN}?expired=1"
    assert signed_in_user_id(client) is None
    assert actions_after(before) == ["auth.signed_out"]
    page = client.get(response.url)
    assert "You were signed out because your session ended" in texts(page)
    assert_redirects_to_sign_in(client.get(HOME), HOME)


# Signing out ---------------------------------------------------------------------------------


def test_sign_out_needs_a_post(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    response = client.get("/sign-out/")
    assert response.status_code == 405
    assert signed_in_user_id(client) == analyst.pk


def test_sign_out_signs_out_and_is_audited(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    before = last_seq()
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert signed_in_user_id(client) is None
    event = only(events_after(before))
    assert event.action == "auth.signed_out"
    assert event.actor == f"user:{analyst.pk}"
    assert event.organisation == str(council.pk)
    assert "You have signed out" in texts(client.get(SIGN_IN))
    assert_redirects_to_sign_in(client.get(HOME), HOME)


def test_sign_out_when_signed_out_writes_nothing(client: Client) -> None:
    before = last_seq()
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert actions_after(before) == []


def test_the_email_address_is_not_case_sensitive(client: Client, council) -> None:
    viewer = person(council, Role.VIEWER, email="casey@example.org")
    response = client.post(SIGN_IN, {"username": "  Casey@Example.ORG ", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_user_id(client) == viewer.pk

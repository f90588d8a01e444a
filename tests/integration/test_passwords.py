"""Resetting a forgotten password by email, and changing a password when signed in."""

from __future__ import annotations

import re

from django.core import mail
from django.test import Client

from accord.organisations.enums import Role
from tests.factories import PASSWORD

from .helpers import (
    HOME,
    SIGN_IN,
    SIGN_IN_CODE,
    actions_after,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    only,
    person,
    sign_in,
    signed_in_user_id,
    texts,
)

NEW_PASSWORD = "plum-violin-harbour-lantern-7"
RESET = "/password-reset/"
LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def _request_reset(client: Client, email: str):
    return client.post(RESET, {"email": email})


def _reset_link(message: mail.EmailMessage) -> str:
    found = LINK.search(message.body)
    assert found is not None, message.body
    return found.group(1)


def test_the_reset_pages_open_for_anyone(client: Client) -> None:
    for path, heading in (
        (RESET, "Reset your password"),
        ("/password-reset/sent/", "Check your email"),
        ("/password-reset/done/", "Your password has been reset"),
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert heading in texts(response)


def test_a_known_address_gets_one_email_with_a_link_that_sets_a_working_password(
    client: Client, council, mailoutbox
) -> None:
    analyst = person(council, Role.ANALYST)
    before = last_seq()
    response = _request_reset(client, analyst.email)
    assert response.status_code == 302
    assert response.url == "/password-reset/sent/"
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [analyst.email]
    assert message.subject == "Reset your Accord password"
    requested = only(events_after(before))
    assert requested.action == "auth.password_reset_requested"
    assert requested.actor_label == analyst.email

    link = _reset_link(message)
    response = client.get(link)
    assert response.status_code == 302  # Django swaps the token out of the address
    form_url = response.url
    page = client.get(form_url)
    assert page.status_code == 200
    assert "Choose a new password" in texts(page)

    # A weak password is refused and changes nothing.
    weak = client.post(form_url, {"new_password1": "password", "new_password2": "password"})
    assert weak.status_code == 200
    assert "This password is too short" in texts(weak)
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)

    before = last_seq()
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == "/password-reset/done/"
    assert actions_after(before) == ["auth.password_reset"]
    # Resetting does not sign anyone in.
    assert signed_in_user_id(client) is None

    # The old password no longer works; the new one does, and still needs the second factor.
    old = Client().post(SIGN_IN, {"username": analyst.email, "password": PASSWORD})
    assert old.status_code == 200
    fresh = Client()
    response = fresh.post(SIGN_IN, {"username": analyst.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert response.url == SIGN_IN_CODE
    assert signed_in_user_id(fresh) is None
    sign_in(Client(), analyst, password=NEW_PASSWORD)

    # The link works once.
    again = client.get(link, follow=True)
    assert again.status_code == 200
    assert "This link has expired" in texts(again)
    assert 'name="new_password1"' not in texts(again)


def test_an_unknown_address_gets_the_same_page_and_no_email(client: Client, mailoutbox) -> None:
    before = last_seq()
    response = _request_reset(client, "nobody@example.org")
    assert response.status_code == 302
    assert response.url == "/password-reset/sent/"
    assert mailoutbox == []
    assert actions_after(before) == ["auth.password_reset_requested"]


def test_a_switched_off_account_gets_no_email(client: Client, council, mailoutbox) -> None:
    viewer = person(council, Role.VIEWER, is_active=False)
    response = _request_reset(client, viewer.email)
    assert response.status_code == 302
    assert mailoutbox == []


def test_a_bad_link_shows_the_expired_page_and_changes_nothing(
    client: Client, council, mailoutbox
) -> None:
    analyst = person(council, Role.ANALYST)
    _request_reset(client, analyst.email)
    link = _reset_link(mailoutbox[0])
    uid = link.split("/")[2]
    for bad in (
        f"/password-reset/{uid}/abc-0123456789abcdef/",
        "/password-reset/MTIzNDU2/abc-0123456789abcdef/",
        "/password-reset/!!!/set-password/",
    ):
        response = client.get(bad)
        assert response.status_code == 200, bad
        assert "This link has expired" in texts(response), bad
        assert (
            "<title>This link has expired \N{EN DASH} Accord</title>" in response.content.decode()
        ), bad
        response = client.post(bad, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert "This link has expired" in texts(response), bad
    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)


def test_a_reset_signs_out_sessions_that_used_the_old_password(council, mailoutbox) -> None:
    analyst = person(council, Role.ANALYST)
    victim_session = Client()
    sign_in(victim_session, analyst)
    assert victim_session.get(HOME).status_code == 200

    owner = Client()
    _request_reset(owner, analyst.email)
    form_url = owner.get(_reset_link(mailoutbox[0])).url
    owner.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert_redirects_to_sign_in(victim_session.get(HOME), HOME)


# Changing a password -------------------------------------------------------------------------

CHANGE = "/account/password/"


def test_change_password_signed_out_goes_to_sign_in(client: Client) -> None:
    assert_redirects_to_sign_in(client.get(CHANGE), CHANGE)
    response = client.post(
        CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert_redirects_to_sign_in(response, CHANGE)


def test_change_password_refuses_a_weak_password_or_a_wrong_current_one(
    client: Client, council
) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    page = client.get(CHANGE)
    assert page.status_code == 200
    assert "Change your password" in texts(page)

    before = last_seq()
    weak = client.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"}
    )
    assert weak.status_code == 200
    assert "This password is too short" in texts(weak)

    common = client.post(
        CHANGE,
        {
            "old_password": PASSWORD,
            "new_password1": "password1234",
            "new_password2": "password1234",
        },
    )
    assert common.status_code == 200
    assert "This password is too common" in texts(common)

    wrong = client.post(
        CHANGE,
        {
            "old_password": "not-my-password",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly" in texts(wrong)

    analyst.refresh_from_db()
    assert analyst.check_password(PASSWORD)
    assert "auth.password_changed" not in actions_after(before)


def test_change_password_works_and_is_audited(client: Client, council) -> None:
    analyst = person(council, Role.ANALYST)
    sign_in(client, analyst)
    before = last_seq()
    response = client.post(
        CHANGE,
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response.url == HOME
    event = only(events_after(before, "auth.password_changed"))
    assert event.actor == f"user:{analyst.pk}"
    assert event.organisation == str(council.pk)
    analyst.refresh_from_db()
    assert analyst.check_password(NEW_PASSWORD)
    # This session carries on; the change is confirmed on the next page.
    page = client.get(HOME)
    assert page.status_code == 200
    assert "Your password has been changed" in texts(page)

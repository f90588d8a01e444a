"""Following an invitation link: refused when not valid or for someone else; otherwise sign in
or create an account, and join."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.actor import Actor
from accord.organisations import actions
from accord.organisations.enums import Role
from accord.organisations.models import Invitation, Membership, User

from .helpers import (
    ENROL,
    HOME,
    SIGN_IN,
    acting_for,
    actions_after,
    code_for,
    events_after,
    last_seq,
    only,
    person,
    sign_in,
    signed_in_client,
    signed_in_user_id,
    texts,
)

NOT_VALID = "This invitation link is not valid"
NEW_PASSWORD = "plum-violin-harbour-lantern-7"


def invite(organisation, email: str, *roles: str) -> tuple[Invitation, str]:
    return actions.invite_member(
        by=Actor.system(), organisation=organisation, email=email, roles=list(roles) or ["viewer"]
    )


def link(token: str) -> str:
    return f"/invitations/{token}/"


def _new_account(client: Client, token: str, **overrides: str):
    data = {
        "first_name": "Nia",
        "last_name": "Newcomer",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **overrides,
    }
    return client.post(link(token), data)


# Links that do not work ----------------------------------------------------------------------


def _assert_not_valid(response) -> None:
    assert response.status_code == 404
    text = texts(response)
    assert NOT_VALID in text
    assert "it may have expired, been used or been withdrawn" in text


@pytest.mark.parametrize("state", ["unknown", "expired", "withdrawn", "used"])
def test_a_link_that_does_not_work_is_404_with_the_reason_and_creates_nothing(
    client: Client, council, state: str
) -> None:
    invitation, token = invite(council, "nia@example.org", "analyst")
    if state == "unknown":
        token = token[:-4] + "AAAA"
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif state == "withdrawn":
        actions.revoke_invitation(by=Actor.system(), invitation=invitation)
    else:
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    users = User.objects.count()
    before = last_seq()

    _assert_not_valid(client.get(link(token)))
    _assert_not_valid(_new_account(client, token))
    assert User.objects.count() == users
    assert not Membership.objects.filter(organisation=council).exists()
    assert actions_after(before) == []

    # Signed in as the invited person changes nothing either.
    nia = person(None, email="nia@example.org")
    signed_in = signed_in_client(nia)
    _assert_not_valid(signed_in.post(link(token)))
    assert not Membership.objects.filter(user=nia).exists()


# Signed in as someone else -------------------------------------------------------------------


def test_someone_signed_in_with_another_address_is_told_it_is_for_someone_else(
    council, other_council
) -> None:
    invitation, token = invite(council, "nia@example.org", "organisation_admin")
    intruder = person(other_council, Role.ANALYST)
    client = signed_in_client(intruder)
    before = last_seq()
    for response in (client.get(link(token)), client.post(link(token))):
        assert response.status_code == 200
        text = texts(response)
        assert "This invitation is for someone else" in text
        assert "nia@example.org" in text
    assert not Membership.objects.filter(user=intruder, organisation=council).exists()
    invitation.refresh_from_db()
    assert invitation.is_open
    assert acting_for(client) == str(other_council.pk)
    assert actions_after(before) == []


# Signed in as the invited person -------------------------------------------------------------


def test_the_invited_person_signed_in_accepts_and_acts_for_the_organisation(
    council, other_council
) -> None:
    nia = person(other_council, Role.ANALYST, email="nia@example.org")
    invitation, token = invite(council, "NIA@example.org", "data_officer")
    client = signed_in_client(nia, other_council)

    page = client.get(link(token))
    assert page.status_code == 200
    assert f"Join {council.name}" in texts(page)
    assert "Accept invitation" in texts(page)
    assert not Membership.objects.filter(user=nia, organisation=council).exists()

    before = last_seq()
    response = client.post(link(token))
    assert response.status_code == 302
    assert response.url == HOME
    membership = Membership.objects.get(user=nia, organisation=council)
    assert membership.roles == ["data_officer"]
    assert acting_for(client) == str(council.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_by == nia
    event = only(events_after(before))
    assert event.action == "organisation.invitation.accepted"
    assert event.organisation == str(council.pk)
    assert event.actor == f"user:{nia.pk}"
    assert f"You have joined {council.name}" in texts(client.get(HOME))
    # Used once.
    assert client.get(link(token)).status_code == 404


def test_an_existing_account_signed_out_is_sent_to_sign_in_and_back(council) -> None:
    nia = person(None, email="nia@example.org")
    _, token = invite(council, "nia@example.org", "viewer")
    client = Client()
    page = client.get(link(token))
    assert page.status_code == 200
    text = texts(page)
    assert f"Sign in to join {council.name}" in text
    sign_in_link = f'href="{SIGN_IN}?next={link(token)}"'
    assert sign_in_link in text
    # Nothing can be created for an address that already has an account.
    response = _new_account(client, token)
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="nia@example.org").count() == 1
    assert not Membership.objects.filter(user=nia).exists()

    response = sign_in(client, nia, next_url=link(token))
    assert response.url == link(token)
    response = client.post(link(token))
    assert response.status_code == 302
    assert Membership.objects.filter(user=nia, organisation=council).exists()


# A new person --------------------------------------------------------------------------------


def test_a_new_person_gets_errors_for_a_weak_or_mismatched_password(
    client: Client, council
) -> None:
    invitation, token = invite(council, "nia@example.org", "analyst")
    page = client.get(link(token))
    assert page.status_code == 200
    assert "Create your Accord account for nia@example.org" in texts(page)

    weak = _new_account(client, token, password="kent1234", password_again="kent1234")
    assert weak.status_code == 200
    assert "This password is too short" in texts(weak)

    similar = _new_account(
        client, token, password="nia@example.org", password_again="nia@example.org"
    )
    assert similar.status_code == 200
    assert "govuk-error-summary" in texts(similar)

    mismatched = _new_account(client, token, password_again=NEW_PASSWORD + "x")
    assert mismatched.status_code == 200
    assert "The passwords do not match" in texts(mismatched)

    missing = _new_account(client, token, first_name="")
    assert "Enter your first name" in texts(missing)

    assert not User.objects.filter(email__iexact="nia@example.org").exists()
    assert not Membership.objects.filter(organisation=council).exists()
    invitation.refresh_from_db()
    assert invitation.is_open
    assert signed_in_user_id(client) is None


def test_a_new_person_invited_as_a_viewer_joins_and_is_signed_in(client: Client, council) -> None:
    _, token = invite(council, "nia@example.org", "viewer")
    before = last_seq()
    response = _new_account(client, token)
    assert response.status_code == 302
    assert response.url == HOME
    nia = User.objects.get(email="nia@example.org")
    assert nia.check_password(NEW_PASSWORD)
    assert nia.get_full_name() == "Nia Newcomer"
    assert Membership.objects.get(user=nia).organisation == council
    assert signed_in_user_id(client) == nia.pk
    assert acting_for(client) == str(council.pk)
    assert actions_after(before) == [
        "account.created",
        "organisation.invitation.accepted",
        "auth.signed_in",
    ]
    assert client.get(HOME).status_code == 200
    assert client.get(link(token)).status_code == 404


def test_a_new_person_with_a_data_role_must_enrol_an_authenticator_before_signing_in(
    client: Client, council
) -> None:
    _, token = invite(council, "nia@example.org", "analyst")
    response = _new_account(client, token)
    assert response.status_code == 302
    assert response.url == ENROL
    nia = User.objects.get(email="nia@example.org")
    assert Membership.objects.get(user=nia).roles == ["analyst"]
    # Not signed in until the authenticator is set up.
    assert signed_in_user_id(client) is None
    assert client.get(HOME).status_code == 302

    assert client.get(ENROL).status_code == 200
    device = TOTPDevice.objects.get(user=nia, confirmed=False)
    response = client.post(ENROL, {"code": code_for(device)})
    assert response.status_code == 302
    assert response.url == HOME
    assert signed_in_user_id(client) == nia.pk
    assert council.name in texts(client.get(HOME))


def test_two_invitations_to_the_same_address_join_once(council, other_council) -> None:
    _, first = invite(council, "nia@example.org", "viewer")
    _, second = invite(other_council, "nia@example.org", "viewer")
    client = Client()
    _new_account(client, first)
    nia = User.objects.get(email="nia@example.org")
    # Signed in as Nia, the second link now offers to accept.
    assert "Accept invitation" in texts(client.get(link(second)))
    client.post(link(second))
    assert set(Membership.objects.filter(user=nia).values_list("organisation", flat=True)) == {
        council.pk,
        other_council.pk,
    }


def test_accepting_adds_the_invited_roles_to_an_existing_membership(council) -> None:
    nia = person(council, Role.VIEWER, email="nia@example.org")
    membership = Membership.objects.get(user=nia)
    Membership.objects.filter(pk=membership.pk).update(is_active=False)  # left earlier
    _, token = invite(council, "nia@example.org", "viewer")
    client = signed_in_client(nia)
    client.post(link(token))
    membership.refresh_from_db()
    assert membership.is_active
    assert membership.roles == ["viewer"]

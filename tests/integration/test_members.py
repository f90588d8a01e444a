"""Members, invitations, roles and removal: organisation admins only, and only their own
organisation's people."""

from __future__ import annotations

import json
import re

import pytest
from django.forms.models import model_to_dict
from django.test import Client

from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.organisations import actions
from accord.organisations.enums import Role
from accord.organisations.models import Invitation, Membership

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    join,
    last_seq,
    only,
    person,
    roles_of,
    signed_in_client,
    texts,
)

MEMBERS = "/organisation/members/"
INVITE = "/organisation/members/invite/"


def member_url(membership: Membership) -> str:
    return f"/organisation/members/{membership.pk}/"


def remove_url(membership: Membership) -> str:
    return f"/organisation/members/{membership.pk}/remove/"


def withdraw_url(invitation: Invitation) -> str:
    return f"/organisation/invitations/{invitation.pk}/withdraw/"


@pytest.fixture
def admin(council):
    return person(council, Role.ORGANISATION_ADMIN, first_name="Ada", last_name="Admin")


@pytest.fixture
def analyst(council):
    return person(council, Role.ANALYST, first_name="Ana", last_name="Lyst")


@pytest.fixture
def analyst_membership(analyst, council) -> Membership:
    return Membership.objects.get(user=analyst, organisation=council)


@pytest.fixture
def admin_membership(admin, council) -> Membership:
    return Membership.objects.get(user=admin, organisation=council)


@pytest.fixture
def invitation(council) -> Invitation:
    invitation, _ = actions.invite_member(
        by=Actor.system(), organisation=council, email="new.person@example.org", roles=["viewer"]
    )
    return invitation


def _unchanged(analyst_membership: Membership, invitation: Invitation) -> None:
    analyst_membership.refresh_from_db()
    assert analyst_membership.is_active
    assert analyst_membership.roles == [Role.ANALYST]
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


# Signed out ----------------------------------------------------------------------------------


def test_signed_out_goes_to_sign_in_and_nothing_changes(
    client: Client, analyst_membership, invitation
) -> None:
    before = last_seq()
    for path in (MEMBERS, INVITE, member_url(analyst_membership)):
        assert_redirects_to_sign_in(client.get(path), path)
    for path, data in (
        (INVITE, {"email": "x@example.org", "roles": ["analyst"]}),
        (member_url(analyst_membership), {"roles": ["viewer"]}),
        (remove_url(analyst_membership), {}),
        (withdraw_url(invitation), {}),
    ):
        assert_redirects_to_sign_in(client.post(path, data), path)
    # GET on the POST-only pages also asks to sign in first (it tells nothing about the ids).
    for path in (remove_url(analyst_membership), withdraw_url(invitation)):
        assert_redirects_to_sign_in(client.get(path), path)
    _unchanged(analyst_membership, invitation)
    assert Invitation.objects.count() == 1
    assert actions_after(before) == []


# A member without the organisation admin role ------------------------------------------------


@pytest.mark.parametrize("role", [Role.ANALYST, Role.VIEWER, Role.DPO, Role.DATA_OFFICER])
def test_a_member_who_is_not_an_admin_is_refused_everything(
    council, analyst_membership, invitation, role
) -> None:
    someone = person(council, role)
    client = signed_in_client(someone, council)
    reason = f"Only an organisation admin of {council.name} can see this page."
    before = last_seq()

    for path in (MEMBERS, INVITE, member_url(analyst_membership)):
        assert_forbidden_page(client.get(path), reason=reason)
    assert_forbidden_page(
        client.post(INVITE, {"email": "x@example.org", "roles": ["organisation_admin"]}),
        reason=reason,
    )
    assert_forbidden_page(
        client.post(member_url(analyst_membership), {"roles": ["organisation_admin"]}),
        reason=reason,
    )
    own = Membership.objects.get(user=someone, organisation=council)
    assert_forbidden_page(
        client.post(member_url(own), {"roles": ["organisation_admin"]}), reason=reason
    )
    assert_forbidden_page(client.post(remove_url(analyst_membership)), reason=reason)
    assert_forbidden_page(client.post(withdraw_url(invitation)), reason=reason)

    _unchanged(analyst_membership, invitation)
    assert roles_of(own) == [role]
    refusals = events_after(before, "web.page_refused")
    assert len(refusals) == 8
    assert {e.outcome for e in refusals} == {"refused"}
    assert {e.actor for e in refusals} == {f"user:{someone.pk}"}
    assert all(e.reason == reason for e in refusals)
    assert refusals[0].target == f"path:{MEMBERS}"
    assert Invitation.objects.count() == 1
    assert [a for a in actions_after(before) if a.startswith("organisation.")] == []


def test_an_admin_elsewhere_acting_for_an_organisation_where_they_are_not_admin_is_refused(
    council, other_council, analyst_membership
) -> None:
    admin_there = person(other_council, Role.ORGANISATION_ADMIN)
    join(admin_there, council, Role.VIEWER)
    client = signed_in_client(admin_there, council)
    assert_forbidden_page(client.get(MEMBERS))
    assert_forbidden_page(client.post(remove_url(analyst_membership)))
    analyst_membership.refresh_from_db()
    assert analyst_membership.is_active


def test_someone_in_no_organisation_is_refused(council) -> None:
    loner = person(None)
    client = signed_in_client(loner)
    assert_forbidden_page(
        client.get(MEMBERS), reason="You are not a member of any organisation on Accord yet."
    )


# An admin of another organisation using this organisation's ids ------------------------------


def test_an_admin_of_another_organisation_gets_404_for_this_ones_ids_and_nothing_changes(
    council, other_council, admin_membership, analyst_membership, invitation
) -> None:
    admin_there = person(other_council, Role.ORGANISATION_ADMIN)
    client = signed_in_client(admin_there, other_council)
    before = last_seq()

    for target in (analyst_membership, admin_membership):
        assert_not_found_page(client.get(member_url(target)))
        assert_not_found_page(client.post(member_url(target), {"roles": ["viewer"]}))
        assert_not_found_page(client.post(remove_url(target)))
    assert_not_found_page(client.post(withdraw_url(invitation)))

    _unchanged(analyst_membership, invitation)
    admin_membership.refresh_from_db()
    assert admin_membership.is_active
    assert admin_membership.roles == [Role.ORGANISATION_ADMIN]
    assert actions_after(before) == []

    # Their own members page lists none of this organisation's people or invitations.
    page = texts(client.get(MEMBERS))
    assert analyst_membership.user.email not in page
    assert invitation.email not in page
    assert council.name not in page


def test_an_admin_of_both_organisations_must_act_for_the_right_one(
    council, other_council, analyst_membership
) -> None:
    admin_both = person(other_council, Role.ORGANISATION_ADMIN)
    join(admin_both, council, Role.ORGANISATION_ADMIN)
    client = signed_in_client(admin_both, other_council)
    assert_not_found_page(client.post(remove_url(analyst_membership)))
    analyst_membership.refresh_from_db()
    assert analyst_membership.is_active


# The admin -----------------------------------------------------------------------------------


def test_the_members_page_lists_members_and_open_invitations(
    council, other_council, admin, analyst, invitation
) -> None:
    outsider = person(other_council, Role.ANALYST)
    left = person(council, Role.ANALYST)
    Membership.objects.filter(user=left).update(is_active=False)
    withdrawn, _ = actions.invite_member(
        by=Actor.system(), organisation=council, email="withdrawn@example.org", roles=["viewer"]
    )
    actions.revoke_invitation(by=Actor.system(), invitation=withdrawn)

    client = signed_in_client(admin, council)
    response = client.get(MEMBERS)
    assert response.status_code == 200
    page = texts(response)
    assert f"Members of {council.name}" in page
    assert admin.email in page
    assert analyst.email in page
    assert invitation.email in page
    assert outsider.email not in page
    assert left.email not in page
    assert withdrawn.email not in page


def test_an_admin_invites_someone_and_an_email_with_a_working_link_is_sent(
    council, admin, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    client = signed_in_client(admin, council)
    assert client.get(INVITE).status_code == 200
    before = last_seq()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            INVITE, {"email": "New.Colleague@Example.org", "roles": ["analyst", "viewer"]}
        )
    assert response.status_code == 302
    assert response.url == MEMBERS
    invitation = Invitation.objects.get(organisation=council)
    assert invitation.email == "new.colleague@example.org"
    assert invitation.roles == ["analyst", "viewer"]
    assert invitation.invited_by == admin
    event = only(events_after(before))
    assert event.action == "organisation.invitation.sent"
    assert event.actor == f"user:{admin.pk}"
    assert event.organisation == str(council.pk)
    assert event.subject_organisation == str(council.pk)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["new.colleague@example.org"]
    found = re.search(r"https?://[^/\s]+(/invitations/[^/\s]+/)", mailoutbox[0].body)
    assert found is not None
    page = Client().get(found.group(1))
    assert page.status_code == 200
    assert f"Join {council.name}" in texts(page)
    members_page = texts(client.get(MEMBERS))
    assert "Invitation sent to New.Colleague@Example.org" in members_page

    # The secret token is only in the email: not on the page, not in the audit log.
    token = found.group(1).split("/")[2]
    assert token not in members_page
    assert invitation.token_hash != token
    for logged in AuditEvent.objects.all():
        assert token not in json.dumps(model_to_dict(logged), default=str)


def test_inviting_an_existing_member_is_a_form_error(council, admin, analyst) -> None:
    client = signed_in_client(admin, council)
    before = last_seq()
    response = client.post(INVITE, {"email": analyst.email.upper(), "roles": ["viewer"]})
    assert response.status_code == 200
    assert "is already a member of" in texts(response)
    assert not Invitation.objects.exists()
    assert "organisation.invitation.sent" not in actions_after(before)


def test_invite_form_errors(council, admin) -> None:
    client = signed_in_client(admin, council)
    for data, message in (
        ({"email": "", "roles": ["viewer"]}, "Enter the email address of the person to invite"),
        ({"email": "not-an-email", "roles": ["viewer"]}, "Enter an email address in the correct"),
        ({"email": "x@example.org"}, "Select at least one role"),
        ({"email": "x@example.org", "roles": ["superuser"]}, "Select a valid choice"),
    ):
        response = client.post(INVITE, data)
        assert response.status_code == 200
        assert message in texts(response), data
    assert not Invitation.objects.exists()


def test_an_admin_changes_roles(council, admin, analyst_membership) -> None:
    client = signed_in_client(admin, council)
    page = client.get(member_url(analyst_membership))
    assert page.status_code == 200
    assert "Roles of Ana Lyst" in texts(page)
    before = last_seq()
    response = client.post(member_url(analyst_membership), {"roles": ["viewer", "dpo"]})
    assert response.status_code == 302
    assert response.url == MEMBERS
    assert roles_of(analyst_membership) == ["viewer", "dpo"]
    event = only(events_after(before))
    assert event.action == "organisation.member.roles_changed"
    assert event.subject_organisation == str(council.pk)
    assert event.details["before"] == ["analyst"]
    assert event.details["after"] == ["viewer", "dpo"]


def test_an_admin_removes_a_member_who_then_loses_access(
    council, admin, analyst, analyst_membership
) -> None:
    analyst_client = signed_in_client(analyst, council)
    assert analyst_client.get("/").status_code == 200

    client = signed_in_client(admin, council)
    before = last_seq()
    response = client.post(remove_url(analyst_membership))
    assert response.status_code == 302
    assert response.url == MEMBERS
    analyst_membership.refresh_from_db()
    assert not analyst_membership.is_active
    event = only(events_after(before))
    assert event.action == "organisation.member.removed"
    assert event.subject_organisation == str(council.pk)
    assert event.details == {"member": analyst.email}
    assert "has been removed from" in texts(client.get(MEMBERS))

    # Removed members are not listed and cannot be changed again.
    assert analyst.email not in texts(client.get(MEMBERS))
    assert_not_found_page(client.get(member_url(analyst_membership)))
    # The removed person no longer acts for the organisation.
    page = texts(analyst_client.get("/"))
    assert "You are not a member of any organisation yet" in page


def test_an_admin_withdraws_an_invitation_and_its_link_stops_working(council, admin) -> None:
    invitation, token = actions.invite_member(
        by=Actor.system(), organisation=council, email="someone@example.org", roles=["viewer"]
    )
    client = signed_in_client(admin, council)
    before = last_seq()
    response = client.post(withdraw_url(invitation))
    assert response.status_code == 302
    assert response.url == MEMBERS
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    event = only(events_after(before))
    assert event.action == "organisation.invitation.revoked"
    assert event.subject_organisation == str(council.pk)
    assert Client().get(f"/invitations/{token}/").status_code == 404


def test_post_only_pages_refuse_get(council, admin, analyst_membership, invitation) -> None:
    client = signed_in_client(admin, council)
    assert client.get(remove_url(analyst_membership)).status_code == 405
    assert client.get(withdraw_url(invitation)).status_code == 405
    _unchanged(analyst_membership, invitation)


def test_unknown_ids_are_404(council, admin) -> None:
    client = signed_in_client(admin, council)
    assert_not_found_page(client.get("/organisation/members/999999/"))
    assert_not_found_page(client.post("/organisation/members/999999/remove/"))
    assert_not_found_page(client.post("/organisation/invitations/999999/withdraw/"))


# Keeping at least one organisation admin -----------------------------------------------------


def test_removing_the_last_admin_is_refused_with_a_message_and_audited(
    council, admin, admin_membership
) -> None:
    client = signed_in_client(admin, council)
    before = last_seq()
    response = client.post(remove_url(admin_membership))
    assert response.status_code == 302
    assert response.url == MEMBERS
    admin_membership.refresh_from_db()
    assert admin_membership.is_active
    page = texts(client.get(MEMBERS))
    assert f"{council.name} must keep at least one organisation admin" in page
    event = only(events_after(before))
    assert event.action == "organisation.member.removed"
    assert event.outcome == "refused"
    assert "must keep at least one organisation admin" in event.reason
    assert event.target == f"membership:{admin_membership.pk}"
    assert event.organisation == str(council.pk)


def test_demoting_the_last_admin_is_refused_with_a_message_and_audited(
    council, admin, admin_membership
) -> None:
    client = signed_in_client(admin, council)
    before = last_seq()
    response = client.post(member_url(admin_membership), {"roles": ["analyst"]})
    assert response.status_code == 200
    assert f"{council.name} must keep at least one organisation admin" in texts(response)
    assert roles_of(admin_membership) == [Role.ORGANISATION_ADMIN]
    event = only(events_after(before))
    assert event.action == "organisation.member.roles_changed"
    assert event.outcome == "refused"
    assert event.organisation == str(council.pk)


def test_with_two_admins_one_may_step_down(council, admin, admin_membership) -> None:
    second = person(council, Role.ORGANISATION_ADMIN)
    client = signed_in_client(admin, council)
    response = client.post(member_url(admin_membership), {"roles": ["analyst"]})
    assert response.status_code == 302
    assert roles_of(admin_membership) == ["analyst"]
    # Now no longer an admin, the next page refuses them; the other admin is the last one.
    assert_forbidden_page(client.get(MEMBERS))
    second_client = signed_in_client(second, council)
    second_membership = Membership.objects.get(user=second, organisation=council)
    second_client.post(remove_url(second_membership))
    second_membership.refresh_from_db()
    assert second_membership.is_active


def test_withdrawing_an_invitation_twice_changes_nothing_the_second_time(
    council, admin, invitation
) -> None:
    client = signed_in_client(admin, council)
    client.post(withdraw_url(invitation))
    invitation.refresh_from_db()
    withdrawn_at = invitation.revoked_at
    assert withdrawn_at is not None
    before = last_seq()
    assert_not_found_page(client.post(withdraw_url(invitation)))
    invitation.refresh_from_db()
    assert invitation.revoked_at == withdrawn_at
    assert actions_after(before) == []

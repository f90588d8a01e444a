"""Writes about organisations, members and invitations: every permit and every refusal, with the
audit event each one leaves."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from accord.audit.actor import Actor
from accord.audit.models import AuditEvent
from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from accord.organisations.exceptions import InvitationInvalid, NotPermitted
from accord.organisations.models import Invitation, Membership, Organisation, User
from accord.organisations.queries import is_admin_of
from tests.factories import PASSWORD, InvitationFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

Events = Callable[[], list[AuditEvent]]
SYSTEM = Actor.system("test set-up")


def _only(events: list[AuditEvent]) -> AuditEvent:
    assert len(events) == 1, [(e.action, e.outcome) for e in events]
    return events[0]


def _assert_refused(events: Events, action: str, *, target: str = "") -> AuditEvent:
    event = _only(events())
    assert (event.action, event.outcome) == (action, "refused")
    assert event.target == target
    assert event.reason
    return event


def _invite(
    admin: Actor, organisation: Organisation, email: str = "invitee@example.org", roles=None
) -> tuple[Invitation, str]:
    return actions.invite_member(
        by=admin, organisation=organisation, email=email, roles=roles or [Role.ANALYST.value]
    )


# create_organisation ----------------------------------------------------------------------------


def test_the_system_creates_an_organisation(new_events: Events) -> None:
    organisation = actions.create_organisation(
        by=SYSTEM,
        name="Cherwell Test Council",
        sector=Sector.DISTRICT_COUNCIL.value,
        gss_code="e07000177",
        ico_registration="z1234567",
    )
    organisation.refresh_from_db()
    assert organisation.gss_code == "E07000177"
    assert organisation.ico_registration == "Z1234567"
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.created", "success")
    assert event.target == f"organisation:{organisation.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.actor == "system"
    assert event.details == {
        "name": "Cherwell Test Council",
        "sector": "district_council",
        "gss_code": "E07000177",
    }


def test_platform_staff_create_an_organisation(staff: Actor, new_events: Events) -> None:
    organisation = actions.create_organisation(
        by=staff, name="A Test Trust", sector=Sector.NHS_TRUST.value, ods_code="rxx"
    )
    assert Organisation.objects.get(pk=organisation.pk).ods_code == "RXX"
    event = _only(new_events())
    assert event.action == "organisation.created"
    assert event.actor == staff.ref


def test_a_person_cannot_create_an_organisation_and_the_refusal_survives_the_rollback(
    admin: Actor, new_events: Events
) -> None:
    before = Organisation.objects.count()
    with pytest.raises(NotPermitted, match="Only platform staff"):
        actions.create_organisation(
            by=admin, name="Rogue Council", sector=Sector.DISTRICT_COUNCIL.value
        )
    assert Organisation.objects.count() == before
    assert not Organisation.objects.filter(name="Rogue Council").exists()
    event = _assert_refused(new_events, "organisation.created")
    assert event.actor == admin.ref
    assert event.reason == "Only platform staff can create organisations."


def test_an_invalid_organisation_is_not_created_and_nothing_is_audited(
    new_events: Events,
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        actions.create_organisation(
            by=SYSTEM, name="Wrong Code Council", sector="london_borough", gss_code="E07000177"
        )
    assert "gss_code" in excinfo.value.error_dict
    assert not Organisation.objects.filter(name="Wrong Code Council").exists()
    assert new_events() == []


def test_anonymous_and_task_actors_cannot_create_organisations(new_events: Events) -> None:
    for actor in (Actor.anonymous("someone"), Actor.task("retention")):
        with pytest.raises(NotPermitted):
            actions.create_organisation(by=actor, name="Nope", sector="police")
    assert not Organisation.objects.filter(name="Nope").exists()
    assert [e.outcome for e in new_events()] == ["refused", "refused"]


def test_actions_need_an_actor() -> None:
    with pytest.raises(TypeError, match="by=Actor"):
        actions.create_organisation(by=None, name="X", sector="police")  # type: ignore[arg-type]


# add_member ------------------------------------------------------------------------------------


def test_an_admin_adds_a_member(
    admin: Actor, organisation: Organisation, outsider: User, new_events: Events
) -> None:
    membership = actions.add_member(
        by=admin,
        organisation=organisation,
        user=outsider,
        roles=[Role.VIEWER.value, Role.ANALYST.value, Role.ANALYST.value],
    )
    membership.refresh_from_db()
    assert membership.roles == ["analyst", "viewer"]  # deduplicated, in role order
    assert membership.is_active
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.member.added", "success")
    assert event.target == f"membership:{membership.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.organisation == str(organisation.pk)  # the admin acts for it
    assert event.details == {"member": outsider.email, "roles": ["analyst", "viewer"]}


def test_an_admin_of_another_organisation_cannot_add_members(
    other_admin: Actor, organisation: Organisation, outsider: User, new_events: Events
) -> None:
    with pytest.raises(NotPermitted, match=organisation.name):
        actions.add_member(
            by=other_admin, organisation=organisation, user=outsider, roles=[Role.VIEWER]
        )
    assert not Membership.objects.filter(user=outsider).exists()
    _assert_refused(
        new_events, "organisation.member.added", target=f"organisation:{organisation.pk}"
    )


def test_a_member_who_is_not_an_admin_cannot_add_members(
    analyst_membership: Membership, organisation: Organisation, outsider: User, new_events: Events
) -> None:
    analyst = actor_for(analyst_membership.user, analyst_membership)
    with pytest.raises(NotPermitted):
        actions.add_member(by=analyst, organisation=organisation, user=outsider, roles=["viewer"])
    assert not Membership.objects.filter(user=outsider).exists()
    _assert_refused(
        new_events, "organisation.member.added", target=f"organisation:{organisation.pk}"
    )


def test_a_removed_admin_cannot_add_members(
    admin_membership: Membership, admin: Actor, organisation: Organisation, outsider: User
) -> None:
    admin_membership.is_active = False
    admin_membership.save()
    with pytest.raises(NotPermitted):
        actions.add_member(by=admin, organisation=organisation, user=outsider, roles=["viewer"])


def test_an_admin_of_an_inactive_organisation_cannot_add_members(
    admin: Actor, organisation: Organisation, outsider: User
) -> None:
    organisation.is_active = False
    organisation.save()
    with pytest.raises(NotPermitted):
        actions.add_member(by=admin, organisation=organisation, user=outsider, roles=["viewer"])


def test_system_and_staff_may_add_members(
    staff: Actor, organisation: Organisation, outsider: User
) -> None:
    actions.add_member(by=SYSTEM, organisation=organisation, user=outsider, roles=["viewer"])
    second = UserFactory()
    actions.add_member(by=staff, organisation=organisation, user=second, roles=["analyst"])
    assert Membership.objects.filter(organisation=organisation, user=second).exists()


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        (["analyst", "overlord"], "Unknown role: overlord."),
        ([], "Choose at least one role."),
    ],
)
def test_add_member_rejects_unknown_or_no_roles(
    admin: Actor,
    organisation: Organisation,
    outsider: User,
    new_events: Events,
    roles: list[str],
    message: str,
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        actions.add_member(by=admin, organisation=organisation, user=outsider, roles=roles)
    assert excinfo.value.messages == [message]
    assert not Membership.objects.filter(user=outsider).exists()
    assert new_events() == []


def test_adding_an_existing_member_merges_roles(
    admin: Actor, analyst_membership: Membership, organisation: Organisation
) -> None:
    membership = actions.add_member(
        by=admin, organisation=organisation, user=analyst_membership.user, roles=["dpo"]
    )
    assert membership.pk == analyst_membership.pk
    membership.refresh_from_db()
    assert membership.roles == ["analyst", "dpo"]


def test_re_adding_a_removed_member_does_not_restore_their_old_roles(
    admin: Actor, organisation: Organisation, outsider: User
) -> None:
    old = MembershipFactory(
        organisation=organisation, user=outsider, roles=["organisation_admin"], is_active=False
    )
    membership = actions.add_member(
        by=admin, organisation=organisation, user=outsider, roles=["viewer"]
    )
    assert membership.pk == old.pk
    membership.refresh_from_db()
    assert membership.is_active
    assert membership.roles == ["viewer"]


# change_roles ----------------------------------------------------------------------------------


def test_an_admin_changes_a_members_roles(
    admin: Actor, analyst_membership: Membership, organisation: Organisation, new_events: Events
) -> None:
    actions.change_roles(by=admin, membership=analyst_membership, roles=["viewer", "dpo"])
    analyst_membership.refresh_from_db()
    assert analyst_membership.roles == ["viewer", "dpo"]
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.member.roles_changed", "success")
    assert event.target == f"membership:{analyst_membership.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.details == {
        "member": analyst_membership.user.email,
        "before": ["analyst"],
        "after": ["viewer", "dpo"],
    }


def test_the_last_admin_cannot_be_demoted(
    admin: Actor, admin_membership: Membership, new_events: Events
) -> None:
    with pytest.raises(NotPermitted, match="at least one organisation admin"):
        actions.change_roles(by=admin, membership=admin_membership, roles=["analyst"])
    admin_membership.refresh_from_db()
    assert admin_membership.roles == ["organisation_admin"]
    _assert_refused(
        new_events,
        "organisation.member.roles_changed",
        target=f"membership:{admin_membership.pk}",
    )


def test_the_last_admin_may_keep_admin_and_gain_roles(
    admin: Actor, admin_membership: Membership
) -> None:
    actions.change_roles(by=admin, membership=admin_membership, roles=["organisation_admin", "dpo"])
    admin_membership.refresh_from_db()
    assert admin_membership.roles == ["organisation_admin", "dpo"]


def test_an_admin_can_be_demoted_when_another_remains(
    admin: Actor, admin_membership: Membership, analyst_membership: Membership
) -> None:
    actions.change_roles(
        by=admin, membership=analyst_membership, roles=["organisation_admin", "analyst"]
    )
    actions.change_roles(by=admin, membership=admin_membership, roles=["viewer"])
    admin_membership.refresh_from_db()
    assert admin_membership.roles == ["viewer"]
    assert not is_admin_of(admin.user_id, admin_membership.organisation)


def test_a_removed_admin_does_not_count_as_the_other_admin(
    admin: Actor, admin_membership: Membership, organisation: Organisation
) -> None:
    MembershipFactory(organisation=organisation, roles=["organisation_admin"], is_active=False)
    with pytest.raises(NotPermitted):
        actions.change_roles(by=admin, membership=admin_membership, roles=["viewer"])


def test_an_admin_of_another_organisation_cannot_change_roles(
    other_admin: Actor, analyst_membership: Membership, new_events: Events
) -> None:
    with pytest.raises(NotPermitted):
        actions.change_roles(by=other_admin, membership=analyst_membership, roles=["dpo"])
    analyst_membership.refresh_from_db()
    assert analyst_membership.roles == ["analyst"]
    _assert_refused(
        new_events,
        "organisation.member.roles_changed",
        target=f"organisation:{analyst_membership.organisation_id}",
    )


def test_change_roles_rejects_unknown_roles(
    admin: Actor, analyst_membership: Membership, new_events: Events
) -> None:
    with pytest.raises(ValidationError, match="Unknown role: root"):
        actions.change_roles(by=admin, membership=analyst_membership, roles=["root"])
    analyst_membership.refresh_from_db()
    assert analyst_membership.roles == ["analyst"]
    assert new_events() == []


# remove_member ---------------------------------------------------------------------------------


def test_an_admin_removes_a_member(
    admin: Actor, analyst_membership: Membership, organisation: Organisation, new_events: Events
) -> None:
    actions.remove_member(by=admin, membership=analyst_membership)
    analyst_membership.refresh_from_db()
    assert not analyst_membership.is_active
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.member.removed", "success")
    assert event.target == f"membership:{analyst_membership.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.details == {"member": analyst_membership.user.email}


def test_the_last_admin_cannot_be_removed(
    admin: Actor, admin_membership: Membership, new_events: Events
) -> None:
    with pytest.raises(NotPermitted, match="at least one organisation admin"):
        actions.remove_member(by=admin, membership=admin_membership)
    admin_membership.refresh_from_db()
    assert admin_membership.is_active
    _assert_refused(
        new_events, "organisation.member.removed", target=f"membership:{admin_membership.pk}"
    )


def test_an_admin_can_be_removed_when_another_remains(
    admin: Actor, admin_membership: Membership, organisation: Organisation
) -> None:
    second = MembershipFactory(organisation=organisation, roles=["organisation_admin"])
    actions.remove_member(by=admin, membership=second)
    second.refresh_from_db()
    assert not second.is_active
    with pytest.raises(NotPermitted):  # now admin_membership is the last one
        actions.remove_member(by=admin, membership=admin_membership)


def test_an_admin_of_another_organisation_cannot_remove_members(
    other_admin: Actor, analyst_membership: Membership, new_events: Events
) -> None:
    with pytest.raises(NotPermitted):
        actions.remove_member(by=other_admin, membership=analyst_membership)
    analyst_membership.refresh_from_db()
    assert analyst_membership.is_active
    _assert_refused(
        new_events,
        "organisation.member.removed",
        target=f"organisation:{analyst_membership.organisation_id}",
    )


# invite_member ---------------------------------------------------------------------------------


def test_an_admin_invites_someone_and_only_the_tokens_hash_is_stored(
    admin: Actor, organisation: Organisation, new_events: Events, django_capture_on_commit_callbacks
) -> None:
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = actions.invite_member(
            by=admin,
            organisation=organisation,
            email="  New.Person@Example.ORG ",
            roles=["viewer", "analyst"],
        )
    after = timezone.now()
    invitation.refresh_from_db()
    assert invitation.email == "new.person@example.org"
    assert invitation.roles == ["analyst", "viewer"]
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 32
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in [str(value) for value in stored.values()]
    assert invitation.invited_by_id == admin.user_id
    days = timedelta(days=settings.INVITATION_DAYS)
    assert before + days <= invitation.expires_at <= after + days
    assert invitation.is_open

    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.invitation.sent", "success")
    assert event.target == f"invitation:{invitation.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.details == {"email": "new.person@example.org", "roles": ["analyst", "viewer"]}
    assert token not in str(event.details)

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["new.person@example.org"]
    assert organisation.name in message.subject
    link = settings.SITE_URL + reverse("web:invitation", args=[token])
    assert link in message.body
    assert organisation.name in message.body
    assert f"{settings.INVITATION_DAYS} days" in message.body
    assert "Your roles will be: Analyst, Viewer." in message.body
    assert f"{admin.label} has invited you" in message.body


def test_the_invitation_email_is_sent_only_when_the_transaction_commits(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _invite(admin, organisation)
    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_two_invitations_get_different_tokens(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first, first_token = _invite(admin, organisation, "a@example.org")
        second, second_token = _invite(admin, organisation, "b@example.org")
    assert first_token != second_token
    assert first.token_hash != second.token_hash


def test_an_existing_member_cannot_be_invited(
    admin: Actor,
    analyst_membership: Membership,
    organisation: Organisation,
    new_events: Events,
    django_capture_on_commit_callbacks,
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValidationError, match="already a member"),
    ):
        _invite(admin, organisation, analyst_membership.user.email.upper())
    assert callbacks == []
    assert mail.outbox == []
    assert not Invitation.objects.exists()
    assert new_events() == []


def test_a_removed_member_can_be_invited_back(
    admin: Actor,
    analyst_membership: Membership,
    organisation: Organisation,
    django_capture_on_commit_callbacks,
) -> None:
    analyst_membership.is_active = False
    analyst_membership.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation, _ = _invite(admin, organisation, analyst_membership.user.email)
    assert invitation.is_open


def test_a_non_admin_cannot_invite_and_no_email_is_sent(
    other_admin: Actor,
    organisation: Organisation,
    new_events: Events,
    django_capture_on_commit_callbacks,
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(NotPermitted),
    ):
        _invite(other_admin, organisation)
    assert callbacks == []
    assert mail.outbox == []
    assert not Invitation.objects.exists()
    _assert_refused(
        new_events, "organisation.invitation.sent", target=f"organisation:{organisation.pk}"
    )


def test_invite_member_rejects_unknown_roles(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        _invite(admin, organisation, roles=["superuser"])
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_invite_member_rejects_a_malformed_email_address(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ValidationError):
        actions.invite_member(
            by=admin, organisation=organisation, email="not an address", roles=["viewer"]
        )
    assert not Invitation.objects.exists()
    assert mail.outbox == []


# revoke_invitation and find_open_invitation ---------------------------------------------------


def test_an_admin_revokes_an_invitation(
    admin: Actor, organisation: Organisation, new_events: Events
) -> None:
    invitation = InvitationFactory(organisation=organisation)
    actions.revoke_invitation(by=admin, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert not invitation.is_open
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.invitation.revoked", "success")
    assert event.target == f"invitation:{invitation.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.details == {"email": invitation.email}


def test_an_admin_of_another_organisation_cannot_revoke_an_invitation(
    other_admin: Actor, organisation: Organisation, new_events: Events
) -> None:
    invitation = InvitationFactory(organisation=organisation)
    with pytest.raises(NotPermitted):
        actions.revoke_invitation(by=other_admin, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
    _assert_refused(
        new_events, "organisation.invitation.revoked", target=f"organisation:{organisation.pk}"
    )


def test_find_open_invitation_finds_an_invitation_by_its_token(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = _invite(admin, organisation)
    assert actions.find_open_invitation(token) == invitation


@pytest.mark.parametrize(
    "change",
    [
        {"expires_at": timezone.now() - timedelta(minutes=1)},
        {"accepted_at": timezone.now()},
        {"revoked_at": timezone.now()},
    ],
    ids=["expired", "accepted", "revoked"],
)
def test_find_open_invitation_refuses_closed_invitations(
    admin: Actor, organisation: Organisation, change: dict, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        invitation, token = _invite(admin, organisation)
    Invitation.objects.filter(pk=invitation.pk).update(**change)
    with pytest.raises(InvitationInvalid, match="not valid"):
        actions.find_open_invitation(token)


@pytest.mark.parametrize("token", ["", "made-up-token", "0" * 64])
def test_find_open_invitation_refuses_unknown_tokens(token: str) -> None:
    InvitationFactory(token_hash="0" * 64)  # the stored hash is not a token
    with pytest.raises(InvitationInvalid):
        actions.find_open_invitation(token)


# accept_invitation -----------------------------------------------------------------------------


@pytest.fixture
def invited(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> tuple[Invitation, str]:
    with django_capture_on_commit_callbacks(execute=True):
        return _invite(admin, organisation, "invitee@example.org", ["analyst"])


def test_the_invited_person_accepts(
    invited: tuple[Invitation, str], organisation: Organisation, new_events: Events
) -> None:
    invitation, token = invited
    user = UserFactory(email="Invitee@Example.org")
    membership = actions.accept_invitation(by=actor_for(user), token=token)
    membership.refresh_from_db()
    assert (membership.user, membership.organisation) == (user, organisation)
    assert membership.roles == ["analyst"]
    assert membership.is_active
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None
    assert not invitation.is_open

    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.invitation.accepted", "success")
    assert event.target == f"invitation:{invitation.pk}"
    assert event.organisation == str(organisation.pk)  # the person now acts for it
    assert event.organisation_name == organisation.name
    assert event.actor == f"user:{user.pk}"
    assert event.details == {"email": "invitee@example.org", "roles": ["analyst"]}


def test_an_invitation_can_be_used_once(invited: tuple[Invitation, str]) -> None:
    _, token = invited
    user = UserFactory(email="invitee@example.org")
    actions.accept_invitation(by=actor_for(user), token=token)
    with pytest.raises(InvitationInvalid):
        actions.accept_invitation(by=actor_for(user), token=token)


def test_someone_else_cannot_accept_an_invitation(
    invited: tuple[Invitation, str], new_events: Events
) -> None:
    invitation, token = invited
    intruder = UserFactory(email="intruder@example.org")
    with pytest.raises(InvitationInvalid, match="different email address"):
        actions.accept_invitation(by=actor_for(intruder), token=token)
    assert not Membership.objects.filter(user=intruder).exists()
    invitation.refresh_from_db()
    assert invitation.is_open
    _assert_refused(
        new_events, "organisation.invitation.accepted", target=f"invitation:{invitation.pk}"
    )


def test_an_expired_invitation_cannot_be_accepted(
    invited: tuple[Invitation, str], new_events: Events
) -> None:
    invitation, token = invited
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    user = UserFactory(email="invitee@example.org")
    with pytest.raises(InvitationInvalid):
        actions.accept_invitation(by=actor_for(user), token=token)
    assert not Membership.objects.filter(user=user).exists()
    _assert_refused(new_events, "organisation.invitation.accepted")


def test_a_revoked_invitation_cannot_be_accepted(
    admin: Actor, invited: tuple[Invitation, str]
) -> None:
    invitation, token = invited
    actions.revoke_invitation(by=admin, invitation=invitation)
    user = UserFactory(email="invitee@example.org")
    with pytest.raises(InvitationInvalid):
        actions.accept_invitation(by=actor_for(user), token=token)


def test_someone_not_signed_in_cannot_accept(
    invited: tuple[Invitation, str], new_events: Events
) -> None:
    _, token = invited
    with pytest.raises(NotPermitted, match="Sign in"):
        actions.accept_invitation(by=Actor.anonymous("invitee@example.org"), token=token)
    assert (
        not Membership.objects.filter(organisation=invited[0].organisation_id)
        .exclude(roles=["organisation_admin"])
        .exists()
    )
    _assert_refused(new_events, "organisation.invitation.accepted")


def test_accepting_as_an_existing_member_merges_roles(
    admin: Actor, invited: tuple[Invitation, str], organisation: Organisation
) -> None:
    # Invited as an analyst, then added as a viewer before following the link.
    _, token = invited
    user = UserFactory(email="invitee@example.org")
    added = actions.add_member(by=admin, organisation=organisation, user=user, roles=["viewer"])
    membership = actions.accept_invitation(by=actor_for(user), token=token)
    assert membership.pk == added.pk
    membership.refresh_from_db()
    assert membership.is_active
    assert membership.roles == ["analyst", "viewer"]
    assert Membership.objects.filter(user=user).count() == 1


def test_a_removed_admin_invited_back_as_viewer_is_only_a_viewer(
    admin: Actor, organisation: Organisation, django_capture_on_commit_callbacks
) -> None:
    former = MembershipFactory(
        organisation=organisation,
        user=UserFactory(email="former.admin@example.org"),
        roles=["organisation_admin"],
    )
    actions.remove_member(by=admin, membership=former)
    with django_capture_on_commit_callbacks(execute=True):
        _, token = _invite(admin, organisation, "former.admin@example.org", ["viewer"])
    membership = actions.accept_invitation(by=actor_for(former.user), token=token)
    membership.refresh_from_db()
    assert membership.roles == ["viewer"]
    assert not is_admin_of(former.user_id, organisation)


# create_account_from_invitation ------------------------------------------------------------------


def test_an_invited_person_creates_an_account(
    invited: tuple[Invitation, str], organisation: Organisation, new_events: Events
) -> None:
    invitation, token = invited
    user = actions.create_account_from_invitation(
        by=Actor.anonymous(invitation.email),
        token=token,
        first_name="  Nia ",
        last_name=" Jones ",
        password=PASSWORD,
    )
    user.refresh_from_db()
    assert (user.email, user.username) == ("invitee@example.org", "invitee@example.org")
    assert (user.first_name, user.last_name) == ("Nia", "Jones")
    assert user.check_password(PASSWORD)
    assert not user.is_staff
    # Joining is a separate step (accept_invitation); the invitation is still open for it.
    assert not Membership.objects.filter(user=user).exists()
    invitation.refresh_from_db()
    assert invitation.is_open

    event = _only(new_events())
    assert (event.action, event.outcome) == ("account.created", "success")
    assert event.target == f"user:{user.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.actor == "anonymous"
    assert event.details == {"email": "invitee@example.org", "via": "invitation"}


@pytest.mark.parametrize(
    "password",
    ["short1!", "password1234", "123456789012345", "invitee@example.org"],
    ids=["too-short", "common", "numeric", "like-the-email"],
)
def test_a_weak_password_creates_no_account(
    invited: tuple[Invitation, str], new_events: Events, password: str
) -> None:
    invitation, token = invited
    with pytest.raises(ValidationError):
        actions.create_account_from_invitation(
            by=Actor.anonymous(invitation.email),
            token=token,
            first_name="Nia",
            last_name="Jones",
            password=password,
        )
    assert not User.objects.filter(email__iexact=invitation.email).exists()
    assert new_events() == []


def test_an_existing_account_is_refused(
    invited: tuple[Invitation, str], new_events: Events
) -> None:
    invitation, token = invited
    UserFactory(email="INVITEE@example.org")
    with pytest.raises(InvitationInvalid, match="already an account"):
        actions.create_account_from_invitation(
            by=Actor.anonymous(invitation.email),
            token=token,
            first_name="Nia",
            last_name="Jones",
            password=PASSWORD,
        )
    assert User.objects.filter(email__iexact=invitation.email).count() == 1
    _assert_refused(new_events, "account.created")


def test_an_account_cannot_be_created_from_a_bad_token(new_events: Events) -> None:
    with pytest.raises(InvitationInvalid):
        actions.create_account_from_invitation(
            by=Actor.anonymous(), token="nope", first_name="A", last_name="B", password=PASSWORD
        )
    _assert_refused(new_events, "account.created")


# switch_organisation ---------------------------------------------------------------------------


def test_a_member_switches_organisation(
    analyst_membership: Membership, other_organisation: Organisation, new_events: Events
) -> None:
    user = analyst_membership.user
    second = MembershipFactory(user=user, organisation=other_organisation, roles=["viewer"])
    result = actions.switch_organisation(by=actor_for(user, analyst_membership), membership=second)
    assert result == second
    event = _only(new_events())
    assert (event.action, event.outcome) == ("organisation.switched", "success")
    assert event.target == f"organisation:{other_organisation.pk}"
    assert event.organisation == str(other_organisation.pk)
    assert event.organisation_name == other_organisation.name


def test_a_person_cannot_switch_to_someone_elses_membership(
    admin_membership: Membership, outsider: User, new_events: Events
) -> None:
    with pytest.raises(NotPermitted, match="not a member"):
        actions.switch_organisation(by=actor_for(outsider), membership=admin_membership)
    _assert_refused(new_events, "organisation.switched")


def test_a_person_cannot_switch_to_a_membership_they_were_removed_from(
    analyst_membership: Membership, new_events: Events
) -> None:
    analyst_membership.is_active = False
    analyst_membership.save()
    with pytest.raises(NotPermitted):
        actions.switch_organisation(
            by=actor_for(analyst_membership.user), membership=analyst_membership
        )
    _assert_refused(new_events, "organisation.switched")


def test_a_person_cannot_switch_to_an_inactive_organisation(
    analyst_membership: Membership, organisation: Organisation
) -> None:
    organisation.is_active = False
    organisation.save()
    with pytest.raises(NotPermitted):
        actions.switch_organisation(
            by=actor_for(analyst_membership.user), membership=analyst_membership
        )

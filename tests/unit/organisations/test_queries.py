"""Rule-bearing reads about organisations and their members."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accord.organisations import queries
from accord.organisations.models import Membership, Organisation
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_memberships_of_lists_active_memberships_of_active_organisations_by_name() -> None:
    user = UserFactory()
    zed = MembershipFactory(user=user, organisation=OrganisationFactory(name="Zed Council"))
    abbey = MembershipFactory(user=user, organisation=OrganisationFactory(name="Abbey Council"))
    MembershipFactory(user=user, organisation=OrganisationFactory(name="Gone"), is_active=False)
    MembershipFactory(user=user, organisation=OrganisationFactory(name="Closed", is_active=False))
    MembershipFactory()  # someone else's
    assert list(queries.memberships_of(user)) == [abbey, zed]


def test_membership_of_finds_the_membership_for_an_organisation(
    analyst_membership: Membership, other_organisation: Organisation
) -> None:
    user = analyst_membership.user
    organisation_id = analyst_membership.organisation_id
    assert queries.membership_of(user, organisation_id) == analyst_membership
    assert queries.membership_of(user, str(organisation_id)) == analyst_membership
    assert queries.membership_of(user, other_organisation.pk) is None
    assert queries.membership_of(user, None) is None
    assert queries.membership_of(user, "") is None
    assert queries.membership_of(user, 0) is None


def test_membership_of_ignores_removed_memberships(analyst_membership: Membership) -> None:
    analyst_membership.is_active = False
    analyst_membership.save()
    assert (
        queries.membership_of(analyst_membership.user, analyst_membership.organisation_id) is None
    )


def test_is_admin_of(
    admin_membership: Membership,
    analyst_membership: Membership,
    organisation: Organisation,
    other_organisation: Organisation,
) -> None:
    assert queries.is_admin_of(admin_membership.user_id, organisation)
    assert not queries.is_admin_of(admin_membership.user_id, other_organisation)
    assert not queries.is_admin_of(analyst_membership.user_id, organisation)
    assert not queries.is_admin_of(None, organisation)


def test_a_removed_admin_is_not_an_admin(
    admin_membership: Membership, organisation: Organisation
) -> None:
    admin_membership.is_active = False
    admin_membership.save()
    assert not queries.is_admin_of(admin_membership.user_id, organisation)


def test_an_admin_of_an_inactive_organisation_is_not_an_admin(
    admin_membership: Membership, organisation: Organisation
) -> None:
    organisation.is_active = False
    organisation.save()
    assert not queries.is_admin_of(admin_membership.user_id, organisation)


def test_members_of_lists_active_members_by_name(organisation: Organisation) -> None:
    brown = MembershipFactory(
        organisation=organisation, user=UserFactory(first_name="Zoe", last_name="Brown")
    )
    adams_b = MembershipFactory(
        organisation=organisation, user=UserFactory(first_name="Bea", last_name="Adams")
    )
    adams_a = MembershipFactory(
        organisation=organisation, user=UserFactory(first_name="Ann", last_name="Adams")
    )
    MembershipFactory(organisation=organisation, is_active=False)
    MembershipFactory()  # another organisation's
    assert list(queries.members_of(organisation)) == [adams_a, adams_b, brown]


def test_open_invitations_of_leaves_out_closed_ones(organisation: Organisation) -> None:
    now = timezone.now()
    open_one = InvitationFactory(organisation=organisation)
    InvitationFactory(organisation=organisation, expires_at=now - timedelta(seconds=1))
    InvitationFactory(organisation=organisation, accepted_at=now)
    InvitationFactory(organisation=organisation, revoked_at=now)
    InvitationFactory()  # another organisation's
    assert queries.open_invitations_of(organisation) == [open_one]


def test_admin_count_counts_active_admins_only(
    admin_membership: Membership, analyst_membership: Membership, organisation: Organisation
) -> None:
    assert queries.admin_count(organisation) == 1
    MembershipFactory(organisation=organisation, roles=["organisation_admin", "dpo"])
    MembershipFactory(organisation=organisation, roles=["organisation_admin"], is_active=False)
    assert queries.admin_count(organisation) == 2
    assert queries.admin_count(OrganisationFactory()) == 0

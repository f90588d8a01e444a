"""Organisations, their admins and actors, and a way to read the audit events an action wrote."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from accord.audit.actor import Actor
from accord.audit.models import AuditEvent, AuditHead
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Membership, Organisation, User
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory


@pytest.fixture
def organisation(db) -> Organisation:
    return OrganisationFactory(name="Aylesbury Vale Test Council")


@pytest.fixture
def other_organisation(db) -> Organisation:
    return OrganisationFactory(name="Bedford Test Council")


@pytest.fixture
def admin_membership(organisation: Organisation) -> Membership:
    return MembershipFactory(
        organisation=organisation,
        user=UserFactory(email="admin@aylesbury.example.org"),
        roles=[Role.ORGANISATION_ADMIN.value],
    )


@pytest.fixture
def admin(admin_membership: Membership) -> Actor:
    return actor_for(admin_membership.user, admin_membership)


@pytest.fixture
def other_admin(other_organisation: Organisation) -> Actor:
    membership = MembershipFactory(
        organisation=other_organisation,
        user=UserFactory(email="admin@bedford.example.org"),
        roles=[Role.ORGANISATION_ADMIN.value],
    )
    return actor_for(membership.user, membership)


@pytest.fixture
def analyst_membership(organisation: Organisation) -> Membership:
    return MembershipFactory(
        organisation=organisation,
        user=UserFactory(email="analyst@aylesbury.example.org"),
        roles=[Role.ANALYST.value],
    )


@pytest.fixture
def staff(db) -> Actor:
    return actor_for(UserFactory(email="staff@accord.example.org", is_staff=True))


@pytest.fixture
def outsider(db) -> User:
    return UserFactory(email="new.person@example.org")


@pytest.fixture
def new_events(db) -> Callable[[], list[AuditEvent]]:
    """Call to get the audit events written since the test's set-up."""
    start = AuditHead.objects.get(pk=1).seq

    def read() -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(seq__gt=start).order_by("seq"))

    return read

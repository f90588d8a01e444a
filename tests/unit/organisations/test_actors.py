"""Turning a signed-in person, and the organisation they act for, into an audit actor."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from accord.audit.actor import ActorKind
from accord.organisations.actors import actor_for, actor_for_request
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_person_acting_for_an_organisation() -> None:
    membership = MembershipFactory(roles=["analyst", "dpo"])
    actor = actor_for(membership.user, membership)
    assert actor.kind is ActorKind.PERSON
    assert actor.ref == f"user:{membership.user.pk}"
    assert actor.user_id == membership.user.pk
    assert actor.label == membership.user.email
    assert actor.organisation_id == str(membership.organisation_id)
    assert actor.organisation_name == membership.organisation.name
    assert actor.roles == ("analyst", "dpo")
    assert actor.is_platform_staff is False


def test_a_person_without_an_organisation() -> None:
    user = UserFactory(is_staff=True)
    actor = actor_for(user)
    assert (actor.organisation_id, actor.organisation_name, actor.roles) == ("", "", ())
    assert actor.is_platform_staff is True


def test_the_label_falls_back_to_the_username() -> None:
    user = UserFactory(email="", username="no-email")
    assert actor_for(user).label == "no-email"


def test_a_request_from_someone_not_signed_in_is_anonymous() -> None:
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    actor = actor_for_request(request)
    assert actor.kind is ActorKind.ANONYMOUS
    assert actor.user_id is None


def test_a_request_uses_the_membership_the_middleware_chose() -> None:
    membership = MembershipFactory()
    request = RequestFactory().get("/")
    request.user = membership.user
    request.membership = membership
    actor = actor_for_request(request)
    assert actor.organisation_id == str(membership.organisation_id)
    del request.membership
    assert actor_for_request(request).organisation_id == ""

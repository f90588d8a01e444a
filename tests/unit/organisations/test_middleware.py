"""CurrentOrganisationMiddleware: which organisation a signed-in person acts for."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accord.organisations.middleware import SESSION_KEY, CurrentOrganisationMiddleware
from accord.organisations.models import User
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _run(user: Any, session: dict[str, str] | None = None) -> HttpRequest:
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: HttpResponse()).process_request(request)
    for key, value in (session or {}).items():
        request.session[key] = value
    request.user = user
    seen: list[HttpRequest] = []

    def view(req: HttpRequest) -> HttpResponse:
        seen.append(req)
        return HttpResponse("ok")

    response = CurrentOrganisationMiddleware(view)(request)
    assert response.content == b"ok"
    assert seen == [request]
    return request


@pytest.fixture
def person() -> User:
    return UserFactory()


def test_someone_not_signed_in_acts_for_no_organisation() -> None:
    request = _run(AnonymousUser())
    assert request.membership is None
    assert request.memberships == []
    assert SESSION_KEY not in request.session


def test_a_person_with_no_memberships_acts_for_no_organisation(person: User) -> None:
    request = _run(person)
    assert request.membership is None
    assert request.memberships == []
    assert SESSION_KEY not in request.session


def test_without_a_choice_the_first_organisation_by_name_is_chosen_and_remembered(
    person: User,
) -> None:
    second = MembershipFactory(user=person, organisation=OrganisationFactory(name="Bravo"))
    first = MembershipFactory(user=person, organisation=OrganisationFactory(name="Alpha"))
    request = _run(person)
    assert request.membership == first
    assert request.memberships == [first, second]
    assert request.session[SESSION_KEY] == str(first.organisation_id)


def test_the_sessions_organisation_is_used_while_still_a_member(person: User) -> None:
    MembershipFactory(user=person, organisation=OrganisationFactory(name="Alpha"))
    chosen = MembershipFactory(user=person, organisation=OrganisationFactory(name="Bravo"))
    request = _run(person, {SESSION_KEY: str(chosen.organisation_id)})
    assert request.membership == chosen
    assert request.session[SESSION_KEY] == str(chosen.organisation_id)


def test_a_removed_membership_in_the_session_falls_back_to_the_first(person: User) -> None:
    first = MembershipFactory(user=person, organisation=OrganisationFactory(name="Alpha"))
    removed = MembershipFactory(
        user=person, organisation=OrganisationFactory(name="Bravo"), is_active=False
    )
    request = _run(person, {SESSION_KEY: str(removed.organisation_id)})
    assert request.membership == first
    assert request.memberships == [first]
    assert request.session[SESSION_KEY] == str(first.organisation_id)


def test_an_inactive_organisation_is_ignored(person: User) -> None:
    closed = MembershipFactory(
        user=person, organisation=OrganisationFactory(name="Alpha", is_active=False)
    )
    current = MembershipFactory(user=person, organisation=OrganisationFactory(name="Bravo"))
    request = _run(person, {SESSION_KEY: str(closed.organisation_id)})
    assert request.membership == current
    assert request.memberships == [current]


def test_an_organisation_the_person_never_belonged_to_is_ignored(person: User) -> None:
    own = MembershipFactory(user=person)
    foreign = MembershipFactory()
    request = _run(person, {SESSION_KEY: str(foreign.organisation_id)})
    assert request.membership == own
    assert request.session[SESSION_KEY] == str(own.organisation_id)


def test_only_inactive_memberships_means_no_organisation(person: User) -> None:
    removed = MembershipFactory(user=person, is_active=False)
    request = _run(person, {SESSION_KEY: str(removed.organisation_id)})
    assert request.membership is None
    assert request.memberships == []

"""Choosing which organisation to act for: only the person's own organisations."""

from __future__ import annotations

from django.test import Client

from accord.organisations.enums import Role
from accord.organisations.models import Membership
from tests.factories import OrganisationFactory

from .helpers import (
    HOME,
    acting_for,
    actions_after,
    assert_redirects_to_sign_in,
    events_after,
    join,
    last_seq,
    only,
    person,
    sign_in,
    texts,
)

SWITCH = "/organisation/switch/"


def test_signed_out_goes_to_sign_in(client: Client, council) -> None:
    assert_redirects_to_sign_in(client.get(SWITCH), SWITCH)
    response = client.post(SWITCH, {"organisation": str(council.pk)})
    assert_redirects_to_sign_in(response, SWITCH)


def test_only_the_persons_own_organisations_are_choices(
    client: Client, council, other_council
) -> None:
    stranger = OrganisationFactory(name="Swale Borough Council")
    analyst = person(council, Role.ANALYST)
    join(analyst, other_council, Role.VIEWER)
    left = OrganisationFactory(name="Ashford Borough Council")
    Membership.objects.create(user=analyst, organisation=left, roles=["analyst"], is_active=False)
    closed = OrganisationFactory(name="Closed District Council", is_active=False)
    join(analyst, closed, Role.ANALYST)

    sign_in(client, analyst)
    page = client.get(SWITCH)
    assert page.status_code == 200
    text = texts(page)
    assert f'value="{council.pk}"' in text
    assert f'value="{other_council.pk}"' in text
    for not_mine in (stranger, left, closed):
        assert f'value="{not_mine.pk}"' not in text
        assert not_mine.name not in text


def test_posting_another_organisations_id_is_an_error_and_changes_nothing(
    client: Client, council, other_council
) -> None:
    stranger = OrganisationFactory(name="Swale Borough Council")
    left = OrganisationFactory(name="Ashford Borough Council")
    closed = OrganisationFactory(name="Closed District Council", is_active=False)
    analyst = person(council, Role.ANALYST)
    Membership.objects.create(user=analyst, organisation=left, roles=["analyst"], is_active=False)
    join(analyst, closed, Role.ANALYST)
    join(analyst, other_council, Role.VIEWER)
    sign_in(client, analyst)
    client.get(HOME)
    start = acting_for(client)
    assert start == str(other_council.pk)
    before = last_seq()
    for target in (stranger.pk, left.pk, closed.pk, "", "not-a-number", 999999):
        response = client.post(SWITCH, {"organisation": str(target)})
        assert response.status_code == 200, target
        assert "govuk-error-summary" in texts(response), target
        assert acting_for(client) == start
    assert actions_after(before) == []
    # Nor do they see the stranger's pages.
    assert stranger.name not in texts(client.get(HOME))


def test_switching_changes_the_organisation_and_is_audited(
    client: Client, council, other_council
) -> None:
    analyst = person(council, Role.ANALYST)
    join(analyst, other_council, Role.DATA_OFFICER)
    sign_in(client, analyst)
    # Organisations are in name order; the first is acted for on sign-in.
    client.get(HOME)
    assert acting_for(client) == str(other_council.pk)
    before = last_seq()
    response = client.post(SWITCH, {"organisation": str(council.pk)})
    assert response.status_code == 302
    assert response.url == HOME
    assert acting_for(client) == str(council.pk)
    event = only(events_after(before))
    assert event.action == "organisation.switched"
    assert event.actor == f"user:{analyst.pk}"
    assert event.organisation == str(council.pk)
    assert event.organisation_name == council.name
    assert event.target == f"organisation:{council.pk}"
    page = texts(client.get(HOME))
    assert f"You are now acting for {council.name}" in page
    assert "acting for <strong>Maidstone Borough Council</strong>" in page


def test_someone_with_one_organisation_can_still_open_the_page(client: Client, council) -> None:
    viewer = person(council, Role.VIEWER)
    sign_in(client, viewer)
    page = client.get(SWITCH)
    assert page.status_code == 200
    assert council.name in texts(page)
    response = client.post(SWITCH, {"organisation": str(council.pk)})
    assert response.status_code == 302
    assert acting_for(client) == str(council.pk)


def test_someone_in_no_organisation_sees_no_choices(client: Client, council) -> None:
    loner = person(None)
    sign_in(client, loner)
    page = client.get(SWITCH)
    assert page.status_code == 200
    assert council.name not in texts(page)
    response = client.post(SWITCH, {"organisation": str(council.pk)})
    assert response.status_code == 200
    assert acting_for(client) is None


def test_a_membership_ended_while_acting_for_it_falls_back(
    client: Client, council, other_council
) -> None:
    admin = person(council, Role.ORGANISATION_ADMIN)
    join(admin, other_council, Role.VIEWER)
    sign_in(client, admin)
    client.post(SWITCH, {"organisation": str(council.pk)})
    assert client.get("/organisation/members/").status_code == 200

    Membership.objects.filter(user=admin, organisation=council).update(is_active=False)
    assert client.get("/organisation/members/").status_code == 403
    assert acting_for(client) == str(other_council.pk)

"""API tokens: the page that makes, lists and revokes them, and the bearer authentication that
turns one into the person, organisation and roles of its membership. Every way a token must
stop working is tried against a real endpoint."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations import actions
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import ApiToken
from accord.organisations.token_scopes import create_scoped_api_token
from tests.factories import OrganisationFactory, active_care_home_agreement

from .api_helpers import Api, detail, member, stored, token_of
from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    only,
    person,
    signed_in_client,
    texts,
)

PAGE = "/organisation/api-tokens/"
SECRET = re.compile(r"acc_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def revoke_url(token: ApiToken) -> str:
    return f"/organisation/api-tokens/{token.pk}/revoke/"


# The page


def test_signed_out_people_are_sent_to_sign_in() -> None:
    assert_redirects_to_sign_in(Client().get(PAGE), PAGE)
    response = Client().post("/organisation/api-tokens/1/revoke/")
    assert_redirects_to_sign_in(response, "/organisation/api-tokens/1/revoke/")


def test_someone_in_no_organisation_is_refused() -> None:
    client = signed_in_client(person())
    assert_forbidden_page(client.get(PAGE), reason="not a member of any organisation")


def test_a_member_creates_a_token_and_sees_the_secret_once(council) -> None:
    user = person(council, Role.ANALYST)
    client = signed_in_client(user)
    before = last_seq()
    response = client.post(PAGE, {"name": "Nightly export", "days": "30"})
    assert response.status_code == 200
    page = texts(response)
    secret = SECRET.search(page)
    assert secret is not None, page
    assert "only time it is shown" in page
    assert response.headers["Cache-Control"] == "no-store"

    token = ApiToken.objects.get()
    assert token.membership.user == user
    assert token.membership.organisation == council
    assert token.secret_hash == hashlib.sha256(secret.group().encode()).hexdigest()
    assert secret.group().startswith(f"acc_{token.prefix}_")
    assert timedelta(days=29) < token.expires_at - timezone.now() <= timedelta(days=30)
    assert not ApiToken.objects.filter(secret_hash__contains=secret.group()).exists()

    event = only(events_after(before, "organisation.api_token.created"))
    assert event.actor == f"user:{user.pk}"
    assert event.organisation_name == council.name
    assert event.details["prefix"] == token.prefix
    assert secret.group() not in str(event.details)

    listing = texts(client.get(PAGE))
    assert "Nightly export" in listing
    assert f"acc_{token.prefix}_" in listing
    assert secret.group() not in listing


def test_a_token_lasts_90_days_unless_chosen_otherwise(council) -> None:
    token = stored(token_of(member(council, Role.VIEWER)))
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)


def test_a_viewer_may_have_a_token_too(council) -> None:
    client = signed_in_client(person(council, Role.VIEWER))
    response = client.post(PAGE, {"name": "Dashboard", "days": "90"})
    assert SECRET.search(texts(response))


def test_the_form_says_what_is_wrong(council) -> None:
    client = signed_in_client(person(council, Role.ANALYST))
    response = client.post(PAGE, {"name": "", "days": "7"})
    assert response.status_code == 200
    page = texts(response)
    assert "Enter a name for the token" in page
    assert "Select a valid choice" in page
    assert not ApiToken.objects.exists()


def test_the_owner_revokes_a_token_and_it_stops_working(council) -> None:
    user = person(council, Role.ANALYST)
    membership = user.memberships.get()
    secret = token_of(membership)
    assert Api(secret).get("/agreements").status_code == 200
    client = signed_in_client(user)
    before = last_seq()
    response = client.post(revoke_url(stored(secret)))
    assert response.status_code == 302
    assert response.url == PAGE
    assert stored(secret).revoked_at is not None
    only(events_after(before, "organisation.api_token.revoked"))
    assert "Revoked" in texts(client.get(PAGE))
    assert Api(secret).get("/agreements").status_code == 401


def test_revoking_needs_a_post(council) -> None:
    user = person(council, Role.ANALYST)
    token = stored(token_of(user.memberships.get()))
    client = signed_in_client(user)
    assert client.get(revoke_url(token)).status_code == 405
    assert stored_again(token).revoked_at is None


def stored_again(token: ApiToken) -> ApiToken:
    token.refresh_from_db()
    return token


def test_another_members_token_is_not_theirs_to_revoke(council) -> None:
    colleague_token = stored(token_of(member(council, Role.ANALYST)))
    client = signed_in_client(person(council, Role.ANALYST))
    assert_not_found_page(client.post(revoke_url(colleague_token)))
    assert stored_again(colleague_token).revoked_at is None
    assert colleague_token.name not in texts(client.get(PAGE))


def test_another_organisations_token_is_not_found_even_by_an_admin(council, other_council) -> None:
    theirs = stored(token_of(member(other_council, Role.ANALYST)))
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN))
    assert_not_found_page(client.post(revoke_url(theirs)))
    assert stored_again(theirs).revoked_at is None


def test_an_organisation_admin_sees_and_revokes_members_tokens(council) -> None:
    colleague = member(council, Role.ANALYST)
    token = stored(token_of(colleague, name="Colleague script"))
    admin = person(council, Role.ORGANISATION_ADMIN)
    client = signed_in_client(admin)
    page = texts(client.get(PAGE))
    assert "Colleague script" in page
    assert colleague.user.email in page
    before = last_seq()
    assert client.post(revoke_url(token)).status_code == 302
    assert stored_again(token).revoked_at is not None
    assert only(events_after(before, "organisation.api_token.revoked")).actor == f"user:{admin.pk}"


# The actions' own rules


def test_only_the_member_themself_may_create_a_token(council) -> None:
    membership = member(council, Role.ANALYST)
    admin = member(council, Role.ORGANISATION_ADMIN)
    before = last_seq()
    with pytest.raises(NotPermitted):
        actions.create_api_token(
            by=actor_for(admin.user, admin), membership=membership, name="Not mine"
        )
    assert not ApiToken.objects.exists()
    assert only(events_after(before, "organisation.api_token.created")).outcome == "refused"


def test_a_removed_member_cannot_create_a_token(council) -> None:
    membership = member(council, Role.ANALYST)
    membership.is_active = False
    membership.save()
    with pytest.raises(NotPermitted):
        token_of(membership)


def test_token_lifetime_and_name_are_checked(council) -> None:
    membership = member(council, Role.ANALYST)
    with pytest.raises(ValidationError):
        token_of(membership, days=0)
    with pytest.raises(ValidationError):
        token_of(membership, days=366)
    with pytest.raises(ValidationError):
        token_of(membership, name="   ")


def test_a_colleague_may_not_revoke_and_a_token_is_revoked_once(council) -> None:
    membership = member(council, Role.ANALYST)
    token = stored(token_of(membership))
    colleague = member(council, Role.ANALYST)
    with pytest.raises(NotPermitted):
        actions.revoke_api_token(by=actor_for(colleague.user, colleague), token=token)
    owner = actor_for(membership.user, membership)
    actions.revoke_api_token(by=owner, token=token)
    with pytest.raises(Refused, match="already revoked"):
        actions.revoke_api_token(by=owner, token=stored_again(token))


# Bearer authentication


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token acc_x_y", "Bearer acc_0_nope"],
)
def test_no_token_or_a_bad_one_is_401(council, header) -> None:
    response = (
        Api(header=header).get("/agreements") if header is not None else Api().get("/agreements")
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "API token" in detail(response)


def test_a_well_formed_secret_that_is_not_stored_is_401(council) -> None:
    secret = token_of(member(council, Role.ANALYST))
    assert (
        Api(secret[:-1] + ("A" if secret[-1] != "A" else "B")).get("/agreements").status_code == 401
    )
    assert "not recognised" in detail(Api(secret + "x").get("/agreements"))


def test_a_session_cookie_is_not_an_api_credential(council) -> None:
    client = signed_in_client(person(council, Role.ANALYST))
    assert client.get("/api/v1/agreements").status_code == 401


def test_a_revoked_token_is_401_and_the_attempt_is_audited(council) -> None:
    membership = member(council, Role.ANALYST)
    secret = token_of(membership)
    actions.revoke_api_token(by=actor_for(membership.user, membership), token=stored(secret))
    before = last_seq()
    response = Api(secret).get("/agreements")
    assert response.status_code == 401
    assert detail(response) == "This API token has been revoked."
    event = only(events_after(before, "api.token_refused"))
    assert event.outcome == "refused"
    assert event.organisation == str(council.pk)
    assert membership.user.email in event.actor_label


def test_an_expired_token_is_401(council) -> None:
    secret = token_of(member(council, Role.ANALYST))
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Api(secret).get("/agreements")
    assert response.status_code == 401
    assert "expired" in detail(response)


def test_a_token_of_a_removed_member_is_401(council) -> None:
    membership = member(council, Role.ANALYST)
    secret = token_of(membership)
    membership.is_active = False
    membership.save()
    response = Api(secret).get("/agreements")
    assert response.status_code == 401
    assert "no longer a member" in detail(response)


def test_a_token_of_a_switched_off_account_is_401(council) -> None:
    membership = member(council, Role.ANALYST)
    secret = token_of(membership)
    membership.user.is_active = False
    membership.user.save()
    assert Api(secret).get("/agreements").status_code == 401


def test_a_token_of_a_switched_off_organisation_is_401(council) -> None:
    secret = token_of(member(council, Role.ANALYST))
    council.is_active = False
    council.save()
    response = Api(secret).get("/agreements")
    assert response.status_code == 401
    assert "switched off" in detail(response)


def test_a_token_works_for_public_endpoints_and_they_need_none(council) -> None:
    assert Api().get("/public/register").status_code == 200
    assert Api().get("/agreements/schema").status_code == 200


def test_use_is_recorded_on_the_token(council) -> None:
    secret = token_of(member(council, Role.ANALYST))
    assert stored(secret).last_used_at is None
    assert Api(secret).get("/agreements").status_code == 200
    assert stored(secret).last_used_at is not None


def test_a_token_acts_with_the_memberships_current_roles(council) -> None:
    membership = member(council, Role.VIEWER)
    secret = token_of(membership)
    other = OrganisationFactory(name="Swale Borough Council", gss_code="E07000113")
    body = {
        "id": "x",
        "agreement_type": "memorandum_of_understanding",
        "title": "Figures",
        "parties": [],
    }
    assert Api(secret).post("/agreements", body).status_code == 403
    membership.roles = [Role.ANALYST.value]
    membership.save()
    # Now allowed past the role check; refused because Maidstone is not a party.
    body["parties"] = [{"id": "swale", "name": other.name}]
    response = Api(secret).post("/agreements", body)
    assert response.status_code == 403
    assert "party to" in detail(response)


# Scope: the agreements and access actions a token may use


def test_a_token_is_limited_to_the_agreements_and_actions_ticked(council, other_council) -> None:
    in_force = active_care_home_agreement(other_council, council)
    user = person(council, Role.ANALYST)
    client = signed_in_client(user)
    page = texts(client.get(PAGE))
    assert "Which agreements may it use?" in page
    assert in_force.title in page
    assert "Take a record-level extract" in page
    before = last_seq()
    response = client.post(
        PAGE,
        {
            "name": "Weekly pickup",
            "days": "90",
            "agreements": [str(in_force.pk)],
            "actions": ["extract", "view"],
        },
    )
    assert SECRET.search(texts(response))
    token = ApiToken.objects.get()
    assert list(token.agreements.all()) == [in_force]
    assert token.actions == ["view", "extract"]
    event = only(events_after(before, "organisation.api_token.scoped"))
    assert event.details["agreements"] == [{"id": str(in_force.pk), "title": in_force.title}]
    assert event.details["actions"] == ["view", "extract"]
    only(events_after(before, "organisation.api_token.created"))

    listing = texts(client.get(PAGE))
    assert f"Agreements: {in_force.title}" in listing
    assert "Actions: View the records; Take a record-level extract" in listing
    # The organisation admin sees the scope of members' tokens too.
    admin = texts(signed_in_client(person(council, Role.ORGANISATION_ADMIN)).get(PAGE))
    assert f"Agreements: {in_force.title}" in admin


def test_a_token_with_nothing_ticked_may_use_any_agreement_and_action(
    council, other_council
) -> None:
    active_care_home_agreement(other_council, council)
    client = signed_in_client(person(council, Role.ANALYST))
    before = last_seq()
    client.post(PAGE, {"name": "Anything", "days": "30"})
    token = ApiToken.objects.get()
    assert (list(token.agreements.all()), token.actions) == ([], [])
    assert not events_after(before, "organisation.api_token.scoped")
    listing = texts(client.get(PAGE))
    assert "Any agreement" in listing
    assert "Any action" in listing


def test_only_agreements_in_force_of_the_organisation_can_be_ticked(council, other_council) -> None:
    theirs = active_care_home_agreement(
        other_council, OrganisationFactory(name="Swale Borough Council", gss_code="E07000113")
    )
    client = signed_in_client(person(council, Role.ANALYST))
    assert theirs.title not in texts(client.get(PAGE))
    response = client.post(
        PAGE, {"name": "Sneaky", "days": "30", "agreements": [str(theirs.pk)], "actions": ["x"]}
    )
    assert response.status_code == 200
    page = texts(response)
    assert "Choose agreements from the list" in page
    assert "Choose actions from the list" in page
    assert not ApiToken.objects.exists()


def test_with_no_agreement_in_force_only_actions_are_offered(council) -> None:
    page = texts(signed_in_client(person(council, Role.ANALYST)).get(PAGE))
    assert "Which agreements may it use?" not in page
    assert "What may it do with shared data?" in page


def test_the_scoping_action_refuses_what_the_organisation_cannot_use(
    council, other_council
) -> None:
    membership = member(council, Role.ANALYST)
    by = actor_for(membership.user, membership)
    elsewhere = active_care_home_agreement(
        other_council, OrganisationFactory(name="Swale Borough Council", gss_code="E07000113")
    )
    with pytest.raises(ValidationError, match="agreements in force that Maidstone"):
        create_scoped_api_token(by=by, membership=membership, name="x", agreements=[elsewhere])
    with pytest.raises(ValidationError, match="Choose actions"):
        create_scoped_api_token(by=by, membership=membership, name="x", actions=["delete"])
    assert not ApiToken.objects.exists()

"""Django admin: platform staff only, and only after Accord's two-factor sign-in."""

from __future__ import annotations

from django.test import Client

from accord.organisations.enums import Role
from accord.organisations.models import Membership, Organisation
from tests.factories import PASSWORD

from .helpers import (
    SIGN_IN,
    SIGN_IN_CODE,
    events_after,
    last_seq,
    only,
    person,
    sign_in,
    signed_in_client,
    signed_in_user_id,
    texts,
)

ADMIN = "/admin/"
ADMIN_LOGIN = "/admin/login/"
ADD_ORGANISATION = "/admin/organisations/organisation/add/"


def staff():
    return person(None, is_staff=True, is_superuser=True)


def test_signed_out_goes_to_the_admin_login(client: Client) -> None:
    for path in (ADMIN, ADD_ORGANISATION, "/admin/audit/auditevent/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.url.startswith(f"{ADMIN_LOGIN}?next="), response.url


def test_a_member_who_is_not_staff_is_not_allowed_in(council) -> None:
    client = signed_in_client(person(council, Role.ORGANISATION_ADMIN))
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response.url.startswith(ADMIN_LOGIN)
    page = client.get(response.url)
    assert page.status_code == 200
    assert "but are not authorized to access this page" in texts(page)
    response = client.post(ADD_ORGANISATION, {"name": "Sneaky Council", "sector": "other"})
    assert response.status_code == 302
    assert not Organisation.objects.filter(name="Sneaky Council").exists()


def test_staff_who_passed_only_the_password_step_are_not_let_in(client: Client) -> None:
    someone = staff()
    response = client.post(SIGN_IN, {"username": someone.email, "password": PASSWORD})
    assert response.url == SIGN_IN_CODE
    response = client.get(ADMIN)
    assert response.status_code == 302
    assert response.url.startswith(ADMIN_LOGIN)


def test_the_admin_login_form_does_not_accept_a_password_alone(client: Client) -> None:
    someone = staff()
    response = client.post(
        f"{ADMIN_LOGIN}?next={ADMIN}", {"username": someone.email, "password": PASSWORD}
    )
    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    assert client.get(ADMIN).status_code == 302


def test_staff_signed_in_through_accord_use_the_admin(client: Client) -> None:
    someone = staff()
    sign_in(client, someone)
    response = client.get(ADMIN)
    assert response.status_code == 200
    assert "Accord administration" in texts(response)
    assert client.get(ADD_ORGANISATION).status_code == 200


def test_creating_an_organisation_in_admin_is_audited(client: Client) -> None:
    someone = staff()
    sign_in(client, someone)
    before = last_seq()
    response = client.post(
        ADD_ORGANISATION,
        {
            "name": "Swale Borough Council",
            "sector": "district_council",
            "gss_code": "E07000113",
            "ods_code": "",
            "ico_registration": "",
            "is_active": "on",
            "created_at_0": "2026-01-05",
            "created_at_1": "09:30:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, texts(response)[:3000]
    organisation = Organisation.objects.get(name="Swale Borough Council")
    event = only(events_after(before, "admin.organisation.created"))
    assert event.actor == f"user:{someone.pk}"
    assert event.subject_organisation == str(organisation.pk)
    assert event.target == f"organisation:{organisation.pk}"
    assert "name" in event.details["fields"]
    assert not Membership.objects.filter(organisation=organisation).exists()


def test_an_invalid_organisation_is_refused_and_not_audited(client: Client) -> None:
    someone = staff()
    sign_in(client, someone)
    before = last_seq()
    response = client.post(
        ADD_ORGANISATION,
        {
            "name": "Bad Code Council",
            "sector": "district_council",
            "gss_code": "NOT-A-CODE",
            "is_active": "on",
            "created_at_0": "2026-01-05",
            "created_at_1": "09:30:00",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "memberships-MIN_NUM_FORMS": "0",
            "memberships-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 200
    assert not Organisation.objects.filter(name="Bad Code Council").exists()
    assert events_after(before, "admin.organisation.created") == []


def _organisation_form(organisation, **extra: str) -> dict[str, str]:
    return {
        "name": organisation.name,
        "sector": organisation.sector,
        "gss_code": organisation.gss_code,
        "ods_code": "",
        "ico_registration": "",
        "is_active": "on",
        "created_at_0": "2026-01-05",
        "created_at_1": "09:30:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
        **extra,
    }


def test_a_membership_added_inline_in_admin_is_audited(client: Client, council) -> None:
    someone = staff()
    newcomer = person(None)
    sign_in(client, someone)
    before = last_seq()
    response = client.post(
        f"/admin/organisations/organisation/{council.pk}/change/",
        _organisation_form(
            council,
            **{
                "memberships-TOTAL_FORMS": "1",
                "memberships-0-user": str(newcomer.pk),
                "memberships-0-roles": '["organisation_admin"]',
                "memberships-0-is_active": "on",
                "memberships-0-joined_at_0": "2026-01-05",
                "memberships-0-joined_at_1": "09:30:00",
            },
        ),
    )
    assert response.status_code == 302, texts(response)[:3000]
    membership = Membership.objects.get(user=newcomer, organisation=council)
    assert membership.roles == ["organisation_admin"]
    created = [e for e in events_after(before) if e.target == f"membership:{membership.pk}"]
    assert len(created) == 1


def test_deleting_organisations_from_the_list_is_audited(client: Client, council) -> None:
    someone = staff()
    sign_in(client, someone)
    before = last_seq()
    response = client.post(
        "/admin/organisations/organisation/",
        {"action": "delete_selected", "_selected_action": [str(council.pk)], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Organisation.objects.filter(pk=council.pk).exists()
    deleted = events_after(before, "admin.organisation.deleted")
    assert [e.subject_organisation for e in deleted] == [str(council.pk)]


def test_staff_setting_a_password_in_admin_is_audited(client: Client, council) -> None:
    someone = staff()
    target = person(council, Role.VIEWER)
    sign_in(client, someone)
    before = last_seq()
    new_password = "plum-violin-harbour-lantern-7"
    response = client.post(
        f"/admin/organisations/user/{target.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302, texts(response)[:3000]
    target.refresh_from_db()
    assert target.check_password(new_password)
    assert [e for e in events_after(before) if e.target == f"user:{target.pk}"]

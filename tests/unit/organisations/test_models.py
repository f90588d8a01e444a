"""Organisations, memberships, invitations and the two-factor rule on users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accord.organisations.enums import PERSONAL_DATA_ROLES, Role, Sector
from accord.organisations.models import Membership, Organisation, role_labels, validate_roles
from tests.factories import InvitationFactory, MembershipFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _organisation(**fields: str) -> Organisation:
    defaults = {"name": "Test Council", "sector": Sector.DISTRICT_COUNCIL.value}
    return Organisation(**{**defaults, **fields})


def _field_codes(error: ValidationError) -> dict[str, list[str | None]]:
    return {field: [e.code for e in errors] for field, errors in error.error_dict.items()}


# Organisation.clean ----------------------------------------------------------------------------


def test_clean_normalises_every_identifier() -> None:
    organisation = _organisation(gss_code="e07000110", ods_code=" rxx", ico_registration="z1234567")
    organisation.full_clean()
    assert organisation.gss_code == "E07000110"
    assert organisation.ods_code == "RXX"
    assert organisation.ico_registration == "Z1234567"


def test_blank_identifiers_are_allowed() -> None:
    organisation = _organisation(sector=Sector.POLICE.value)
    organisation.full_clean()
    assert (organisation.gss_code, organisation.ods_code, organisation.ico_registration) == (
        "",
        "",
        "",
    )


@pytest.mark.parametrize(
    ("sector", "gss_code"),
    [
        (Sector.COUNTY_COUNCIL, "E10000002"),
        (Sector.UNITARY_AUTHORITY, "W06000015"),
        (Sector.LONDON_BOROUGH, "E09000033"),
        (Sector.ICB, "E54000057"),
        (Sector.HEALTH_BOARD, "S08000031"),
    ],
)
def test_gss_code_is_checked_against_the_organisations_sector(
    sector: Sector, gss_code: str
) -> None:
    organisation = _organisation(sector=sector.value, gss_code=gss_code.lower())
    organisation.full_clean()
    assert organisation.gss_code == gss_code


def test_a_wrong_prefix_for_the_sector_is_an_error_on_the_gss_field() -> None:
    organisation = _organisation(sector=Sector.LONDON_BOROUGH.value, gss_code="E07000110")
    with pytest.raises(ValidationError) as excinfo:
        organisation.full_clean()
    assert _field_codes(excinfo.value) == {"gss_code": ["gss_sector"]}
    assert "E09" in excinfo.value.message_dict["gss_code"][0]


def test_a_sector_without_gss_codes_refuses_one_on_the_gss_field() -> None:
    organisation = _organisation(sector=Sector.NHS_TRUST.value, gss_code="E07000110")
    with pytest.raises(ValidationError) as excinfo:
        organisation.full_clean()
    assert _field_codes(excinfo.value) == {"gss_code": ["gss_not_applicable"]}


def test_each_bad_identifier_is_reported_on_its_own_field() -> None:
    organisation = _organisation(gss_code="E0700011", ods_code="R", ico_registration="Z12")
    with pytest.raises(ValidationError) as excinfo:
        organisation.full_clean()
    assert _field_codes(excinfo.value) == {
        "gss_code": ["gss_format"],
        "ods_code": ["ods_format"],
        "ico_registration": ["ico_format"],
    }


def test_a_good_identifier_beside_a_bad_one_is_still_normalised() -> None:
    organisation = _organisation(gss_code="e07000110", ods_code="!!")
    with pytest.raises(ValidationError) as excinfo:
        organisation.clean()
    assert set(excinfo.value.error_dict) == {"ods_code"}
    assert organisation.gss_code == "E07000110"


def test_an_unknown_sector_is_an_error_on_the_sector_field() -> None:
    organisation = _organisation(sector="space_agency")
    with pytest.raises(ValidationError) as excinfo:
        organisation.full_clean()
    assert "sector" in excinfo.value.error_dict


def test_spaced_identifiers_longer_than_the_column_are_normalised_not_refused() -> None:
    organisation = _organisation(
        gss_code=" E07 000 110 ", ods_code="A81 001", ico_registration="Z123 4567"
    )
    organisation.full_clean()
    assert organisation.gss_code == "E07000110"
    assert organisation.ods_code == "A81001"
    assert organisation.ico_registration == "Z1234567"


# Partial unique constraints ---------------------------------------------------------------------


def test_blank_gss_and_ods_codes_may_repeat() -> None:
    for n in range(3):
        _organisation(name=f"Police force {n}", sector=Sector.POLICE.value).save()
    assert Organisation.objects.filter(gss_code="", ods_code="").count() == 3


def test_a_gss_code_is_unique_in_the_database() -> None:
    OrganisationFactory(gss_code="E07000110")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(gss_code="E07000110")


def test_an_ods_code_is_unique_in_the_database() -> None:
    OrganisationFactory(sector=Sector.NHS_TRUST.value, gss_code="", ods_code="RXX")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(sector=Sector.NHS_TRUST.value, gss_code="", ods_code="RXX")


def test_full_clean_reports_a_duplicate_gss_code_after_normalising_it() -> None:
    OrganisationFactory(gss_code="E07000110")
    duplicate = _organisation(name="Another", gss_code="e07000110")
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert excinfo.value.messages  # the constraint's message, not a database error


def test_full_clean_reports_a_duplicate_ods_code_after_normalising_it() -> None:
    OrganisationFactory(sector=Sector.NHS_TRUST.value, gss_code="", ods_code="RXX")
    duplicate = _organisation(name="Another", sector=Sector.NHS_TRUST.value, ods_code=" rxx")
    with pytest.raises(ValidationError):
        duplicate.full_clean()


def test_organisation_names_are_unique() -> None:
    OrganisationFactory(name="Same Name")
    with pytest.raises(IntegrityError), transaction.atomic():
        OrganisationFactory(name="Same Name")


# Membership ------------------------------------------------------------------------------------


def test_has_role_is_true_when_any_named_role_is_held() -> None:
    membership = MembershipFactory(roles=[Role.ANALYST.value, Role.DPO.value])
    assert membership.has_role(Role.ANALYST)
    assert membership.has_role("dpo")
    assert membership.has_role(Role.VIEWER, Role.DPO)
    assert not membership.has_role(Role.ORGANISATION_ADMIN)
    assert not membership.has_role(Role.VIEWER, Role.SIRO)
    assert not membership.has_role()


def test_role_labels_follow_the_role_order_not_the_stored_order() -> None:
    membership = MembershipFactory(
        roles=[Role.CALDICOTT_GUARDIAN.value, Role.VIEWER.value, Role.ORGANISATION_ADMIN.value]
    )
    assert membership.role_labels == ["Organisation admin", "Viewer", "Caldicott Guardian"]


def test_role_labels_of_a_list_skip_nothing_known_and_keep_role_order() -> None:
    assert role_labels(["dpo", "analyst"]) == ["Analyst", "Data protection officer"]
    assert role_labels([]) == []


def test_an_invitation_shows_role_names() -> None:
    invitation = InvitationFactory(roles=["siro", "organisation_admin"])
    assert invitation.role_labels == ["Organisation admin", "Senior information risk owner"]


def test_one_membership_per_person_and_organisation() -> None:
    membership = MembershipFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(user=membership.user, organisation=membership.organisation)


@pytest.mark.parametrize("value", [[], None, "analyst", {"analyst": True}, ()])
def test_validate_roles_needs_a_non_empty_list(value: object) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_roles(value)
    assert excinfo.value.messages == ["Choose at least one role."]


def test_validate_roles_names_unknown_roles() -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_roles(["analyst", "overlord", 7])
    assert excinfo.value.messages == ["Unknown role: overlord, 7."]


def test_validate_roles_accepts_known_roles() -> None:
    validate_roles(list(Role.values))


def test_membership_full_clean_puts_role_errors_on_the_roles_field() -> None:
    membership = Membership(
        user=UserFactory(), organisation=OrganisationFactory(), roles=["wizard"]
    )
    with pytest.raises(ValidationError) as excinfo:
        membership.full_clean()
    assert set(excinfo.value.error_dict) == {"roles"}


# Invitation.is_open -----------------------------------------------------------------------------


def test_a_fresh_invitation_is_open() -> None:
    assert InvitationFactory().is_open


def test_an_expired_invitation_is_closed() -> None:
    invitation = InvitationFactory(expires_at=timezone.now() - timedelta(seconds=1))
    assert not invitation.is_open


def test_an_accepted_invitation_is_closed() -> None:
    invitation = InvitationFactory(accepted_at=timezone.now())
    assert not invitation.is_open


def test_a_revoked_invitation_is_closed() -> None:
    invitation = InvitationFactory(revoked_at=timezone.now())
    assert not invitation.is_open


# User.requires_two_factor -----------------------------------------------------------------------


def test_a_viewer_only_does_not_need_two_factor() -> None:
    membership = MembershipFactory(roles=[Role.VIEWER.value])
    assert membership.user.requires_two_factor() is False


def test_a_person_with_no_memberships_does_not_need_two_factor() -> None:
    assert UserFactory().requires_two_factor() is False


@pytest.mark.parametrize("role", sorted(PERSONAL_DATA_ROLES))
def test_every_role_but_viewer_needs_two_factor(role: str) -> None:
    membership = MembershipFactory(roles=[Role.VIEWER.value, role])
    assert membership.user.requires_two_factor() is True


def test_personal_data_roles_are_every_role_but_viewer() -> None:
    assert set(PERSONAL_DATA_ROLES) == set(Role.values) - {"viewer"}


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
def test_platform_staff_need_two_factor(flag: str) -> None:
    assert UserFactory(**{flag: True}).requires_two_factor() is True


def test_an_inactive_membership_is_ignored() -> None:
    membership = MembershipFactory(roles=[Role.ANALYST.value], is_active=False)
    assert membership.user.requires_two_factor() is False


def test_a_membership_of_an_inactive_organisation_is_ignored() -> None:
    membership = MembershipFactory(
        roles=[Role.ANALYST.value], organisation=OrganisationFactory(is_active=False)
    )
    assert membership.user.requires_two_factor() is False


def test_one_active_personal_data_role_anywhere_is_enough() -> None:
    user = UserFactory()
    MembershipFactory(user=user, roles=[Role.VIEWER.value])
    MembershipFactory(user=user, roles=[Role.ANALYST.value], is_active=False)
    assert user.requires_two_factor() is False
    MembershipFactory(user=user, roles=[Role.DATA_OFFICER.value])
    assert user.requires_two_factor() is True


def test_display_name_prefers_the_full_name_then_the_email() -> None:
    user = UserFactory(first_name="Ada", last_name="Lovelace", email="ada@example.org")
    assert user.display_name == "Ada Lovelace"
    user.first_name = user.last_name = ""
    assert user.display_name == "ada@example.org"
    user.email = ""
    assert user.display_name == user.username

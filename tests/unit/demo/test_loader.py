"""load_demo: every organisation and persona, valid identifiers, authenticators, idempotence."""

from __future__ import annotations

import base64

import pytest
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.models import AuditEvent
from accord.demo.datasets import demo_datasets
from accord.demo.geography import geography
from accord.demo.loader import (
    DEMO_ACTOR_LABEL,
    ORGANISATIONS,
    PERSONAS,
    DemoConflict,
    check_geography,
    load_demo,
)
from accord.demo.totp import DemoModeOnly
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Membership, Organisation, User

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db

EXPECTED_ORGANISATIONS = {
    # name: (sector, GSS code, ODS code)
    "Kent County Council": (Sector.COUNTY_COUNCIL, "E10000016", ""),
    "Maidstone Borough Council": (Sector.DISTRICT_COUNCIL, "E07000110", ""),
    "Canterbury City Council": (Sector.DISTRICT_COUNCIL, "E07000106", ""),
    "Tunbridge Wells Borough Council": (Sector.DISTRICT_COUNCIL, "E07000116", ""),
    "Medway Council": (Sector.UNITARY_AUTHORITY, "E06000035", ""),
    "London Borough of Hackney": (Sector.LONDON_BOROUGH, "E09000012", ""),
    "London Borough of Islington": (Sector.LONDON_BOROUGH, "E09000019", ""),
    "NHS Kent and Medway Integrated Care Board": (Sector.ICB, "E54000032", "QKS"),
    "Greater Manchester Combined Authority": (Sector.COMBINED_AUTHORITY, "E47000001", ""),
    "Ministry of Housing, Communities and Local Government": (
        Sector.CENTRAL_GOVERNMENT_DEPARTMENT,
        "",
        "",
    ),
    "UK Health Security Agency": (Sector.EXECUTIVE_AGENCY, "", ""),
}

OFFICER = "officer@maidstone.demo.accord.test"
VIEWER = "viewer@hackney.demo.accord.test"
SHARED_ANALYST = "analyst@midkent.demo.accord.test"
STAFF = "staff@platform.demo.accord.test"


def _password_works(username: str, password: str) -> bool:
    return User.objects.get(username=username).check_password(password)


def _counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "devices": TOTPDevice.objects.count(),
        "audit events": AuditEvent.objects.count(),
    }


def test_creates_every_organisation_with_valid_real_identifiers():
    summary = load_demo(password=DEMO_PASSWORD)
    organisations = {o.name: o for o in Organisation.objects.all()}
    assert set(summary.organisations) == set(organisations)
    for name, (sector, gss, ods) in EXPECTED_ORGANISATIONS.items():
        org = organisations[name]
        assert (org.sector, org.gss_code, org.ods_code) == (sector, gss, ods)
    care_homes = [o for o in organisations.values() if o.sector == Sector.CARE_PROVIDER]
    assert len(care_homes) == 3
    assert all("(synthetic)" in o.name and not o.gss_code for o in care_homes)
    geo = geography()
    for org in organisations.values():
        org.full_clean()
        assert org.is_demo
        assert org.is_active
        assert org.ico_registration.startswith("ZX")  # synthetic, never-issued prefix
        if org.gss_code:
            # The area's ONS name appears in the organisation's name.
            assert geo.name_of(org.gss_code).removeprefix("NHS ") in org.name
    assert check_geography() == []
    # Care homes lie in Maidstone, Canterbury and Medway.
    homes = {s.area_code for s in ORGANISATIONS if s.sector == Sector.CARE_PROVIDER}
    assert homes == {"E07000110", "E07000106", "E06000035"}


def test_creates_a_persona_for_every_role_with_a_working_password():
    summary = load_demo(password=DEMO_PASSWORD)
    assert [p.username for p in summary.personas] == [p.username for p in PERSONAS]
    held = {
        role
        for m in Membership.objects.filter(user__username__endswith=".test")
        for role in m.roles
    }
    assert held == set(Role.values)
    for spec in PERSONAS:
        user = User.objects.get(username=spec.username)
        user.full_clean()
        assert user.email == user.username
        assert user.username.endswith(".demo.accord.test")
        assert user.first_name
        assert user.last_name
        memberships = {(m.organisation.name, tuple(m.roles)) for m in user.memberships.all()}
        wanted = {
            (next(o.name for o in ORGANISATIONS if o.key == key), tuple(roles))
            for key, roles in spec.memberships
        }
        assert memberships == wanted
    assert _password_works(OFFICER, DEMO_PASSWORD)
    assert not _password_works(OFFICER, "wrong password here")


def test_the_shared_service_analyst_belongs_to_two_councils():
    load_demo(password=DEMO_PASSWORD)
    names = set(
        Membership.objects.filter(user__username=SHARED_ANALYST).values_list(
            "organisation__name", flat=True
        )
    )
    assert names == {"Maidstone Borough Council", "Tunbridge Wells Borough Council"}


def test_platform_staff_has_no_membership():
    load_demo(password=DEMO_PASSWORD)
    staff = User.objects.get(username=STAFF)
    assert staff.is_staff
    assert staff.is_superuser
    assert not staff.memberships.exists()
    others = User.objects.filter(username__endswith=".test").exclude(pk=staff.pk)
    assert not others.filter(is_staff=True).exists()
    assert not others.filter(is_superuser=True).exists()


def test_personas_who_see_personal_data_have_confirmed_authenticators_and_the_viewer_none():
    summary = load_demo(password=DEMO_PASSWORD)
    by_name = {p.username: p for p in summary.personas}
    for spec in PERSONAS:
        user = User.objects.get(username=spec.username)
        devices = TOTPDevice.objects.filter(user=user)
        if spec.username == VIEWER:
            assert not user.requires_two_factor()
            assert not devices.exists()
            assert by_name[VIEWER].totp_secret is None
            continue
        assert user.requires_two_factor()
        (device,) = devices
        assert device.confirmed
        secret = by_name[spec.username].totp_secret
        assert secret is not None
        assert len(secret) == 32
        assert base64.b32decode(secret) == device.bin_key
    secrets = [p.totp_secret for p in summary.personas if p.totp_secret]
    assert len(set(secrets)) == len(secrets) == len(PERSONAS) - 1


def test_every_write_is_audited_as_the_demo_or_whoever_the_demo_acts_as():
    load_demo(password=DEMO_PASSWORD)
    events = AuditEvent.objects.filter(actor_label=DEMO_ACTOR_LABEL)
    count = {
        a: events.filter(action=a).count() for a in set(events.values_list("action", flat=True))
    }
    # Organisations with no member who may sign (or send the demo's returns, or sign as
    # Caldicott Guardian) get a synthetic account for it (no password).
    signatories = User.objects.filter(username__endswith="@signatories.accord.invalid").count()
    assert count == {
        "organisation.created": len(ORGANISATIONS),
        "account.created": len(PERSONAS) + signatories,
        "organisation.member.added": sum(len(p.memberships) for p in PERSONAS) + signatories,
        "auth.two_factor_enrolled": len(PERSONAS) - 1,
        # The datasets, and the demo's National Data Opt-out list (accord.demo.optouts).
        "vault.object.stored": len(demo_datasets()) + 1,
        "vault.copy.released": sum(1 for d in demo_datasets() if d.copy_to),
        "framework.created": 1,
        "framework.member_added": len(ORGANISATIONS),
        # The care homes', Kent's housing benefit, UKHSA's vaccination uptake, and the single
        # view's four: Maidstone's council tax, Kent's adult social care and free school
        # meals, the ICB's shielded patient list.
        "collection.created": 3 + 4,
        # Three homes and two councils (Kent, Medway) to the care homes'; Kent to its own;
        # UKHSA to its own; each single view source's owner to its own.
        "collection.contributor_added": 3 + 2 + 1 + 1 + 4,
        # Maidstone's outcome report to Kent (accord.demo.outcomes), and Kent's notice of it.
        "outcome.reported": 1,
        "notification.sent": 1,
        "optouts.list_created": 1,
        "optouts.list_loaded": 1,
    }
    # The rest is the sharing the demo sets up, done as the people and tasks who would do it:
    # agreements drafted and signed by each party's signatories, Kent's analyst sending the
    # housing benefit return, the validation and compilation tasks, UKHSA publishing, the
    # councils' and homes' care home returns, and the outputs the analysts defined and the
    # outputs task made.
    others = AuditEvent.objects.exclude(actor_label=DEMO_ACTOR_LABEL)
    by_whom = {(e.actor_label.split("@")[0], e.action) for e in others}
    assert {
        ("analyst", "submission.received"),
        ("validation", "submission.accepted"),
        ("compilation", "collection.compiled"),
        ("analyst", "release.published"),
        ("analyst", "output.defined"),
        ("outputs", "output.made"),
        ("officer", "submission.received"),  # Medway's
        ("manager", "submission.received"),  # the homes'
    } <= by_whom
    actions = {action for _, action in by_whom}
    assert {a.split(".")[0] for a in actions} <= {
        "agreement",
        "submission",
        "collection",
        "release",
        "notification",
        "vault",
        "access",
        "output",
    }
    # Housing benefit and care homes, and the single view's four.
    assert others.filter(action="agreement.active").count() == 2 + 4
    assert others.filter(action="release.published").count() == 2


def test_a_second_run_keeps_everything_and_creates_nothing():
    first = load_demo(password=DEMO_PASSWORD)
    before = _counts()
    second = load_demo(password="a-different-password-77")
    assert _counts() == before
    assert not first.already_loaded
    assert second.already_loaded
    assert second.created == ()
    assert second.passwords_reset == 0
    assert second.personas == first.personas  # same secrets, same memberships
    # Existing personas keep their password unless a reset is asked for.
    assert _password_works(OFFICER, DEMO_PASSWORD)


def test_a_second_run_keeps_what_testers_changed_and_restores_what_is_missing():
    load_demo(password=DEMO_PASSWORD)
    officer = User.objects.get(username=OFFICER)
    officer.set_password("changed-by-the-tester-1")
    officer.save()
    membership = Membership.objects.get(
        user__username=SHARED_ANALYST, organisation__name="Maidstone Borough Council"
    )
    membership.roles = ["viewer"]
    membership.save()
    TOTPDevice.objects.filter(user__username=OFFICER).delete()

    summary = load_demo(password=DEMO_PASSWORD)

    assert _password_works(OFFICER, "changed-by-the-tester-1")
    membership.refresh_from_db()
    assert membership.roles == ["viewer"]
    assert summary.created == (f"authenticator for {OFFICER}",)
    assert TOTPDevice.objects.filter(user__username=OFFICER, confirmed=True).count() == 1
    analyst = next(p for p in summary.personas if p.username == SHARED_ANALYST)
    assert [m.roles for m in analyst.memberships] == [("Viewer",), ("Analyst",)]


def test_reset_passwords_gives_every_persona_the_new_password_and_is_audited():
    load_demo(password=DEMO_PASSWORD)
    before = _counts()
    summary = load_demo(password="the-new-demo-password-9", reset_passwords=True)
    assert summary.passwords_reset == len(PERSONAS)
    assert _password_works(OFFICER, "the-new-demo-password-9")
    assert not _password_works(OFFICER, DEMO_PASSWORD)
    resets = AuditEvent.objects.filter(action="auth.password_reset")
    assert resets.count() == len(PERSONAS)
    assert _counts() == {**before, "audit events": before["audit events"] + len(PERSONAS)}


def test_refuses_to_take_over_a_real_organisation():
    Organisation.objects.create(
        name="Medway Council", sector=Sector.UNITARY_AUTHORITY, gss_code="E06000035"
    )
    with pytest.raises(DemoConflict, match=r"Medway Council .* not demo data"):
        load_demo(password=DEMO_PASSWORD)
    assert not Organisation.objects.get(name="Medway Council").is_demo


def test_refuses_in_production():
    with (
        override_settings(PRODUCTION=True, DEMO_MODE=False),
        pytest.raises(DemoModeOnly, match="production"),
    ):
        load_demo(password=DEMO_PASSWORD)
    assert not Organisation.objects.exists()
    assert not User.objects.exists()

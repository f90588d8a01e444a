"""Factories for test data (no fixture files)."""

from __future__ import annotations

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.organisations.enums import Role, Sector
from accord.organisations.models import Invitation, Membership, Organisation, User

PASSWORD = "correct-horse-battery-staple-42"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Test Council {n}")
    sector = Sector.DISTRICT_COUNCIL
    gss_code = factory.Sequence(lambda n: f"E07{900000 + n:06d}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    username = factory.LazyAttribute(lambda u: u.email)
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    roles = factory.LazyFunction(lambda: [Role.ANALYST.value])


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.org")
    roles = factory.LazyFunction(lambda: [Role.VIEWER.value])
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(
        lambda: (
            __import__("django.utils.timezone").utils.timezone.now()
            + __import__("datetime").timedelta(days=7)
        )
    )


def totp_device(user: User, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=confirmed)


def current_totp(device: TOTPDevice) -> str:
    from django_otp.oath import totp

    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def standard_descriptor(**overrides: object) -> dict:
    """A small standard exercising every kind of rule, as its published JSON descriptor."""
    descriptor: dict = {
        "name": "test-returns",
        "version": "1.0",
        "title": "Test returns",
        "description": "A standard for tests.",
        "accord": {"personalData": True, "rowDescription": "One row per person"},
        "fields": [
            {
                "name": "person_id",
                "title": "Person ID",
                "type": "string",
                "example": "P001",
                "constraints": {"required": True, "unique": True, "pattern": "P[0-9]{3}"},
            },
            {
                "name": "nhs_number",
                "title": "NHS number",
                "example": "943 476 5919",
                "accord": {"identifier": "nhs_number", "aliases": ["NHS No"]},
            },
            {
                "name": "date_of_birth",
                "title": "Date of birth",
                "type": "date",
                "format": "any",
                "example": "2001-02-03",
                "constraints": {"minimum": "1900-01-01", "maximum": "2026-12-31"},
            },
            {
                "name": "visits",
                "title": "Visits",
                "type": "integer",
                "example": "3",
                "constraints": {"required": True, "minimum": 0, "maximum": 100},
            },
            {
                "name": "category",
                "title": "Category",
                "example": "low",
                "constraints": {"enum": ["low", "medium", "high"]},
            },
            {"name": "carer", "title": "Has a carer", "type": "boolean", "example": "yes"},
            {
                "name": "notes",
                "title": "Notes",
                "example": "ok",
                "constraints": {"maxLength": 10},
            },
        ],
    }
    descriptor.update(overrides)
    return descriptor


def care_home_csv(*changes: dict[str, str]) -> bytes:
    """A care home daily status return as CSV: one row per change, each built from the
    standard's own examples with its own report date, then the change applied."""
    import polars as pl

    from accord.standards.queries import get_standard

    examples = {f.name: f.example for f in get_standard("care-home-daily-status").fields}
    rows = [
        {**examples, "report_date": f"2026-03-{n:02d}", **change}
        for n, change in enumerate(changes, start=1)
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(examples, pl.Utf8)).write_csv().encode()


def member_actor(organisation: Organisation, *roles: Role | str, email: str | None = None):
    """The audit Actor of a new member of ``organisation`` holding ``roles``, as the pages
    would build it for them."""
    from accord.organisations.actors import actor_for

    user = UserFactory(**({"email": email, "username": email} if email else {}))
    membership = MembershipFactory(
        user=user, organisation=organisation, roles=[str(r) for r in roles]
    )
    return actor_for(membership.user, membership)


def framework_of(
    *organisations: Organisation,
    slug: str = "test-accord",
    name: str = "Test Accord",
    template_types: list[str] | None = None,
):
    """A framework with the demo's clauses whose members are ``organisations``."""
    from accord.agreements import actions
    from accord.audit.actor import Actor
    from accord.demo.frameworks import CLAUSES

    framework = actions.create_framework(
        by=Actor.system(),
        slug=slug,
        name=name,
        description=f"{name}, for tests.",
        clauses=CLAUSES,
        template_types=template_types
        or ["data_disclosure_agreement", "memorandum_of_understanding"],
    )
    for organisation in organisations:
        actions.add_framework_member(
            by=Actor.system(), framework=framework, organisation=organisation
        )
    return framework


def combined_authority() -> Organisation:
    """Greater Manchester Combined Authority, with its real GSS code."""
    organisation = OrganisationFactory(
        name="Greater Manchester Combined Authority",
        sector=Sector.COMBINED_AUTHORITY,
        gss_code="E47000001",
    )
    assert isinstance(organisation, Organisation)
    return organisation


def active_care_home_agreement(provider: Organisation, recipient: Organisation, today=None):
    """An agreement in force, drafted from a framework's one-way disclosure template, whose flow
    carries the care home daily status standard from ``provider`` to ``recipient``."""
    from accord.agreements import actions
    from accord.organisations.actors import actor_for
    from accord.standards.queries import get_standard

    def signer(organisation: Organisation):
        membership = MembershipFactory(
            organisation=organisation, roles=[Role.DPO, Role.SENIOR_MANAGER]
        )
        return actor_for(membership.user, membership)

    framework = framework_of(
        provider,
        recipient,
        slug="sharing-accord",
        name="Sharing Accord",
        template_types=["data_disclosure_agreement"],
    )
    agreement = actions.draft_from_framework(
        by=signer(recipient),
        framework=framework,
        agreement_type="data_disclosure_agreement",
        provider=provider,
        recipient=recipient,
        title="Residential settings status sharing",
        standards=[get_standard("care-home-daily-status")],
        frequency="daily",
        today=today,
    )
    signers = [signer(provider), signer(recipient)]
    actions.submit(by=signers[0], agreement=agreement, today=today)
    for person in signers:
        for role in ("dpo", "senior_manager"):
            agreement.refresh_from_db()
            if agreement.status == "in_review":
                actions.sign(by=person, agreement=agreement, role=role, today=today)
    actions.activate(by=signers[0], agreement=agreement, today=today)
    agreement.refresh_from_db()
    assert agreement.status == "active"
    return agreement

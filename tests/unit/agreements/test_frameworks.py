"""Frameworks and their templates: what a draft from each of the five templates holds (parties'
roles, the framework's clauses, fields from a standard), who may set a framework up, which
drafts it refuses, and amendments of agreements in force (one at a time, a new version, which
supersedes the old agreement when it comes into force). Real database, no mocks."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import actions, frameworks, rules
from accord.agreements.models import Agreement, Framework, FrameworkMember
from accord.audit.actor import Actor
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.demo.frameworks import CLAUSES
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    combined_authority,
    framework_of,
    member_actor,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)
ALL_TEMPLATES = [
    "information_sharing_protocol",
    "data_disclosure_agreement",
    "joint_controller_arrangement",
    "controller_processor_contract",
    "memorandum_of_understanding",
]
# Written out here, not read from TEMPLATES, so a change to a template's roles is noticed.
EXPECTED_ROLES = {
    "information_sharing_protocol": (
        ["controller", "data_provider", "data_recipient"],
        ["controller", "data_provider", "data_recipient"],
    ),
    "data_disclosure_agreement": (
        ["controller", "data_provider"],
        ["recipient_controller", "data_recipient"],
    ),
    "joint_controller_arrangement": (
        ["joint_controller", "data_provider"],
        ["joint_controller", "data_recipient"],
    ),
    "controller_processor_contract": (
        ["controller", "data_provider"],
        ["processor", "data_recipient"],
    ),
    "memorandum_of_understanding": (["data_provider"], ["data_recipient"]),
}
PERSONAL_TEMPLATES = [t for t in ALL_TEMPLATES if t != "memorandum_of_understanding"]


# --- helpers ----------------------------------------------------------------------------------


member = member_actor


def staff() -> Actor:
    user = UserFactory(is_staff=True)
    return actor_for(user)


def last_seq() -> int:
    newest = AuditEvent.objects.order_by("-seq").first()
    return newest.seq if newest else 0


def events_since(seq: int) -> list[tuple[str, str]]:
    return [(e.action, e.outcome) for e in AuditEvent.objects.filter(seq__gt=seq).order_by("seq")]


@pytest.fixture
def kent() -> Organisation:
    return OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def framework(kent, gmca) -> Framework:
    return framework_of(kent, gmca, template_types=list(ALL_TEMPLATES))


def party(org_id: str, name: str) -> frameworks.PartyOrganisation:
    return frameworks.PartyOrganisation(
        party_id=org_id, name=name, sector="county_council", gss_code=org_id.upper()
    )


def document_for(agreement_type: str, *slugs: str, clauses: frameworks.Clauses = CLAUSES):
    return frameworks.draft_document(
        agreement_type=agreement_type,
        clauses=clauses,
        provider=party("e10000016", "Kent County Council"),
        recipient=party("e47000001", "Greater Manchester Combined Authority"),
        prefill=frameworks.Prefill(
            title="Care home status",
            question="Which homes need help today?",
            reason="To target support",
            standards=tuple(get_standard(slug) for slug in slugs),
            frequency="daily",
        ),
        start=TODAY,
    )


def care_home_draft(framework, kent, gmca, agreement_type="data_disclosure_agreement"):
    return actions.draft_from_framework(
        by=member(gmca, Role.ANALYST),
        framework=framework,
        agreement_type=agreement_type,
        provider=kent,
        recipient=gmca,
        title="Care home status for Greater Manchester",
        question="Which care homes need help today?",
        reason="To send infection control support where it is needed first.",
        standards=[get_standard("care-home-daily-status")],
        frequency="daily",
        today=TODAY,
    )


def bring_into_force(agreement: Agreement, kent, gmca) -> Agreement:
    kent_dpo = member(kent, Role.DPO, Role.SENIOR_MANAGER)
    gmca_dpo = member(gmca, Role.DPO, Role.SENIOR_MANAGER)
    actions.submit(by=gmca_dpo, agreement=agreement, today=TODAY)
    for signer in (kent_dpo, gmca_dpo):
        for role in ("dpo", "senior_manager"):
            agreement.refresh_from_db()
            if agreement.status == "in_review":
                actions.sign(by=signer, agreement=agreement, role=role, today=TODAY)
    agreement.refresh_from_db()
    assert agreement.status == "approved", rules.check(actions.document_of(agreement), today=TODAY)
    actions.activate(by=kent_dpo, agreement=agreement, today=TODAY)
    agreement.refresh_from_db()
    assert agreement.status == "active"
    return agreement


# --- draft_document: each template ------------------------------------------------------------


@pytest.mark.parametrize("agreement_type", ALL_TEMPLATES)
def test_each_template_gives_the_parties_their_roles(agreement_type) -> None:
    document = document_for(agreement_type, "care-home-daily-status")
    provider, recipient = document.parties
    assert document.agreement_type == agreement_type
    assert (provider.id, recipient.id) == ("e10000016", "e47000001")
    assert (list(provider.roles), list(recipient.roles)) == EXPECTED_ROLES[agreement_type]
    assert [i.model_dump(mode="json") for i in provider.org_identifiers] == [
        {"scheme": "gss", "value": "E10000016"}
    ]


@pytest.mark.parametrize("agreement_type", PERSONAL_TEMPLATES)
def test_personal_data_templates_carry_the_framework_clauses(agreement_type) -> None:
    clauses = CLAUSES.model_copy(
        update={"breach_notify_hours": 48, "default_retention": "P6M", "review_months": 18}
    )
    document = document_for(
        agreement_type, "care-home-daily-status", "shielded-patient-list", clauses=clauses
    )
    assert document.security == CLAUSES.security
    assert document.security.hosting_location == "uk_only"
    assert document.breach_handling.notify_parties_within_hours == 48
    assert [(r.dataset_id, r.party_id, r.period) for r in document.retention] == [
        ("care-home-daily-status", "e47000001", "P6M"),
        ("shielded-patient-list", "e47000001", "P6M"),
    ]
    assert {r.disposal_method for r in document.retention} == {"secure_delete"}
    assert document.term.start_date == TODAY
    assert document.term.review_date == dt.date(2027, 9, 2)
    assert document.term.review_frequency_months == 18
    assert [p.code for p in document.prohibited_uses] == [
        "immigration_enforcement",
        "marketing",
        "commercial_resale",
        "reidentification",
    ]
    assert all(p.description for p in document.prohibited_uses)
    assert document.rights_handling.single_point_of_contact_party == "e10000016"
    assert document.termination.notice_days == 30
    assert document.handling_caveats is None
    reciprocal = agreement_type in ("information_sharing_protocol", "joint_controller_arrangement")
    (flow,) = document.flows
    assert flow.direction == ("reciprocal" if reciprocal else "one_way")
    assert (flow.from_party_id, flow.to_party_ids) == ("e10000016", ["e47000001"])
    assert flow.dataset_ids == ["care-home-daily-status", "shielded-patient-list"]
    assert flow.frequency == "daily"


def test_the_memorandum_has_handling_caveats_and_no_personal_data_clauses() -> None:
    document = document_for("memorandum_of_understanding", "revenue-outturn")
    assert document.handling_caveats is not None
    assert document.security is None
    assert document.breach_handling is None
    assert document.retention == []
    assert document.rights_handling is None
    # The clauses that are not about personal data still apply.
    assert document.term.review_date == dt.date(2027, 3, 2)
    assert len(document.prohibited_uses) == 4


def test_the_review_date_is_the_start_plus_the_review_months_clamped_to_the_month() -> None:
    clauses = CLAUSES.model_copy(update={"review_months": 1})
    document = frameworks.draft_document(
        agreement_type="data_disclosure_agreement",
        clauses=clauses,
        provider=party("a", "A"),
        recipient=party("b", "B"),
        start=dt.date(2026, 1, 31),
    )
    assert document.term.review_date == dt.date(2026, 2, 28)


def test_the_request_fills_in_the_purpose_and_no_standard_means_no_flow() -> None:
    document = document_for("data_disclosure_agreement")
    (purpose,) = document.purposes
    assert (purpose.title, purpose.description, purpose.benefits) == (
        "Care home status",
        "Which homes need help today?",
        "To target support",
    )
    assert document.datasets == []
    assert document.flows == []
    assert document.retention == []


def test_a_framework_clause_must_be_an_iso_duration() -> None:
    with pytest.raises(ValueError, match="ISO-8601 duration"):
        frameworks.Clauses(default_retention="a year")


# --- fields from a standard -------------------------------------------------------------------


def test_personal_columns_of_the_shielded_patient_list_are_personal() -> None:
    document = document_for("data_disclosure_agreement", "shielded-patient-list")
    (dataset,) = document.datasets
    assert dataset.standard.startswith("shielded-patient-list@")
    assert dataset.provider_party_id == "e10000016"
    assert dataset.granularity == "record_level_identifiable"
    fields = {f.name: f for f in dataset.fields}
    assert fields["nhs_number"].personal_data_category == "identifier"
    assert fields["nhs_number"].identifier_type == "nhs_number"
    assert fields["nhs_number"].data_type == "identifier"
    for name in ("given_name", "family_name", "date_of_birth", "email", "postcode", "uprn"):
        assert fields[name].personal_data_category == "personal", name
        assert fields[name].necessity_justification is None  # the drafter must say why
    assert fields["ltla_cd"].personal_data_category == "not_personal"
    assert fields["ltla_cd"].identifier_type == "gss_code"
    assert fields["date_of_birth"].data_type == "date"
    assert fields["spl_status"].data_type == "code"


def test_no_field_of_the_care_home_status_is_personal() -> None:
    standard = get_standard("care-home-daily-status")
    document = document_for("data_disclosure_agreement", "care-home-daily-status")
    (dataset,) = document.datasets
    assert [f.name for f in dataset.fields] == [c.name for c in standard.fields]
    assert {f.personal_data_category for f in dataset.fields} == {"not_personal"}
    assert dataset.granularity == "aggregate"


def test_field_from_standard_keeps_required_and_title() -> None:
    column = get_standard("care-home-daily-status").fields[0]
    field = frameworks.field_from_standard(column)
    assert (field.name, field.description, field.required) == (
        column.name,
        column.title,
        column.required,
    )


# --- draft_from_framework ---------------------------------------------------------------------


def test_a_care_home_draft_needs_only_signatures(framework, kent, gmca) -> None:
    before = last_seq()
    agreement = care_home_draft(framework, kent, gmca)
    assert (agreement.status, agreement.framework_id) == ("draft", framework.pk)
    assert agreement.drafted_by_id == gmca.pk
    assert {(p.party_id, p.organisation_id) for p in agreement.parties.all()} == {
        ("e10000016", kent.pk),
        ("e47000001", gmca.pk),
    }
    document = actions.document_of(agreement)
    assert document.id == str(agreement.pk)
    findings = rules.check(document, today=TODAY)
    assert rules.drafting_blockers(findings) == []
    signing = {f.code for f in rules.blockers(findings)}
    assert signing
    assert signing <= rules.SIGNING_CODES
    drafted = AuditEvent.objects.get(seq__gt=before, action="agreement.drafted")
    assert drafted.details["framework"] == "test-accord"
    assert drafted.details["blockers"] == len(rules.blockers(findings))
    # ... so it can go straight to review.
    actions.submit(by=member(gmca, Role.ANALYST), agreement=agreement, today=TODAY)
    agreement.refresh_from_db()
    assert agreement.status == "in_review"


@pytest.mark.parametrize("agreement_type", ALL_TEMPLATES)
def test_every_template_can_be_drafted_from_the_framework(
    framework, kent, gmca, agreement_type
) -> None:
    agreement = care_home_draft(framework, kent, gmca, agreement_type)
    document = actions.document_of(agreement)
    assert agreement.agreement_type == agreement_type == document.agreement_type
    assert [list(p.roles) for p in document.parties] == list(EXPECTED_ROLES[agreement_type])


def test_only_members_of_the_framework_may_use_its_templates(framework, kent) -> None:
    outsider = OrganisationFactory(name="Camden", gss_code="E09000007")
    with pytest.raises(Refused, match="Camden is not a member of Test Accord"):
        actions.draft_from_framework(
            by=member(kent, Role.DPO),
            framework=framework,
            agreement_type="data_disclosure_agreement",
            provider=kent,
            recipient=outsider,
            today=TODAY,
        )
    other = OrganisationFactory(name="Barnet", gss_code="E09000003")
    with pytest.raises(Refused, match="Camden and Barnet are not members"):
        actions.draft_from_framework(
            by=member(outsider, Role.DPO),
            framework=framework,
            agreement_type="data_disclosure_agreement",
            provider=outsider,
            recipient=other,
            today=TODAY,
        )
    assert not Agreement.objects.exists()


def test_an_agreement_needs_two_different_organisations(framework, kent) -> None:
    with pytest.raises(Refused, match="two different organisations"):
        actions.draft_from_framework(
            by=member(kent, Role.DPO),
            framework=framework,
            agreement_type="data_disclosure_agreement",
            provider=kent,
            recipient=kent,
            today=TODAY,
        )
    assert not Agreement.objects.exists()


def test_only_the_templates_the_framework_offers(kent, gmca) -> None:
    narrow = actions.create_framework(
        by=Actor.system(),
        slug="mou-only",
        name="MoU only",
        description="",
        clauses=CLAUSES,
        template_types=["memorandum_of_understanding"],
    )
    for organisation in (kent, gmca):
        actions.add_framework_member(by=Actor.system(), framework=narrow, organisation=organisation)
    with pytest.raises(Refused, match="MoU only has no template for that kind of agreement"):
        actions.draft_from_framework(
            by=member(kent, Role.DPO),
            framework=narrow,
            agreement_type="data_disclosure_agreement",
            provider=kent,
            recipient=gmca,
            today=TODAY,
        )
    assert not Agreement.objects.exists()


def test_the_drafter_must_act_for_one_of_the_parties(framework, kent, gmca) -> None:
    outsider = OrganisationFactory(name="Camden", gss_code="E09000007")
    with pytest.raises(NotPermitted, match="your organisation is a party to"):
        actions.draft_from_framework(
            by=member(outsider, Role.DPO),
            framework=framework,
            agreement_type="data_disclosure_agreement",
            provider=kent,
            recipient=gmca,
            today=TODAY,
        )


# --- setting frameworks up --------------------------------------------------------------------


def test_platform_staff_and_the_system_set_frameworks_up_audited(kent) -> None:
    before = last_seq()
    by_staff = actions.create_framework(
        by=staff(),
        slug="staff-accord",
        name="Staff accord",
        description="",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement"],
    )
    assert actions.clauses_of(by_staff) == CLAUSES
    actions.add_framework_member(by=staff(), framework=by_staff, organisation=kent)
    assert FrameworkMember.objects.filter(framework=by_staff, organisation=kent).exists()
    created = AuditEvent.objects.get(seq__gt=before, action="framework.created")
    assert created.target == "framework:staff-accord"
    assert created.details["templates"] == ["data_disclosure_agreement"]
    added = AuditEvent.objects.get(seq__gt=before, action="framework.member_added")
    assert added.subject_organisation == str(kent.pk)
    assert added.details == {"organisation": "Kent County Council"}


@pytest.mark.parametrize("roles", [(Role.ORGANISATION_ADMIN,), (Role.DPO, Role.CHIEF_EXECUTIVE)])
def test_nobody_else_sets_frameworks_up_and_refusals_are_audited(kent, framework, roles) -> None:
    someone = member(kent, *roles)
    before = last_seq()
    with pytest.raises(NotPermitted, match="Only platform staff can set up a framework"):
        actions.create_framework(
            by=someone,
            slug="mine",
            name="Mine",
            description="",
            clauses=CLAUSES,
            template_types=["data_disclosure_agreement"],
        )
    newcomer = OrganisationFactory(name="Camden", gss_code="E09000007")
    with pytest.raises(NotPermitted, match="Only platform staff can add members"):
        actions.add_framework_member(by=someone, framework=framework, organisation=newcomer)
    assert not Framework.objects.filter(slug="mine").exists()
    assert not FrameworkMember.objects.filter(organisation=newcomer).exists()
    assert events_since(before) == [
        ("framework.created", "refused"),
        ("framework.member_added", "refused"),
    ]


def test_framework_refusals_unknown_template_same_slug_member_twice(framework, kent) -> None:
    with pytest.raises(Refused, match="no agreement template called adoption_contract"):
        actions.create_framework(
            by=Actor.system(),
            slug="other",
            name="Other",
            description="",
            clauses=CLAUSES,
            template_types=["adoption_contract"],
        )
    with pytest.raises(Refused, match="already a framework called test-accord"):
        actions.create_framework(
            by=Actor.system(),
            slug="test-accord",
            name="Again",
            description="",
            clauses=CLAUSES,
            template_types=[],
        )
    before = last_seq()
    with pytest.raises(Refused, match="already a member of Test Accord"):
        actions.add_framework_member(by=Actor.system(), framework=framework, organisation=kent)
    assert events_since(before) == [("framework.member_added", "refused")]
    assert FrameworkMember.objects.filter(framework=framework, organisation=kent).count() == 1


# --- amendments -------------------------------------------------------------------------------


def test_an_amendment_supersedes_the_agreement_when_it_comes_into_force(
    framework, kent, gmca
) -> None:
    original = bring_into_force(care_home_draft(framework, kent, gmca), kent, gmca)
    old_version = actions.document_of(original).version
    before = last_seq()
    amendment = actions.start_amendment(by=member(gmca, Role.DATA_OFFICER), agreement=original)
    assert amendment.pk != original.pk
    assert (amendment.status, amendment.amends_id, amendment.framework_id) == (
        "draft",
        original.pk,
        framework.pk,
    )
    document = actions.document_of(amendment)
    assert (old_version, document.version) == ("0.1.0", "0.2.0")
    assert document.signatories == []
    assert document.status == "draft"
    assert document.id == str(amendment.pk)
    assert {(p.party_id, p.organisation_id) for p in amendment.parties.all()} == {
        (p.party_id, p.organisation_id) for p in original.parties.all()
    }
    drafted = AuditEvent.objects.get(seq__gt=before, action="agreement.drafted")
    assert drafted.details["amends"] == str(original.pk)
    original.refresh_from_db()
    assert original.status == "active"  # still in force while the amendment is drafted

    before = last_seq()
    bring_into_force(amendment, kent, gmca)
    original.refresh_from_db()
    assert original.status == "superseded"
    assert original.ended_at is not None
    assert actions.document_of(original).status == "superseded"
    superseded = AuditEvent.objects.get(seq__gt=before, action="agreement.superseded")
    assert superseded.target == f"agreement:{original.pk}"
    assert superseded.details["by_amendment"] == str(amendment.pk)
    assert superseded.details["from"] == "active"


def test_a_suspended_agreement_can_be_amended(framework, kent, gmca) -> None:
    original = bring_into_force(care_home_draft(framework, kent, gmca), kent, gmca)
    actions.suspend(by=member(kent, Role.DPO), agreement=original, reason="Investigating")
    amendment = actions.start_amendment(by=member(kent, Role.DPO), agreement=original)
    bring_into_force(amendment, kent, gmca)
    original.refresh_from_db()
    assert original.status == "superseded"


def test_only_one_amendment_at_a_time_and_only_of_an_agreement_in_force(
    framework, kent, gmca
) -> None:
    draft = care_home_draft(framework, kent, gmca)
    officer = member(gmca, Role.DATA_OFFICER)
    with pytest.raises(Refused, match="Only an agreement in force"):
        actions.start_amendment(by=officer, agreement=draft)
    original = bring_into_force(draft, kent, gmca)
    first = actions.start_amendment(by=officer, agreement=original)
    before = last_seq()
    with pytest.raises(Refused, match="already an amendment under way"):
        actions.start_amendment(by=officer, agreement=original)
    assert events_since(before) == [("agreement.drafted", "refused")]
    assert original.amendments.count() == 1
    # Once the first amendment has ended, another may start.
    bring_into_force(first, kent, gmca)
    actions.terminate(by=member(kent, Role.DPO), agreement=first, reason="Replaced")
    with pytest.raises(Refused, match="Only an agreement in force"):
        actions.start_amendment(by=officer, agreement=original)  # superseded now


def test_only_drafting_roles_of_a_party_amend(framework, kent, gmca) -> None:
    original = bring_into_force(care_home_draft(framework, kent, gmca), kent, gmca)
    with pytest.raises(NotPermitted, match="one of these roles"):
        actions.start_amendment(by=member(kent, Role.VIEWER), agreement=original)
    outsider = OrganisationFactory(name="Camden", gss_code="E09000007")
    with pytest.raises(NotPermitted, match="parties to this agreement"):
        actions.start_amendment(by=member(outsider, Role.DPO), agreement=original)
    assert not original.amendments.exists()


# --- returning for changes --------------------------------------------------------------------


def test_returning_for_changes_voids_the_signatures(framework, kent, gmca) -> None:
    agreement = care_home_draft(framework, kent, gmca)
    kent_dpo = member(kent, Role.DPO, Role.SENIOR_MANAGER)
    actions.submit(by=kent_dpo, agreement=agreement, today=TODAY)
    actions.sign(by=kent_dpo, agreement=agreement, role="dpo", today=TODAY)
    actions.sign(by=kent_dpo, agreement=agreement, role="senior_manager", today=TODAY)
    assert agreement.current.signatures.count() == 2
    with pytest.raises(Refused, match="Say what needs to change"):
        actions.return_for_changes(by=kent_dpo, agreement=agreement, reason="  ")
    assert agreement.current.signatures.count() == 2
    before = last_seq()
    actions.return_for_changes(by=kent_dpo, agreement=agreement, reason="Add the UPRN column")
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    assert agreement.current.signatures.count() == 0
    assert actions.document_of(agreement).signatories == []
    returned = AuditEvent.objects.get(seq__gt=before, action="agreement.draft")
    assert returned.details["signatures_voided"] == 2
    assert returned.details["reason"] == "Add the UPRN column"
    # The draft can be edited again.
    document = actions.document_of(agreement).model_copy(update={"title": "Renamed"})
    actions.save_draft(by=kent_dpo, agreement=agreement, document=document, today=TODAY)
    agreement.refresh_from_db()
    assert agreement.title == "Renamed"

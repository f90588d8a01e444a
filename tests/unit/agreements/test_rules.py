"""Rule checks: each builder passes; one small change produces exactly the finding.

Every case starts from a clean builder agreement, applies a minimal mutation, expects
exactly the listed finding codes, then applies a fix and expects a clean agreement again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from accord.agreements.document import (
    DataSharingAgreement,
    Dpa2018Part3,
    Dpia,
    Field,
    LegalBasis,
    OnwardSharing,
    Party,
    Processor,
    ReportBack,
    RetentionRule,
    RightsHandling,
    RowFilter,
    Signature,
    StatutoryGateway,
    Term,
)
from accord.agreements.rules import Finding, add_months, blockers, check, warnings
from tests.unit.agreements.builders import (
    ALL_BUILDERS,
    QUIET_DAY,
    care_home_status,
    housing_delivery_mou,
    london_fsm,
    single_view_of_vulnerability,
)

Mutation = Callable[[DataSharingAgreement], object]


@dataclass
class Case:
    id: str
    build: Callable[[], DataSharingAgreement]
    mutate: Mutation
    codes: tuple[str, ...]
    path: str
    fix: Mutation
    severity: str = "blocker"


def _sig(party_id: str, role: str) -> Signature:
    return Signature(party_id=party_id, role=role, name="Test Signer")  # type: ignore[arg-type]


def _add_field(dataset: int, **kwargs: object) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        a.datasets[dataset].fields.append(Field.model_validate(kwargs))

    return mutate


def _set(*steps: Mutation) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        for step in steps:
            step(a)

    return mutate


def _art9(articles: list[str], schedule1: list[str], url: str | None = None) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        a.legal_basis.article9 = articles  # type: ignore[assignment]
        a.legal_basis.dpa2018_schedule1 = schedule1  # type: ignore[assignment]
        a.legal_basis.appropriate_policy_document_url = url

    return mutate


APD = "https://example.invalid/apd"
SCHEDULE1_FIX = {
    "9.2.b": (["s1p1.1"], APD),
    "9.2.g": (["s1p2.10"], APD),
    "9.2.h": (["s1p1.2"], None),
    "9.2.i": (["s1p1.3"], None),
    "9.2.j": (["s1p1.4"], None),
}

ethnicity = {
    "name": "ethnicity",
    "personal_data_category": "special_category_ethnicity",
    "necessity_justification": "Monitor equal take-up.",
}
offence = {
    "name": "offence_type",
    "personal_data_category": "criminal_offence",
    "necessity_justification": "Assess risk to visiting staff.",
}


def _flow(index: int, **changes: object) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        for key, value in changes.items():
            setattr(a.flows[index], key, value)

    return mutate


def _drop_signatures(party_id: str, role: str | None = None) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        a.signatories = [
            s
            for s in a.signatories
            if not (s.party_id == party_id and (role is None or s.role == role))
        ]

    return mutate


def _sign(party_id: str, role: str) -> Mutation:
    def mutate(a: DataSharingAgreement) -> None:
        a.signatories.append(_sig(party_id, role))

    return mutate


def _make_joint_controllers(a: DataSharingAgreement) -> None:
    for party in a.parties:
        party.roles.append("joint_controller")


def _pseudonymise_datasets(a: DataSharingAgreement) -> None:
    for dataset in a.datasets:
        dataset.granularity = "record_level_pseudonymised"


def _counts_not_personal(a: DataSharingAgreement) -> None:
    for dataset in a.datasets:
        dataset.fields[4].personal_data_category = "not_personal"


def _restore_from(build: Callable[[], DataSharingAgreement], *attrs: str) -> Mutation:
    def fix(a: DataSharingAgreement) -> None:
        fresh = build()
        for attr in attrs:
            setattr(a, attr, getattr(fresh, attr))

    return fix


def _remove_party_ca(a: DataSharingAgreement) -> None:
    a.parties = [p for p in a.parties if p.id != "ca"]
    a.flows[0].to_party_ids = ["nsc"]
    a.signatories = [s for s in a.signatories if s.party_id != "ca"]


def _readd_party_ca(a: DataSharingAgreement) -> None:
    a.parties.append(Party(id="ca", name="Combined Authority", sector="combined_authority"))
    a.signatories.append(_sig("ca", "senior_manager"))


def _schedule1_case(article: str) -> Case:
    wrong = [] if article == "9.2.i" else ["s1p1.3"]
    fix_conditions, fix_url = SCHEDULE1_FIX[article]
    return Case(
        f"schedule1-for-{article}",
        care_home_status,
        _art9([article], wrong),
        ("SCHEDULE1_CONDITION_MISSING",),
        "legal_basis.dpa2018_schedule1",
        _art9([article], [*wrong, *fix_conditions], fix_url),
    )


CASES = [
    # special category data
    Case(
        "special-category-needs-article9",
        london_fsm,
        _add_field(0, **ethnicity),
        ("ARTICLE9_MISSING",),
        "legal_basis.article9",
        _art9(["9.2.g"], ["s1p2.8"], APD),
    ),
    *[_schedule1_case(article) for article in SCHEDULE1_FIX],
    Case(
        "part2-condition-needs-policy-document",
        single_view_of_vulnerability,
        _art9(["9.2.g", "9.2.h"], ["s1p1.2", "s1p2.18"], None),
        ("APPROPRIATE_POLICY_DOCUMENT_MISSING",),
        "legal_basis.appropriate_policy_document_url",
        _art9(["9.2.g", "9.2.h"], ["s1p1.2", "s1p2.18"], APD),
    ),
    Case(
        "s1p1.1-needs-policy-document",
        care_home_status,
        _art9(["9.2.b", "9.2.i"], ["s1p1.1", "s1p1.3"], None),
        ("APPROPRIATE_POLICY_DOCUMENT_MISSING",),
        "legal_basis.appropriate_policy_document_url",
        _art9(["9.2.b", "9.2.i"], ["s1p1.1", "s1p1.3"], APD),
    ),
    # criminal offence data
    Case(
        "criminal-offence-needs-article10",
        single_view_of_vulnerability,
        _add_field(0, **offence),
        ("CRIMINAL_OFFENCE_BASIS_MISSING",),
        "legal_basis.article10",
        lambda a: setattr(a.legal_basis, "article10", True),
    ),
    Case(
        "criminal-offence-article10-still-needs-schedule1",
        london_fsm,
        _set(_add_field(0, **offence), lambda a: setattr(a.legal_basis, "article10", True)),
        ("CRIMINAL_OFFENCE_BASIS_MISSING",),
        "legal_basis.article10",
        lambda a: setattr(a.legal_basis, "dpa2018_part3", Dpa2018Part3(applies=True)),
    ),
    # Article 6(1)(f)
    Case(
        "legitimate-interests-public-body",
        london_fsm,
        lambda a: a.legal_basis.article6.append("6.1.f"),
        ("LEGITIMATE_INTERESTS_PUBLIC_BODY",),
        "legal_basis.article6",
        lambda a: setattr(a.legal_basis, "article6", ["6.1.e"]),
    ),
    Case(
        "legitimate-interests-public-body-in-flow-override",
        care_home_status,
        _flow(0, legal_basis_override=LegalBasis(article6=["6.1.f"])),
        ("LEGITIMATE_INTERESTS_PUBLIC_BODY",),
        "flows[0].legal_basis_override.article6",
        _flow(0, legal_basis_override=LegalBasis(article6=["6.1.c"])),
    ),
    Case(
        "legitimate-interests-private-parties-need-assessment",
        care_home_status,
        _set(
            lambda a: setattr(a.parties[2], "sector", "commercial"),
            lambda a: a.legal_basis.article6.append("6.1.f"),
        ),
        ("LEGITIMATE_INTERESTS_ASSESSMENT_MISSING",),
        "legal_basis.legitimate_interest_assessment_ref",
        lambda a: setattr(a.legal_basis, "legitimate_interest_assessment_ref", "LIA-7"),
        severity="warning",
    ),
    # controllers and processors
    Case(
        "joint-controllers-too-few",
        single_view_of_vulnerability,
        lambda a: setattr(a, "agreement_type", "joint_controller_arrangement"),
        ("JOINT_CONTROLLERS_TOO_FEW",),
        "parties",
        _make_joint_controllers,
    ),
    Case(
        "joint-controllers-need-single-point-of-contact",
        single_view_of_vulnerability,
        _set(
            lambda a: setattr(a, "agreement_type", "joint_controller_arrangement"),
            _make_joint_controllers,
            lambda a: setattr(a, "rights_handling", None),
        ),
        ("SINGLE_POINT_OF_CONTACT_MISSING",),
        "rights_handling.single_point_of_contact_party",
        lambda a: setattr(
            a, "rights_handling", RightsHandling(single_point_of_contact_party="nsc")
        ),
    ),
    Case(
        "controller-processor-contract-lists-processors",
        london_fsm,
        lambda a: setattr(a, "agreement_type", "controller_processor_contract"),
        ("PROCESSORS_NOT_LISTED",),
        "onward_sharing.processors",
        lambda a: setattr(
            a, "onward_sharing", OnwardSharing(processors=[Processor(name="Hosting Ltd")])
        ),
    ),
    # powers, DPIA, health and care, children
    Case(
        "public-bodies-need-a-gateway",
        london_fsm,
        lambda a: setattr(a.legal_basis, "statutory_gateways", []),
        ("STATUTORY_GATEWAY_MISSING",),
        "legal_basis.statutory_gateways",
        lambda a: a.legal_basis.statutory_gateways.append(
            StatutoryGateway(code="ukdsa:gateway/lga1972-s111", power_type="implied_power")
        ),
        severity="warning",
    ),
    Case(
        "data-matching-needs-dpia",
        london_fsm,
        lambda a: setattr(a, "dpia", Dpia(required=False)),
        ("DPIA_REQUIRED",),
        "dpia.required",
        lambda a: setattr(a, "dpia", Dpia(required=True, screening_reason=["data_matching"])),
    ),
    Case(
        "pseudonymised-data-matching-needs-dpia",
        care_home_status,
        _pseudonymise_datasets,
        ("DPIA_REQUIRED",),
        "dpia.required",
        lambda a: setattr(a, "dpia", Dpia(required=True)),
    ),
    Case(
        "health-data-needs-confidentiality-basis",
        care_home_status,
        lambda a: setattr(a.legal_basis, "confidentiality_basis", None),
        ("CONFIDENTIALITY_BASIS_MISSING",),
        "legal_basis.confidentiality_basis",
        lambda a: setattr(a.legal_basis, "confidentiality_basis", "legal_requirement"),
    ),
    Case(
        "health-data-needs-caldicott-guardian",
        care_home_status,
        _drop_signatures("sunrise", "caldicott_guardian"),
        ("CALDICOTT_GUARDIAN_SIGNATURE_MISSING",),
        "signatories",
        _sign("gmca", "caldicott_guardian"),
    ),
    Case(
        "nhs-party-with-personal-data-is-health-and-care",
        london_fsm,
        lambda a: setattr(a.parties[1], "sector", "nhs_trust"),
        ("CONFIDENTIALITY_BASIS_MISSING", "CALDICOTT_GUARDIAN_SIGNATURE_MISSING"),
        "legal_basis.confidentiality_basis",
        _set(
            lambda a: setattr(a.legal_basis, "confidentiality_basis", "explicit_consent"),
            _sign("lbi", "caldicott_guardian"),
        ),
    ),
    Case(
        "children-data-needs-compelling-reason",
        london_fsm,
        lambda a: setattr(a, "children_compelling_reason", " "),
        ("CHILDREN_COMPELLING_REASON_MISSING",),
        "children_compelling_reason",
        lambda a: setattr(a, "children_compelling_reason", "Meals for eligible children."),
    ),
    Case(
        "pupils-without-children-flag",
        london_fsm,
        lambda a: setattr(a, "children_data", False),
        ("CHILDREN_DATA_NOT_FLAGGED",),
        "children_data",
        lambda a: setattr(a, "children_data", True),
        severity="warning",
    ),
    # term
    Case(
        "review-more-than-36-months-after-start",
        london_fsm,
        lambda a: setattr(
            a, "term", Term(start_date=date(2025, 9, 1), review_date=date(2028, 9, 2))
        ),
        ("REVIEW_DATE_TOO_LATE",),
        "term.review_date",
        lambda a: setattr(
            a, "term", Term(start_date=date(2025, 9, 1), review_date=date(2028, 9, 1))
        ),
    ),
    Case(
        "review-date-missing",
        housing_delivery_mou,
        lambda a: setattr(a, "term", None),
        ("REVIEW_DATE_MISSING",),
        "term.review_date",
        lambda a: setattr(a, "term", Term(review_date=date(2026, 6, 1))),
    ),
    Case(
        "review-before-start",
        housing_delivery_mou,
        lambda a: setattr(
            a, "term", Term(start_date=date(2026, 7, 1), review_date=date(2026, 6, 1))
        ),
        ("REVIEW_BEFORE_START",),
        "term.review_date",
        lambda a: setattr(
            a, "term", Term(start_date=date(2025, 7, 1), review_date=date(2026, 6, 1))
        ),
    ),
    Case(
        "end-before-start",
        london_fsm,
        lambda a: setattr(a.term, "end_date", date(2025, 8, 31)),
        ("END_BEFORE_START",),
        "term.end_date",
        lambda a: setattr(a.term, "end_date", None),
    ),
    # minimisation and the MoU track
    Case(
        "personal-field-needs-necessity-justification",
        london_fsm,
        lambda a: setattr(a.datasets[0].fields[1], "necessity_justification", None),
        ("NECESSITY_JUSTIFICATION_MISSING",),
        "datasets[0].fields[1].necessity_justification",
        lambda a: setattr(a.datasets[0].fields[1], "necessity_justification", "To match."),
    ),
    Case(
        "memorandum-with-personal-data",
        care_home_status,
        lambda a: setattr(a, "agreement_type", "memorandum_of_understanding"),
        ("MOU_WITH_PERSONAL_DATA",),
        "agreement_type",
        _counts_not_personal,
    ),
    # signatures
    Case(
        "party-not-signed",
        housing_delivery_mou,
        _drop_signatures("ca"),
        ("PARTY_NOT_SIGNED",),
        "parties[1]",
        _sign("ca", "chief_executive"),
    ),
    Case(
        "public-body-dpo-not-consulted",
        london_fsm,
        _drop_signatures("lbh", "dpo"),
        ("DPO_NOT_CONSULTED",),
        "parties[0]",
        _sign("lbh", "dpo"),
    ),
    Case(
        "public-body-unsigned-and-no-dpo",
        london_fsm,
        _drop_signatures("lbi"),
        ("PARTY_NOT_SIGNED", "DPO_NOT_CONSULTED"),
        "parties[1]",
        _sign("lbi", "dpo"),
    ),
    # flows and references
    Case(
        "flow-to-unknown-party",
        care_home_status,
        _flow(0, to_party_ids=["nobody"]),
        ("UNKNOWN_PARTY",),
        "flows[0].to_party_ids[0]",
        _flow(0, to_party_ids=["gmca"]),
    ),
    Case(
        "flow-from-unknown-party",
        care_home_status,
        _flow(1, from_party_id="nobody"),
        ("UNKNOWN_PARTY",),
        "flows[1].from_party_id",
        _flow(1, from_party_id="oakview"),
    ),
    Case(
        "flow-with-unknown-dataset",
        care_home_status,
        _flow(0, dataset_ids=["beds"]),
        ("UNKNOWN_DATASET",),
        "flows[0].dataset_ids[0]",
        _flow(0, dataset_ids=["sunrise-status"]),
    ),
    Case(
        "flow-with-unknown-purpose",
        care_home_status,
        _flow(0, purpose_ids=["marketing"]),
        ("UNKNOWN_PURPOSE",),
        "flows[0].purpose_ids[0]",
        _flow(0, purpose_ids=["capacity"]),
    ),
    Case(
        "flow-without-sender",
        care_home_status,
        _flow(0, from_party_id=None),
        ("FLOW_NO_SENDER",),
        "flows[0].from_party_id",
        _flow(0, from_party_id="sunrise"),
    ),
    Case(
        "flow-without-recipient",
        care_home_status,
        _flow(0, to_party_ids=[]),
        ("FLOW_NO_RECIPIENT",),
        "flows[0].to_party_ids",
        _flow(0, to_party_ids=["gmca"]),
    ),
    Case(
        "flow-without-dataset",
        care_home_status,
        _flow(0, dataset_ids=[]),
        ("FLOW_NO_DATASET",),
        "flows[0].dataset_ids",
        _flow(0, dataset_ids=["sunrise-status"]),
    ),
    Case(
        "flow-without-purpose",
        care_home_status,
        _flow(0, purpose_ids=[]),
        ("FLOW_NO_PURPOSE",),
        "flows[0].purpose_ids",
        _flow(0, purpose_ids=["capacity"]),
    ),
    Case(
        "flow-without-actions",
        london_fsm,
        _flow(1, actions=[]),
        ("FLOW_NO_ACTIONS",),
        "flows[1].actions",
        _flow(1, actions=["view"]),
    ),
    Case(
        "aggregate-only-flow-cannot-extract",
        care_home_status,
        lambda a: a.flows[0].actions.append("extract"),
        ("FLOW_AGGREGATE_ONLY_WITH_EXTRACT",),
        "flows[0].actions",
        _flow(0, actions=["aggregate_only"]),
    ),
    Case(
        "row-filter-on-unknown-column",
        london_fsm,
        _flow(0, row_filter=RowFilter(column="la_code", scope="recipient_area")),
        ("ROW_FILTER_UNKNOWN_COLUMN",),
        "flows[0].row_filter.column",
        _flow(0, row_filter=RowFilter(column="ltla_cd", scope="recipient_area")),
    ),
    Case(
        "row-filter-named-values-without-values",
        london_fsm,
        _flow(0, row_filter=RowFilter(column="ltla_cd", scope="named_values")),
        ("ROW_FILTER_NO_VALUES",),
        "flows[0].row_filter.values",
        _flow(
            0, row_filter=RowFilter(column="ltla_cd", scope="named_values", values=["E09000019"])
        ),
    ),
    Case(
        "dataset-from-unknown-provider",
        single_view_of_vulnerability,
        lambda a: setattr(a.datasets[2], "provider_party_id", "almo"),
        ("UNKNOWN_PARTY",),
        "datasets[2].provider_party_id",
        lambda a: setattr(a.datasets[2], "provider_party_id", "nsh"),
    ),
    Case(
        "retention-for-unknown-dataset",
        single_view_of_vulnerability,
        lambda a: a.retention.append(RetentionRule(dataset_id="gone", party_id="nsc")),
        ("UNKNOWN_DATASET",),
        "retention[1].dataset_id",
        lambda a: setattr(a.retention[1], "dataset_id", "asc"),
    ),
    Case(
        "report-back-to-unknown-party",
        london_fsm,
        lambda a: a.report_back.append(ReportBack(what="x", due="P1M", to_party_ids=["dfe"])),
        ("UNKNOWN_PARTY",),
        "report_back[1].to_party_ids[0]",
        lambda a: setattr(a.report_back[1], "to_party_ids", ["lbh"]),
    ),
    Case(
        "spoc-is-unknown-party",
        single_view_of_vulnerability,
        lambda a: setattr(a, "rights_handling", RightsHandling(single_point_of_contact_party="x")),
        ("UNKNOWN_PARTY",),
        "rights_handling.single_point_of_contact_party",
        lambda a: setattr(
            a, "rights_handling", RightsHandling(single_point_of_contact_party="nsh")
        ),
    ),
    # structure
    Case(
        "too-few-parties",
        housing_delivery_mou,
        _remove_party_ca,
        ("TOO_FEW_PARTIES",),
        "parties",
        _readd_party_ca,
    ),
    Case(
        "no-purpose",
        housing_delivery_mou,
        _set(lambda a: setattr(a, "purposes", []), _flow(0, purpose_ids=[])),
        ("NO_PURPOSE", "FLOW_NO_PURPOSE"),
        "purposes",
        _restore_from(housing_delivery_mou, "purposes", "flows"),
    ),
    Case(
        "no-dataset",
        housing_delivery_mou,
        _set(lambda a: setattr(a, "datasets", []), _flow(0, dataset_ids=[])),
        ("NO_DATASET", "FLOW_NO_DATASET"),
        "datasets",
        _restore_from(housing_delivery_mou, "datasets", "flows"),
    ),
    Case(
        "no-flow",
        housing_delivery_mou,
        lambda a: setattr(a, "flows", []),
        ("NO_FLOW",),
        "flows",
        lambda a: a.flows.extend(housing_delivery_mou().flows),
    ),
    Case(
        "duplicate-purpose-id",
        london_fsm,
        lambda a: a.purposes.append(a.purposes[0].model_copy()),
        ("DUPLICATE_ID",),
        "purposes[1].id",
        lambda a: setattr(a.purposes[1], "id", "p2"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_mutation_produces_exactly_the_finding_and_the_fix_clears_it(case: Case):
    agreement = case.build()
    assert check(agreement, today=QUIET_DAY) == []

    case.mutate(agreement)
    findings = check(agreement, today=QUIET_DAY)
    assert tuple(f.code for f in findings) == case.codes, findings
    assert findings[0].path == case.path
    assert findings[0].severity == case.severity

    case.fix(agreement)
    assert check(agreement, today=QUIET_DAY) == []


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_messages_are_plain_english(case: Case):
    agreement = case.build()
    case.mutate(agreement)
    for finding in check(agreement, today=QUIET_DAY):
        assert finding.message.endswith(".")
        assert finding.message[0].isupper() or finding.message[0] == "'"
        assert "None" not in finding.message
        assert "[" not in finding.message
        assert finding.code not in finding.message
        if "." in finding.path or "[" in finding.path:
            assert finding.path not in finding.message


def test_article9_message_names_the_field_and_the_fix():
    agreement = london_fsm()
    _add_field(0, **ethnicity)(agreement)
    [finding] = check(agreement, today=QUIET_DAY)
    assert finding.message == (
        "Field 'ethnicity' is special category data, so the agreement needs an Article 9 "
        "condition. Choose one under Legal basis."
    )


def test_unknown_reference_messages_name_the_missing_id():
    agreement = care_home_status()
    _flow(0, to_party_ids=["nobody"], dataset_ids=["beds"], purpose_ids=["marketing"])(agreement)
    messages = " ".join(f.message for f in check(agreement, today=QUIET_DAY))
    for missing in ("'nobody'", "'beds'", "'marketing'"):
        assert missing in messages


@pytest.mark.parametrize("build", ALL_BUILDERS, ids=lambda b: b.__name__)
def test_builder_agreements_have_no_findings_on_a_quiet_day(build):
    assert check(build(), today=QUIET_DAY) == []


@pytest.mark.parametrize("build", ALL_BUILDERS, ids=lambda b: b.__name__)
def test_builder_agreements_never_have_blockers_whatever_the_day(build):
    agreement = build()
    day = date(2024, 1, 1)
    while day < date(2031, 1, 1):
        assert blockers(check(agreement, today=day)) == [], day
        day += timedelta(days=17)


def test_empty_draft_lists_what_is_still_to_do():
    draft = DataSharingAgreement(id="d", agreement_type="information_sharing_protocol")
    codes = {f.code for f in check(draft, today=QUIET_DAY)}
    assert codes == {
        "TOO_FEW_PARTIES",
        "NO_PURPOSE",
        "NO_DATASET",
        "NO_FLOW",
        "REVIEW_DATE_MISSING",
    }


def test_non_personal_memorandum_needs_no_dpo_or_gateway():
    agreement = housing_delivery_mou()
    assert all(p.sector in {"unitary_authority", "combined_authority"} for p in agreement.parties)
    assert not agreement.legal_basis.statutory_gateways
    assert check(agreement, today=QUIET_DAY) == []


def test_single_record_level_source_needs_no_dpia():
    agreement = london_fsm()
    agreement.datasets[1].granularity = "aggregate"
    agreement.dpia = None
    assert check(agreement, today=QUIET_DAY) == []


def test_schedule1_other_part1_condition_does_not_satisfy_9_2_h():
    agreement = care_home_status()
    _art9(["9.2.h"], ["s1p1.3"])(agreement)
    assert [f.code for f in check(agreement, today=QUIET_DAY)] == ["SCHEDULE1_CONDITION_MISSING"]


# --- review timing --------------------------------------------------------------------

REVIEW = date(2026, 9, 1)  # london_fsm's review date


@pytest.mark.parametrize(
    ("today", "codes"),
    [
        (REVIEW - timedelta(days=61), []),
        (REVIEW - timedelta(days=60), ["REVIEW_DUE_SOON"]),
        (REVIEW, ["REVIEW_DUE_SOON"]),
        (REVIEW + timedelta(days=1), ["REVIEW_PAST_DUE"]),
        (REVIEW + timedelta(days=90), ["REVIEW_PAST_DUE"]),
        (REVIEW + timedelta(days=91), ["REVIEW_OVERDUE"]),
    ],
)
def test_review_warnings_by_day(today, codes):
    findings = check(london_fsm(), today=today)
    assert [f.code for f in findings] == codes
    assert all(f.severity == "warning" for f in findings)
    assert all(f.path == "term.review_date" for f in findings)


def test_overdue_review_message_gives_the_date_and_days():
    [finding] = check(london_fsm(), today=REVIEW + timedelta(days=100))
    assert "2026-09-01" in finding.message
    assert "100 days ago" in finding.message


@pytest.mark.parametrize("status", ["expired", "terminated", "superseded"])
def test_ended_agreements_are_not_chased_for_review(status):
    agreement = london_fsm()
    agreement.status = status
    assert check(agreement, today=REVIEW + timedelta(days=400)) == []


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2025, 9, 1), 36, date(2028, 9, 1)),
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
    ],
)
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# --- helpers ----------------------------------------------------------------------------


def test_blockers_and_warnings_split_findings():
    b = Finding("A", "blocker", "A.", "x")
    w = Finding("B", "warning", "B.", "y")
    assert blockers([b, w]) == [b]
    assert warnings([b, w]) == [w]


def test_finding_is_frozen():
    finding = Finding("A", "blocker", "A.", "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.code = "B"  # type: ignore[misc]

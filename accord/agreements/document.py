"""The canonical data sharing agreement, as pydantic v2 models.

Field names follow the v0.1 schema in the agreements-and-law reference (§1.7), plus
Accord's extensions that the access layer enforces: per-flow ``actions`` and
``row_filter``, agreement-level ``prohibited_uses`` and ``report_back``, a
``standard`` on each dataset, and ``handling_caveats`` for memoranda of understanding.

The models are strict about types and enumerations but permissive about completeness,
so a half-filled draft parses. Whether an agreement is complete, consistent and
lawful is decided by :mod:`accord.agreements.rules`, which returns findings rather
than raising.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic import Field as _Attr

SCHEMA_ID = "https://accord.invalid/schema/agreement/0.1"

# ISO-8601 durations, date-based (P1Y, P6M, P2Y6M, P30D, P4W) with an optional time part.
ISO_DURATION_PATTERN = re.compile(
    r"^P(?!$)(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$"
)
SEMVER_PATTERN = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")
# A data standard named as slug@version, matching accord.standards' own patterns.
STANDARD_REF_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*@\d+(?:\.\d+){0,2}$")

Status = Literal[
    "draft",
    "in_review",
    "approved",
    "active",
    "suspended",
    "expired",
    "terminated",
    "superseded",
]
AgreementType = Literal[
    "information_sharing_protocol",
    "data_disclosure_agreement",
    "joint_controller_arrangement",
    "controller_processor_contract",
    "memorandum_of_understanding",
    "overarching_accord",
]
Jurisdiction = Literal["england", "wales", "scotland", "northern_ireland", "uk"]
DataSubject = Literal[
    "residents",
    "service_users",
    "patients",
    "pupils",
    "parents_carers",
    "children",
    "adults_at_risk",
    "staff",
    "tenants",
    "benefit_claimants",
    "offenders",
    "victims",
    "care_home_residents",
    "other",
]
Sector = Literal[
    "central_government_department",
    "executive_agency",
    "devolved_government",
    "combined_authority",
    "county_council",
    "district_council",
    "unitary_authority",
    "metropolitan_borough",
    "london_borough",
    "welsh_principal_council",
    "scottish_council",
    "ni_council",
    "nhs_england",
    "icb",
    "nhs_trust",
    "gp_practice",
    "health_board",
    "police",
    "fire_and_rescue",
    "school_maintained",
    "academy_trust",
    "care_provider",
    "housing_association",
    "vcs",
    "university",
    "commercial",
    "other",
]
PartyRole = Literal[
    "controller",
    "joint_controller",
    "processor",
    "sub_processor",
    "recipient_controller",
    "data_provider",
    "data_recipient",
]
IdentifierScheme = Literal[
    "gss",
    "ods",
    "urn",
    "laestab",
    "ico_registration",
    "companies_house",
    "charity_number",
    "cqc_location",
    "uprn",
]
Granularity = Literal[
    "record_level_identifiable", "record_level_pseudonymised", "aggregate", "anonymised"
]
GeographyLevel = Literal[
    "none",
    "uprn",
    "postcode",
    "oa",
    "lsoa",
    "msoa",
    "ward",
    "ltla",
    "utla",
    "icb",
    "region",
    "country",
]
DataType = Literal[
    "string", "integer", "decimal", "boolean", "date", "datetime", "code", "identifier"
]
IdentifierType = Literal[
    "nhs_number",
    "chi_number",
    "hc_number",
    "uprn",
    "usrn",
    "postcode",
    "upn",
    "uln",
    "nino",
    "gss_code",
    "ods_code",
    "urn_school",
    "laestab",
    "cqc_location_id",
    "local_person_id",
    "local_case_id",
    "pseudonym",
]
PersonalDataCategory = Literal[
    "not_personal",
    "personal",
    "special_category_health",
    "special_category_ethnicity",
    "special_category_other",
    "criminal_offence",
    "child_protection",
    "financial",
    "contact_details",
    "identifier",
]
Transformation = Literal[
    "none", "pseudonymise_keyed_hash", "truncate", "generalise", "aggregate", "suppress"
]
Direction = Literal["one_way", "reciprocal"]
Frequency = Literal[
    "one_off",
    "ad_hoc_on_request",
    "real_time_api",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "annually",
]
TransferMethod = Literal[
    "api_https",
    "sftp",
    "secure_email",
    "shared_platform_access",
    "tre_access",
    "physical_media_encrypted",
]
Format = Literal["csv", "json", "parquet", "xlsx", "fhir", "xml"]
Action = Literal["view", "extract", "aggregate_only", "link"]
RowFilterScope = Literal["recipient_area", "named_values"]
Article6 = Literal["6.1.a", "6.1.b", "6.1.c", "6.1.d", "6.1.e", "6.1.ea", "6.1.f"]
Article6EaCondition = Literal[
    "annex1_p1_public_body_request",
    "annex1_p2_national_security",
    "annex1_p3_emergency",
    "annex1_p5_crime",
    "annex1_p6_safeguarding_vulnerable",
]
Article9 = Literal[
    "9.2.a", "9.2.b", "9.2.c", "9.2.d", "9.2.e", "9.2.f", "9.2.g", "9.2.h", "9.2.i", "9.2.j"
]
Schedule1Condition = Literal[
    "s1p1.1",
    "s1p1.2",
    "s1p1.3",
    "s1p1.4",
    "s1p2.6",
    "s1p2.7",
    "s1p2.8",
    "s1p2.9",
    "s1p2.10",
    "s1p2.11",
    "s1p2.12",
    "s1p2.13",
    "s1p2.14",
    "s1p2.15",
    "s1p2.16",
    "s1p2.17",
    "s1p2.18",
    "s1p2.19",
    "s1p2.20",
    "s1p2.21",
    "s1p2.22",
    "s1p2.23",
    "s1p2.24",
    "s1p2.25",
    "s1p2.26",
    "s1p2.27",
    "s1p2.28",
    "s1p3.29",
    "s1p3.30",
    "s1p3.31",
    "s1p3.32",
    "s1p3.33",
    "s1p3.34",
    "s1p3.35",
    "s1p3.36",
    "s1p3.37",
]
PowerType = Literal["duty", "power", "implied_power"]
ConfidentialityBasis = Literal[
    "not_confidential",
    "implied_consent_individual_care",
    "explicit_consent",
    "s251_reg5_cag",
    "copi_reg3_4_notice",
    "legal_requirement",
    "overriding_public_interest",
]
Classification = Literal["official", "official_sensitive"]
EncryptionInTransit = Literal["tls1_2_plus", "sftp", "none"]
HostingLocation = Literal["uk_only", "uk_and_adequate", "other"]
AccessControl = Literal["rbac", "named_users", "abac"]
Assurance = Literal[
    "dspt_standards_met",
    "cyber_essentials",
    "cyber_essentials_plus",
    "iso27001",
    "psn",
    "nhs_dspt_exceeded",
]
DisposalMethod = Literal["secure_delete", "return", "anonymise"]
Evidence = Literal["certificate", "log"]
SignatureRole = Literal[
    "chief_executive",
    "siro",
    "dpo",
    "caldicott_guardian",
    "information_asset_owner",
    "designated_person",
    "senior_manager",
]
SignatureMethod = Literal["wet", "electronic", "platform_attestation"]
# The ICO's list of processing likely to be high risk, and Art 35(3)'s three mandatory cases
# (the dpia_high_risk_criteria vocabulary has each one's wording and source).
HighRiskCriterion = Literal[
    "data_matching",
    "large_scale_profiling",
    "denial_of_service",
    "invisible_processing",
    "innovative_technology",
    "biometric_data",
    "genetic_data",
    "tracking",
    "targeting_children_or_vulnerable",
    "risk_of_physical_harm",
    "large_scale_special_category",
    "systematic_evaluation",
    "systematic_monitoring",
]
DpiaOutcome = Literal["proceed", "proceed_with_mitigations", "consult_ico", "do_not_proceed"]
ResidualRisk = Literal["low", "medium", "high"]
MatchMethod = Literal["deterministic", "probabilistic", "manual"]
OnTermination = Literal["delete", "return", "retain_under_own_basis"]
Register = Literal["none", "internal_log", "waspi", "dea_part5_register", "council_website"]


def _check_duration(value: str | None) -> str | None:
    if value is not None and not ISO_DURATION_PATTERN.match(value):
        raise ValueError(f"'{value}' is not an ISO-8601 duration such as P1Y, P6M or P30D")
    return value


class _Model(BaseModel):
    """Unknown keys are rejected so typos surface instead of silently vanishing."""

    model_config = ConfigDict(extra="forbid")


class ContactPoint(_Model):
    name: str = ""
    role: str | None = None
    email: str | None = None
    telephone: str | None = None


class Identifier(_Model):
    scheme: IdentifierScheme
    value: str


class Contacts(_Model):
    dpo: ContactPoint | None = None
    siro: ContactPoint | None = None
    caldicott_guardian: ContactPoint | None = None
    operational: ContactPoint | None = None


class Party(_Model):
    id: str
    name: str = ""
    org_identifiers: list[Identifier] = []
    sector: Sector | None = None
    roles: list[PartyRole] = []
    contacts: Contacts | None = None
    waspi_designated_person: ContactPoint | None = None


class Purpose(_Model):
    id: str
    title: str = ""
    description: str = ""
    dpv_purpose: list[str] = []
    function_or_power: str = ""
    benefits: str = ""
    expected_outcomes: list[str] = []
    success_measures: list[str] = []
    is_direct_care: bool = False
    is_research_or_statistics: bool = False
    is_law_enforcement: bool = False


class DisclosureControl(_Model):
    min_cell_count: int | None = None
    rounding: int | None = None
    suppression_rule: str | None = None


class Field(_Model):
    name: str
    description: str = ""
    data_type: DataType = "string"
    identifier_type: IdentifierType | None = None
    code_list: str | None = None
    personal_data_category: PersonalDataCategory = "not_personal"
    dpv_pd: list[str] = []
    necessity_justification: str | None = None
    transformation_before_share: Transformation = "none"
    required: bool = False


class Dataset(_Model):
    id: str
    name: str = ""
    provider_party_id: str | None = None
    description: str = ""
    source_system: str | None = None
    standard: str | None = None
    granularity: Granularity | None = None
    geography_level: GeographyLevel | None = None
    geography_vintage: str | None = None
    disclosure_control: DisclosureControl | None = None
    fields: list[Field] = []

    @field_validator("standard")
    @classmethod
    def _standard_ref(cls, value: str | None) -> str | None:
        if value is not None and not STANDARD_REF_PATTERN.match(value):
            raise ValueError(f"'{value}' must name a data standard as slug@version, e.g. foo@1.0")
        return value


class StatutoryGateway(_Model):
    code: str
    provision_text: str = ""
    url: str | None = None
    power_type: PowerType = "power"


class Dpa2018Part3(_Model):
    applies: bool = False
    s35_condition: str | None = None
    schedule8_condition: str | None = None


class LegalBasis(_Model):
    article6: list[Article6] = []
    article6_ea_condition: Article6EaCondition | None = None
    article9: list[Article9] = []
    dpa2018_schedule1: list[Schedule1Condition] = []
    appropriate_policy_document_url: str | None = None
    article10: bool = False
    dpa2018_part3: Dpa2018Part3 | None = None
    statutory_gateways: list[StatutoryGateway] = []
    confidentiality_basis: ConfidentialityBasis | None = None
    legitimate_interest_assessment_ref: str | None = None


class RowFilter(_Model):
    """Only rows whose ``column`` is the recipient's own area, or one of ``values``."""

    column: str
    scope: RowFilterScope
    values: list[str] = []


class Flow(_Model):
    id: str
    from_party_id: str | None = None
    to_party_ids: list[str] = []
    dataset_ids: list[str] = []
    purpose_ids: list[str] = []
    direction: Direction | None = None
    frequency: Frequency | None = None
    transfer_method: TransferMethod | None = None
    format: Format | None = None
    legal_basis_override: LegalBasis | None = None
    actions: list[Action] = []
    row_filter: RowFilter | None = None


class Term(_Model):
    start_date: date | None = None
    end_date: date | None = None
    review_date: date | None = None
    review_frequency_months: int | None = None


class Security(_Model):
    classification: Classification | None = None
    encryption_in_transit: EncryptionInTransit | None = None
    encryption_at_rest: bool | None = None
    hosting_location: HostingLocation | None = None
    access_control: AccessControl | None = None
    assurance: list[Assurance] = []
    audit_logging: bool | None = None
    pseudonymisation_key_holder: str | None = None


class RetentionRule(_Model):
    dataset_id: str
    party_id: str
    period: str | None = None
    event: str | None = None
    disposal_method: DisposalMethod | None = None
    evidence: Evidence | None = None

    @field_validator("period")
    @classmethod
    def _period(cls, value: str | None) -> str | None:
        return _check_duration(value)


class Processor(_Model):
    name: str
    party_id: str | None = None
    org_identifiers: list[Identifier] = []
    contract_reference: str | None = None
    sub_processor_of: str | None = None
    hosting_location: HostingLocation | None = None


class OnwardSharing(_Model):
    permitted: bool = False
    permitted_recipients: list[str] = []
    processors: list[Processor] = []
    conditions: str = ""


class Dpia(_Model):
    required: bool = False
    screening_reason: list[HighRiskCriterion] = []
    reference: str | None = None
    completed_date: date | None = None
    outcome: DpiaOutcome | None = None
    residual_risk: ResidualRisk | None = None
    dpo_advice_recorded: bool = False


class RightsHandling(_Model):
    single_point_of_contact_party: str | None = None
    sar_routing: str = ""
    objection_process: str = ""
    rectification_propagation: bool = False
    national_data_opt_out_applied: bool | None = None


class Transparency(_Model):
    privacy_notice_urls: list[str] = []
    art14_exemption_relied_on: str | None = None


class BreachHandling(_Model):
    notify_parties_within_hours: int | None = None
    contact_point: ContactPoint | None = None
    ico_notification_owner: str | None = None


class DataQuality(_Model):
    matching_keys: list[IdentifierType] = []
    match_method: MatchMethod | None = None
    accuracy_checks: str = ""
    correction_process: str = ""


class Termination(_Model):
    notice_days: int | None = None
    on_termination: OnTermination | None = None
    certificate_required: bool = False


class Signature(_Model):
    party_id: str
    role: SignatureRole
    name: str = ""
    position: str = ""
    signed_date: date | None = None
    method: SignatureMethod | None = None


class Publication(_Model):
    # "register" would shadow ABCMeta.register on the model, so the attribute is
    # ``register_`` while the document key stays "register".
    model_config = ConfigDict(extra="forbid", validate_by_name=True, serialize_by_alias=True)

    published: bool = False
    register_: Register = _Attr(default="none", alias="register")
    url: str | None = None


class ChangeLogEntry(_Model):
    version: str
    date: _dt.date
    summary: str = ""


class Provenance(_Model):
    created: datetime | None = None
    created_by: str | None = None
    modified: datetime | None = None
    change_log: list[ChangeLogEntry] = []


class ProhibitedUse(_Model):
    code: str
    description: str = ""


class ReportBack(_Model):
    """Something a recipient owes the provider(s) back, e.g. outcomes within P3M."""

    what: str
    due: str
    to_party_ids: list[str] = []

    @field_validator("due")
    @classmethod
    def _due(cls, value: str) -> str:
        if ISO_DURATION_PATTERN.match(value):
            return value
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"'{value}' must be an ISO-8601 duration (P3M) or a date (2026-03-31)"
            ) from None
        return value


class HandlingCaveats(_Model):
    """Handling terms for non-personal data shared under a memorandum of understanding."""

    embargo_until: date | None = None
    foi_exemptions: list[str] = []
    commercially_sensitive: bool = False


class DataSharingAgreement(_Model):
    id: str
    title: str = ""
    version: str = "0.1.0"
    status: Status = "draft"
    agreement_type: AgreementType
    parent_agreement_id: str | None = None
    jurisdictions: list[Jurisdiction] = []
    term: Term | None = None
    parties: list[Party] = []
    purposes: list[Purpose] = []
    data_subjects: list[DataSubject] = []
    children_data: bool = False
    children_compelling_reason: str | None = None
    datasets: list[Dataset] = []
    flows: list[Flow] = []
    legal_basis: LegalBasis = LegalBasis()
    security: Security | None = None
    retention: list[RetentionRule] = []
    onward_sharing: OnwardSharing | None = None
    dpia: Dpia | None = None
    rights_handling: RightsHandling | None = None
    transparency: Transparency | None = None
    breach_handling: BreachHandling | None = None
    data_quality: DataQuality | None = None
    termination: Termination | None = None
    signatories: list[Signature] = []
    publication: Publication | None = None
    provenance: Provenance | None = None
    # Accord extensions
    prohibited_uses: list[ProhibitedUse] = []
    report_back: list[ReportBack] = []
    handling_caveats: HandlingCaveats | None = None

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER_PATTERN.match(value):
            raise ValueError(f"'{value}' is not a semantic version such as 1.0.0")
        return value


def to_canonical_json(agreement: DataSharingAgreement) -> str:
    """The agreement as deterministic JSON: sorted keys, compact separators, ISO dates."""
    data = agreement.model_dump(mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def from_canonical_json(text: str) -> DataSharingAgreement:
    """Parse (and validate) an agreement; raises pydantic.ValidationError when invalid."""
    return DataSharingAgreement.model_validate_json(text)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for the canonical agreement document."""
    schema = DataSharingAgreement.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
    }

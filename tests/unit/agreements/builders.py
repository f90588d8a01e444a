"""Valid example agreements for tests. Each call returns a fresh, independent model.

All four pass ``rules.check`` with no findings when judged on ``QUIET_DAY``, a day
well clear of every example's review window.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from accord.agreements.document import DataSharingAgreement

QUIET_DAY = date(2025, 10, 1)


def _sign(party_id: str, role: str, name: str, position: str) -> dict[str, Any]:
    return {
        "party_id": party_id,
        "role": role,
        "name": name,
        "position": position,
        "signed_date": "2025-03-20",
        "method": "platform_attestation",
    }


def care_home_status() -> DataSharingAgreement:
    """Care providers disclose daily home status to a combined authority (one way).

    Non-personal apart from a small count of residents testing positive, which is
    health data about identifiable people in a small home.
    """

    def status_dataset(dataset_id: str, provider: str, name: str) -> dict[str, Any]:
        return {
            "id": dataset_id,
            "name": name,
            "provider_party_id": provider,
            "standard": "care-home-daily-status@1.0",
            "granularity": "aggregate",
            "geography_level": "ltla",
            "geography_vintage": "LAD25",
            "disclosure_control": {"min_cell_count": None, "rounding": None},
            "fields": [
                {
                    "name": "cqc_location_id",
                    "data_type": "identifier",
                    "identifier_type": "cqc_location_id",
                },
                {"name": "report_date", "data_type": "date", "required": True},
                {"name": "ltla_cd", "data_type": "code", "code_list": "ons:LAD25"},
                {"name": "beds_available", "data_type": "integer"},
                {
                    "name": "residents_covid_positive",
                    "data_type": "integer",
                    "personal_data_category": "special_category_health",
                    "necessity_justification": "Needed to target infection control support; "
                    "small counts can identify residents, so it is treated as health data.",
                },
            ],
        }

    return DataSharingAgreement.model_validate(
        {
            "id": "urn:uuid:0b7d6a7e-0000-4000-8000-000000000001",
            "title": "Care home daily status to Greater Manchester",
            "version": "1.0.0",
            "status": "active",
            "agreement_type": "data_disclosure_agreement",
            "jurisdictions": ["england"],
            "term": {
                "start_date": "2025-04-01",
                "end_date": None,
                "review_date": "2026-04-01",
                "review_frequency_months": 12,
            },
            "parties": [
                {
                    "id": "sunrise",
                    "name": "Sunrise Care Ltd",
                    "org_identifiers": [{"scheme": "cqc_location", "value": "1-000000001"}],
                    "sector": "care_provider",
                    "roles": ["controller", "data_provider"],
                },
                {
                    "id": "oakview",
                    "name": "Oakview Care Homes",
                    "org_identifiers": [{"scheme": "cqc_location", "value": "1-000000002"}],
                    "sector": "care_provider",
                    "roles": ["controller", "data_provider"],
                },
                {
                    "id": "gmca",
                    "name": "Greater Manchester Combined Authority",
                    "org_identifiers": [{"scheme": "gss", "value": "E47000001"}],
                    "sector": "combined_authority",
                    "roles": ["recipient_controller", "data_recipient"],
                },
            ],
            "purposes": [
                {
                    "id": "capacity",
                    "title": "Monitor care home capacity and infection",
                    "function_or_power": "Health and Care Act 2022 (adult social care data)",
                    "benefits": "Earlier support to homes under pressure",
                }
            ],
            "data_subjects": ["care_home_residents"],
            "datasets": [
                status_dataset("sunrise-status", "sunrise", "Sunrise daily status"),
                status_dataset("oakview-status", "oakview", "Oakview daily status"),
            ],
            "flows": [
                {
                    "id": f"{provider}-to-gmca",
                    "from_party_id": provider,
                    "to_party_ids": ["gmca"],
                    "dataset_ids": [f"{provider}-status"],
                    "purpose_ids": ["capacity"],
                    "direction": "one_way",
                    "frequency": "daily",
                    "transfer_method": "api_https",
                    "format": "csv",
                    "actions": ["view", "aggregate_only"],
                }
                for provider in ("sunrise", "oakview")
            ],
            "legal_basis": {
                "article6": ["6.1.c", "6.1.e"],
                "article9": ["9.2.i"],
                "dpa2018_schedule1": ["s1p1.3"],
                "statutory_gateways": [
                    {
                        "code": "ukdsa:gateway/hca2022",
                        "provision_text": "Health and Care Act 2022, adult social care data",
                        "power_type": "duty",
                    }
                ],
                "confidentiality_basis": "legal_requirement",
            },
            "security": {
                "classification": "official_sensitive",
                "encryption_in_transit": "tls1_2_plus",
                "encryption_at_rest": True,
                "hosting_location": "uk_only",
                "access_control": "rbac",
                "audit_logging": True,
            },
            "retention": [
                {
                    "dataset_id": f"{provider}-status",
                    "party_id": "gmca",
                    "period": "P2Y",
                    "disposal_method": "secure_delete",
                    "evidence": "log",
                }
                for provider in ("sunrise", "oakview")
            ],
            "onward_sharing": {"permitted": False},
            "breach_handling": {
                "notify_parties_within_hours": 24,
                "ico_notification_owner": "gmca",
            },
            "signatories": [
                _sign("sunrise", "senior_manager", "A Patel", "Registered manager"),
                _sign("sunrise", "caldicott_guardian", "B Jones", "Caldicott Guardian"),
                _sign("oakview", "senior_manager", "C Smith", "Director"),
                _sign("gmca", "dpo", "D Brown", "Data Protection Officer"),
                _sign("gmca", "siro", "E Green", "SIRO"),
            ],
            "publication": {"published": True, "register": "internal_log"},
            "prohibited_uses": [
                {
                    "code": "no-provider-league-tables",
                    "description": "Not to be used to rank or publish league tables of providers.",
                }
            ],
            "report_back": [
                {
                    "what": "Monthly capacity summary for Greater Manchester",
                    "due": "P1M",
                    "to_party_ids": ["sunrise", "oakview"],
                }
            ],
        }
    )


def single_view_of_vulnerability() -> DataSharingAgreement:
    """A council matches its social care and benefits records with its ALMO's tenancies."""

    def field(name: str, category: str = "personal", **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "personal_data_category": category,
            "necessity_justification": f"'{name}' is needed to identify households at risk.",
            **extra,
        }

    uprn = field("uprn", "identifier", data_type="identifier", identifier_type="uprn")
    return DataSharingAgreement.model_validate(
        {
            "id": "urn:uuid:0b7d6a7e-0000-4000-8000-000000000002",
            "title": "Northshire single view of vulnerability",
            "version": "2.1.0",
            "status": "active",
            "agreement_type": "information_sharing_protocol",
            "jurisdictions": ["england"],
            "term": {"start_date": "2025-01-01", "review_date": "2026-01-01"},
            "parties": [
                {
                    "id": "nsc",
                    "name": "Northshire Council",
                    "org_identifiers": [{"scheme": "gss", "value": "E06000099"}],
                    "sector": "unitary_authority",
                    "roles": ["controller", "data_provider", "data_recipient"],
                },
                {
                    "id": "nsh",
                    "name": "Northshire Homes",
                    "sector": "housing_association",
                    "roles": ["controller", "data_provider"],
                },
            ],
            "purposes": [
                {
                    "id": "vulnerability",
                    "title": "Identify residents at risk and offer early help",
                    "function_or_power": "Care Act 2014 s1 and s2 (well-being, prevention)",
                    "expected_outcomes": ["Earlier contact with households at risk"],
                }
            ],
            "data_subjects": ["residents", "adults_at_risk", "tenants", "service_users"],
            "datasets": [
                {
                    "id": "asc",
                    "name": "Adult social care clients",
                    "provider_party_id": "nsc",
                    "granularity": "record_level_identifiable",
                    "geography_level": "uprn",
                    "fields": [
                        field(
                            "person_id",
                            "identifier",
                            data_type="identifier",
                            identifier_type="local_person_id",
                        ),
                        uprn,
                        field(
                            "primary_support_reason", "special_category_health", data_type="code"
                        ),
                        field("ethnicity", "special_category_ethnicity", data_type="code"),
                    ],
                },
                {
                    "id": "ctr",
                    "name": "Council tax reduction claims",
                    "provider_party_id": "nsc",
                    "granularity": "record_level_identifiable",
                    "fields": [uprn, field("ctr_award_weekly", "financial", data_type="decimal")],
                },
                {
                    "id": "tenancies",
                    "name": "Tenancies and arrears",
                    "provider_party_id": "nsh",
                    "granularity": "record_level_identifiable",
                    "fields": [uprn, field("rent_arrears", "financial", data_type="decimal")],
                },
            ],
            "flows": [
                {
                    "id": "tenancies-to-council",
                    "from_party_id": "nsh",
                    "to_party_ids": ["nsc"],
                    "dataset_ids": ["tenancies"],
                    "purpose_ids": ["vulnerability"],
                    "direction": "one_way",
                    "frequency": "monthly",
                    "transfer_method": "sftp",
                    "format": "csv",
                    "actions": ["view", "link"],
                },
                {
                    "id": "council-internal",
                    "from_party_id": "nsc",
                    "to_party_ids": ["nsc"],
                    "dataset_ids": ["asc", "ctr"],
                    "purpose_ids": ["vulnerability"],
                    "frequency": "monthly",
                    "transfer_method": "shared_platform_access",
                    "actions": ["view", "link"],
                },
            ],
            "legal_basis": {
                "article6": ["6.1.e"],
                "article9": ["9.2.g", "9.2.h"],
                "dpa2018_schedule1": ["s1p1.2", "s1p2.18"],
                "appropriate_policy_document_url": "https://northshire.invalid/apd",
                "statutory_gateways": [
                    {"code": "ukdsa:gateway/care2014-s6", "power_type": "duty"},
                    {"code": "ukdsa:gateway/la2011-s1", "power_type": "implied_power"},
                ],
                "confidentiality_basis": "overriding_public_interest",
            },
            "dpia": {
                "required": True,
                "screening_reason": ["data_matching"],
                "reference": "NSC-DPIA-2024-17",
                "outcome": "proceed_with_mitigations",
                "residual_risk": "low",
                "dpo_advice_recorded": True,
            },
            "data_quality": {"matching_keys": ["uprn"], "match_method": "deterministic"},
            "rights_handling": {"single_point_of_contact_party": "nsc"},
            "retention": [
                {"dataset_id": "tenancies", "party_id": "nsc", "period": "P6M"},
            ],
            "signatories": [
                _sign("nsc", "dpo", "F White", "Data Protection Officer"),
                _sign("nsc", "caldicott_guardian", "G Black", "Director of Adult Services"),
                _sign("nsc", "siro", "H Grey", "SIRO"),
                _sign("nsh", "senior_manager", "I Young", "Chief Executive"),
            ],
        }
    )


def london_fsm() -> DataSharingAgreement:
    """Two London boroughs share benefits data to auto-enrol pupils for free school meals."""

    def benefits(dataset_id: str, provider: str, name: str) -> dict[str, Any]:
        def personal(fname: str, category: str = "personal", **extra: Any) -> dict[str, Any]:
            return {
                "name": fname,
                "personal_data_category": category,
                "necessity_justification": f"'{fname}' is needed to confirm FSM eligibility.",
                **extra,
            }

        return {
            "id": dataset_id,
            "name": name,
            "provider_party_id": provider,
            "standard": "fsm-eligibility@1.0",
            "granularity": "record_level_identifiable",
            "fields": [
                personal("upn", "identifier", data_type="identifier", identifier_type="upn"),
                personal("child_name"),
                personal("date_of_birth", data_type="date"),
                {"name": "ltla_cd", "data_type": "code", "description": "Borough of the school"},
                personal("universal_credit_flag", "financial", data_type="boolean"),
            ],
        }

    return DataSharingAgreement.model_validate(
        {
            "id": "urn:uuid:5b0c0000-0000-4000-8000-000000000003",
            "title": "Cross-borough FSM eligibility sharing",
            "version": "1.0.0",
            "status": "active",
            "agreement_type": "information_sharing_protocol",
            "jurisdictions": ["england"],
            "term": {
                "start_date": "2025-09-01",
                "end_date": "2027-08-31",
                "review_date": "2026-09-01",
            },
            "parties": [
                {
                    "id": "lbh",
                    "name": "London Borough of Hackney",
                    "org_identifiers": [{"scheme": "gss", "value": "E09000012"}],
                    "sector": "london_borough",
                    "roles": ["controller", "data_provider", "data_recipient"],
                },
                {
                    "id": "lbi",
                    "name": "London Borough of Islington",
                    "org_identifiers": [{"scheme": "gss", "value": "E09000019"}],
                    "sector": "london_borough",
                    "roles": ["controller", "data_provider", "data_recipient"],
                },
            ],
            "purposes": [
                {
                    "id": "p1",
                    "title": "Identify and auto-enrol eligible pupils for benefits-related FSM",
                    "dpv_purpose": ["sector-publicservices:SocialWelfareEligibilityAssessment"],
                    "function_or_power": "Education Act 1996 s512ZB (FSM duty); "
                    "Education Act 2005 s110",
                }
            ],
            "data_subjects": ["pupils", "parents_carers", "benefit_claimants"],
            "children_data": True,
            "children_compelling_reason": "Auto-enrolment gets meals to eligible children "
            "whose families have not applied; it is in the child's best interests.",
            "datasets": [
                benefits("lbh-fsm", "lbh", "Hackney FSM eligibility"),
                benefits("lbi-fsm", "lbi", "Islington FSM eligibility"),
            ],
            "flows": [
                {
                    "id": f"{src}-to-{dst}",
                    "from_party_id": src,
                    "to_party_ids": [dst],
                    "dataset_ids": [f"{src}-fsm"],
                    "purpose_ids": ["p1"],
                    "direction": "reciprocal",
                    "frequency": "monthly",
                    "transfer_method": "shared_platform_access",
                    "actions": ["view", "link"],
                    "row_filter": {"column": "ltla_cd", "scope": "recipient_area"},
                }
                for src, dst in (("lbh", "lbi"), ("lbi", "lbh"))
            ],
            "legal_basis": {
                "article6": ["6.1.e"],
                "article9": [],
                "dpa2018_schedule1": [],
                "statutory_gateways": [
                    {"code": "ukdsa:gateway/ea2005-s110", "power_type": "power"},
                    {"code": "ukdsa:gateway/la2011-s1", "power_type": "power"},
                ],
            },
            "dpia": {
                "required": True,
                "screening_reason": ["data_matching"],
                "outcome": "proceed_with_mitigations",
            },
            "retention": [
                {"dataset_id": f"{src}-fsm", "party_id": dst, "period": "P1Y"}
                for src, dst in (("lbh", "lbi"), ("lbi", "lbh"))
            ],
            "signatories": [
                _sign("lbh", "dpo", "J King", "Data Protection Officer"),
                _sign("lbh", "senior_manager", "K Lane", "Director of Education"),
                _sign("lbi", "dpo", "L Moss", "Data Protection Officer"),
            ],
            "report_back": [
                {
                    "what": "Number of pupils newly enrolled for FSM",
                    "due": "P3M",
                    "to_party_ids": ["lbh", "lbi"],
                }
            ],
        }
    )


def housing_delivery_mou() -> DataSharingAgreement:
    """A non-personal memorandum of understanding with handling caveats."""
    return DataSharingAgreement.model_validate(
        {
            "id": "urn:uuid:0b7d6a7e-0000-4000-8000-000000000004",
            "title": "Housing delivery pipeline (pre-publication)",
            "version": "1.0.0",
            "status": "active",
            "agreement_type": "memorandum_of_understanding",
            "term": {"start_date": "2025-06-01", "review_date": "2026-06-01"},
            "parties": [
                {"id": "nsc", "name": "Northshire Council", "sector": "unitary_authority"},
                {
                    "id": "ca",
                    "name": "Northshire Combined Authority",
                    "sector": "combined_authority",
                },
            ],
            "purposes": [{"id": "planning", "title": "Plan housing investment"}],
            "datasets": [
                {
                    "id": "pipeline",
                    "name": "Housing sites pipeline",
                    "provider_party_id": "nsc",
                    "granularity": "aggregate",
                    "geography_level": "ward",
                    "fields": [
                        {"name": "ward_cd", "data_type": "code"},
                        {"name": "homes_planned", "data_type": "integer"},
                    ],
                }
            ],
            "flows": [
                {
                    "id": "pipeline-to-ca",
                    "from_party_id": "nsc",
                    "to_party_ids": ["ca"],
                    "dataset_ids": ["pipeline"],
                    "purpose_ids": ["planning"],
                    "frequency": "quarterly",
                    "actions": ["view", "extract"],
                }
            ],
            "signatories": [
                _sign("nsc", "senior_manager", "M North", "Head of Planning"),
                _sign("ca", "senior_manager", "N South", "Director of Housing"),
            ],
            "handling_caveats": {
                "embargo_until": "2025-12-01",
                "foi_exemptions": ["s22 (information intended for future publication)"],
                "commercially_sensitive": True,
            },
        }
    )


ALL_BUILDERS = (care_home_status, single_view_of_vulnerability, london_fsm, housing_delivery_mou)

"""The canonical agreement document: parsing, strictness and canonical JSON."""

from __future__ import annotations

import json
from datetime import date

import jsonschema
import pytest
from pydantic import ValidationError

from accord.agreements.document import (
    SCHEMA_ID,
    Dataset,
    DataSharingAgreement,
    Flow,
    ReportBack,
    RetentionRule,
    from_canonical_json,
    json_schema,
    to_canonical_json,
)
from tests.unit.agreements.builders import ALL_BUILDERS, london_fsm

BUILDERS = pytest.mark.parametrize("build", ALL_BUILDERS, ids=lambda b: b.__name__)

# The abridged example instance from the reference, §1.7.
REFERENCE_EXAMPLE = """
{
  "id": "urn:uuid:5b0c…", "title": "Cross-borough FSM eligibility sharing", "version": "1.0.0",
  "status": "active", "agreement_type": "information_sharing_protocol",
  "jurisdictions": ["england"],
  "term": {"start_date": "2025-09-01", "end_date": "2027-08-31", "review_date": "2026-09-01"},
  "parties": [
    {"id": "lbh", "name": "London Borough of Hackney",
     "org_identifiers": [{"scheme": "gss", "value": "E09000012"}],
     "sector": "london_borough", "roles": ["controller", "data_provider", "data_recipient"]},
    {"id": "lbi", "name": "London Borough of Islington",
     "org_identifiers": [{"scheme": "gss", "value": "E09000019"}],
     "sector": "london_borough", "roles": ["controller", "data_provider", "data_recipient"]}],
  "purposes": [{"id": "p1", "title": "Identify and auto-enrol eligible pupils for FSM",
     "dpv_purpose": ["sector-publicservices:SocialWelfareEligibilityAssessment"],
     "function_or_power": "Education Act 1996 s512ZB (FSM duty); Education Act 2005 s110"}],
  "legal_basis": {"article6": ["6.1.e"], "article9": [], "dpa2018_schedule1": [],
     "statutory_gateways": [{"code": "ukdsa:gateway/ea2005-s110", "power_type": "power"},
                            {"code": "ukdsa:gateway/la2011-s1", "power_type": "power"}]},
  "dpia": {"required": true, "screening_reason": ["data_matching"],
           "outcome": "proceed_with_mitigations"}
}
"""


@BUILDERS
def test_canonical_json_round_trips(build):
    agreement = build()
    text = to_canonical_json(agreement)
    assert from_canonical_json(text) == agreement
    assert to_canonical_json(from_canonical_json(text)) == text


@BUILDERS
def test_canonical_json_is_sorted_and_compact(build):
    text = to_canonical_json(build())
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert "\n" not in text


def test_canonical_json_writes_iso_dates_and_document_keys():
    text = to_canonical_json(london_fsm())
    assert '"review_date":"2026-09-01"' in text
    assert '"signed_date":"2025-03-20"' in text


def test_canonical_json_is_independent_of_input_key_order():
    data = json.loads(to_canonical_json(london_fsm()))
    reversed_data = dict(reversed(list(data.items())))
    again = DataSharingAgreement.model_validate(reversed_data)
    assert to_canonical_json(again) == to_canonical_json(london_fsm())


def test_schema_has_id_and_is_a_valid_schema():
    schema = json_schema()
    assert schema["$id"] == SCHEMA_ID == "https://accord.invalid/schema/agreement/0.1"
    jsonschema.Draft202012Validator.check_schema(schema)


@BUILDERS
def test_schema_validates_builder_agreements(build):
    document = json.loads(to_canonical_json(build()))
    jsonschema.Draft202012Validator(json_schema()).validate(document)


def test_schema_validates_the_reference_example():
    document = json.loads(REFERENCE_EXAMPLE)
    jsonschema.Draft202012Validator(json_schema()).validate(document)
    agreement = DataSharingAgreement.model_validate(document)
    assert agreement.term is not None
    assert agreement.term.review_date == date(2026, 9, 1)
    assert agreement.legal_basis.statutory_gateways[0].code == "ukdsa:gateway/ea2005-s110"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("status",), "live"),
        (("parties", 0, "sector"), "council"),
        (("legal_basis", "article6"), ["6.1.z"]),
        (("flows", 0, "actions"), ["download"]),
        (("unexpected_key",), "x"),
    ],
)
def test_schema_and_model_both_reject_bad_documents(path, value):
    document = json.loads(to_canonical_json(london_fsm()))
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(json_schema()).validate(document)
    with pytest.raises(ValidationError):
        DataSharingAgreement.model_validate(document)


def test_half_filled_draft_parses():
    draft = DataSharingAgreement.model_validate(
        {"id": "urn:uuid:draft", "agreement_type": "information_sharing_protocol"}
    )
    assert draft.status == "draft"
    assert draft.parties == []
    assert draft.legal_basis.article6 == []
    assert from_canonical_json(to_canonical_json(draft)) == draft


def test_draft_with_dangling_references_still_parses():
    draft = DataSharingAgreement.model_validate(
        {
            "id": "d",
            "agreement_type": "data_disclosure_agreement",
            "flows": [{"id": "f", "from_party_id": "nobody", "dataset_ids": ["missing"]}],
        }
    )
    assert draft.flows[0].from_party_id == "nobody"


def test_agreement_type_and_id_are_required():
    with pytest.raises(ValidationError):
        DataSharingAgreement.model_validate({"id": "x"})
    with pytest.raises(ValidationError):
        DataSharingAgreement.model_validate({"agreement_type": "overarching_accord"})


@pytest.mark.parametrize("version", ["1", "1.0", "v1.0.0", "one"])
def test_version_must_be_semver(version):
    with pytest.raises(ValidationError, match="semantic version"):
        DataSharingAgreement(id="x", agreement_type="overarching_accord", version=version)


@pytest.mark.parametrize("period", ["P1Y", "P6M", "P2Y6M", "P30D", "P4W", "PT12H", "P1DT2H"])
def test_retention_period_accepts_iso_durations(period):
    assert RetentionRule(dataset_id="d", party_id="p", period=period).period == period


@pytest.mark.parametrize("period", ["1 year", "P", "PT", "P1.5Y", "12M", "p1y"])
def test_retention_period_rejects_other_text(period):
    with pytest.raises(ValidationError, match="ISO-8601 duration"):
        RetentionRule(dataset_id="d", party_id="p", period=period)


@pytest.mark.parametrize("due", ["P3M", "2026-03-31"])
def test_report_back_due_is_a_duration_or_a_date(due):
    assert ReportBack(what="outcomes", due=due).due == due


@pytest.mark.parametrize("due", ["next month", "31/03/2026", "2026-13-01"])
def test_report_back_due_rejects_other_text(due):
    with pytest.raises(ValidationError):
        ReportBack(what="outcomes", due=due)


@pytest.mark.parametrize("standard", ["care-home-daily-status@1.0", "fsm@2", "a1@1.2.3"])
def test_dataset_standard_is_slug_at_version(standard):
    assert Dataset(id="d", standard=standard).standard == standard


@pytest.mark.parametrize("standard", ["care-home-daily-status", "Care@1.0", "x@v1", "@1.0"])
def test_dataset_standard_rejects_other_forms(standard):
    with pytest.raises(ValidationError, match="slug@version"):
        Dataset(id="d", standard=standard)


def test_flow_extensions_parse():
    flow = Flow.model_validate(
        {
            "id": "f",
            "actions": ["view", "aggregate_only"],
            "row_filter": {"column": "ltla_cd", "scope": "named_values", "values": ["E09000012"]},
        }
    )
    assert flow.row_filter is not None
    assert flow.row_filter.values == ["E09000012"]
    with pytest.raises(ValidationError):
        Flow.model_validate({"id": "f", "row_filter": {"column": "x", "scope": "everywhere"}})


def test_publication_register_keeps_its_document_key():
    agreement = DataSharingAgreement.model_validate(
        {
            "id": "x",
            "agreement_type": "overarching_accord",
            "publication": {"published": True, "register": "waspi"},
        }
    )
    assert agreement.publication is not None
    assert agreement.publication.register_ == "waspi"
    document = json.loads(to_canonical_json(agreement))
    assert document["publication"]["register"] == "waspi"
    assert "register_" not in document["publication"]


def test_handling_caveats_round_trip():
    from tests.unit.agreements.builders import housing_delivery_mou

    agreement = housing_delivery_mou()
    assert agreement.handling_caveats is not None
    assert agreement.handling_caveats.embargo_until == date(2025, 12, 1)
    assert from_canonical_json(to_canonical_json(agreement)) == agreement

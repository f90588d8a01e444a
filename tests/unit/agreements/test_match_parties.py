"""Matching an imported agreement's parties to organisations on Accord: identifiers first
(GSS, ODS, ICO registration), then exact name ignoring case; never an inactive organisation,
never one organisation for two parties."""

from __future__ import annotations

import pytest

from accord.agreements.document import DataSharingAgreement
from accord.agreements.queries import match_parties
from accord.organisations.enums import Sector
from tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db


def agreement(*parties: dict) -> DataSharingAgreement:
    return DataSharingAgreement.model_validate(
        {"id": "x", "agreement_type": "memorandum_of_understanding", "parties": list(parties)}
    )


def test_by_identifier_then_by_name() -> None:
    council = OrganisationFactory(name="Kent County Council", gss_code="E10000016")
    trust = OrganisationFactory(
        name="Kent Community Health", sector=Sector.NHS_TRUST, gss_code="", ods_code="RYY"
    )
    ico = OrganisationFactory(name="Care Co", gss_code="", ico_registration="Z1234567")
    named = OrganisationFactory(name="Sunrise Care Ltd", gss_code="")
    matched, unmatched = match_parties(
        agreement(
            {
                "id": "kcc",
                "name": "Kent CC",
                "org_identifiers": [{"scheme": "gss", "value": "e10 000016"}],
            },
            {"id": "trust", "org_identifiers": [{"scheme": "ods", "value": "RYY"}]},
            {
                "id": "care",
                "org_identifiers": [{"scheme": "ico_registration", "value": "Z1234567"}],
            },
            {
                "id": "sun",
                "name": "sunrise care ltd",
                "org_identifiers": [{"scheme": "cqc_location", "value": "1-1"}],
            },
        )
    )
    assert matched == {"kcc": council, "trust": trust, "care": ico, "sun": named}
    assert unmatched == []


def test_unmatched_inactive_and_duplicates() -> None:
    OrganisationFactory(name="Closed Council", gss_code="E07000001", is_active=False)
    council = OrganisationFactory(name="Open Council", gss_code="E07000002")
    matched, unmatched = match_parties(
        agreement(
            {"id": "closed", "org_identifiers": [{"scheme": "gss", "value": "E07000001"}]},
            {"id": "open", "name": "Open Council"},
            {"id": "again", "org_identifiers": [{"scheme": "gss", "value": "E07000002"}]},
            {"id": "nobody", "name": "Nowhere"},
            {"id": "blank"},
        )
    )
    assert matched == {"open": council}
    assert unmatched == ["closed", "again", "nobody", "blank"]

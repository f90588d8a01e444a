"""A county sharing housing benefit data with one of its districts, for the access tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from accord.agreements.models import Agreement
from accord.demo.housing_benefit import PURPOSE, SHARING
from accord.demo.sharing import set_up_sharing
from accord.organisations.enums import Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory, framework_of


@dataclass
class World:
    county: Organisation
    district: Organisation
    other_district: Organisation
    stranger: Organisation
    agreement: Agreement
    purpose: str = PURPOSE

    @property
    def flow_id(self) -> str:
        return self.agreement.current.document["flows"][0]["id"]

    @property
    def dataset_id(self) -> str:
        return self.agreement.current.document["flows"][0]["dataset_ids"][0]


# The demo's own agreement terms: the tests share as the demo does.
HB_SHARING = SHARING


def county_shares_housing_benefit(*, today: dt.date | None = None) -> World:
    county = OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )
    district = OrganisationFactory(
        name="Maidstone Borough Council", sector=Sector.DISTRICT_COUNCIL, gss_code="E07000110"
    )
    other = OrganisationFactory(
        name="Canterbury City Council", sector=Sector.DISTRICT_COUNCIL, gss_code="E07000106"
    )
    stranger = OrganisationFactory(
        name="London Borough of Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    framework = framework_of(county, district, other, stranger)
    agreement = set_up_sharing(
        framework=framework,
        provider=county,
        recipients=[district, other],
        sharing=HB_SHARING,
        today=today,
    )
    return World(county, district, other, stranger, agreement)


def hb_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "hb_claim_ref": ["HB1", "HB2", "HB3"],
            "person_id": ["P1", "P2", "P3"],
            "nino": ["QQ123456C", "QQ123457C", "QQ123458C"],
            "date_of_birth": [dt.date(1980, 1, 2), dt.date(1975, 5, 6), dt.date(1990, 7, 8)],
            "uprn": ["100021", "100022", "100023"],
            "postcode": ["ME14 1XX", "ME15 2YY", "CT1 1AA"],
            "ltla_cd": ["E07000110", "E07000110", "E07000106"],
            "claim_status": ["live", "live", "live"],
            "hb_in_payment": [True, True, False],
        }
    )

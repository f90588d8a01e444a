"""Kent shares housing benefit with Maidstone and Canterbury under an agreement whose
report-back commitments the tests choose (the demo's terms otherwise)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from accord.agreements.document import DataSharingAgreement, ReportBack
from accord.agreements.models import Agreement
from accord.demo.housing_benefit import SHARING
from accord.demo.sharing import set_up_sharing
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory, framework_of, member_actor

WHAT = "Residents contacted and referred for support"


@dataclass
class World:
    county: Organisation
    district: Organisation
    other_district: Organisation
    stranger: Organisation
    agreement: Agreement

    def analyst(self, organisation: Organisation | None = None, *roles: Role):
        return member_actor(organisation or self.district, *(roles or (Role.ANALYST,)))


def kent_shares(
    *,
    start: dt.date,
    due: Sequence[str] = ("P1M",),
    to_county: bool = True,
    end: dt.date | None = None,
) -> World:
    """The agreement in force from ``start``; one report-back per ``due`` (owed to Kent, or,
    with ``to_county=False``, naming nobody, so owed to the flows' provider)."""
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

    def adjust(document: DataSharingAgreement) -> DataSharingAgreement:
        provider = document.flows[0].from_party_id
        assert provider is not None
        update: dict[str, object] = {
            "report_back": [
                ReportBack(
                    what=WHAT if n == 0 else f"{WHAT} ({n + 1})",
                    due=when,
                    to_party_ids=[provider] if to_county else [],
                )
                for n, when in enumerate(due)
            ]
        }
        if end is not None and document.term is not None:
            update["term"] = document.term.model_copy(update={"end_date": end})
        return document.model_copy(update=update)

    agreement = set_up_sharing(
        framework=framework,
        provider=county,
        recipients=[district, other],
        sharing=SHARING,
        today=start,
        adjust=adjust,
    )
    return World(county, district, other, stranger, agreement)

"""Kent shares housing benefit with Maidstone and Canterbury (the demo's terms, or with the
partner-notification hours the tests choose); people at each with the roles they need."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from accord.agreements.document import BreachHandling, DataSharingAgreement
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.breaches import actions
from accord.breaches.models import Breach
from accord.demo.housing_benefit import SHARING
from accord.demo.sharing import set_up_sharing
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory, framework_of, member_actor

NOW = timezone.make_aware(dt.datetime(2026, 11, 20, 9, 0))
DISCOVERED = NOW - dt.timedelta(hours=2)


@dataclass
class World:
    county: Organisation
    district: Organisation
    other_district: Organisation
    stranger: Organisation
    agreement: Agreement

    def person(self, organisation: Organisation | None = None, *roles: Role) -> Actor:
        return member_actor(organisation or self.county, *(roles or (Role.DPO,)))

    @property
    def dataset_id(self) -> str:
        return str(self.agreement.current.document["datasets"][0]["id"])


def kent_shares(*, partner_hours: int | None = None) -> World:
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
        if partner_hours is None:
            return document
        handling = document.breach_handling or BreachHandling()
        return document.model_copy(
            update={
                "breach_handling": handling.model_copy(
                    update={"notify_parties_within_hours": partner_hours}
                )
            }
        )

    agreement = set_up_sharing(
        framework=framework,
        provider=county,
        recipients=[district, other],
        sharing=SHARING,
        adjust=adjust,
    )
    return World(county, district, other, stranger, agreement)


def reported(world: World, *, by: Actor | None = None, now: dt.datetime = NOW, **kw) -> Breach:
    return actions.report(
        by=by or world.person(),
        agreement=world.agreement,
        what_happened=kw.pop("what_happened", "A spreadsheet was emailed to the wrong council."),
        discovered_at=kw.pop("discovered_at", DISCOVERED),
        data=kw.pop("data", [world.dataset_id]),
        now=now,
        **kw,
    )

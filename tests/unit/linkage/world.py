"""A small world for the linkage tests: a district (Maidstone) links its own council tax
accounts with the county's adult social care records and the ICB's shielded patient list,
which both share with it for linkage under agreements in force (with a completed DPIA). Each
collection's return goes through the real submission path and is checked and compiled by the
real tasks.

The people are made so the answer is known: Ann and Bill are in adult social care and on the
shielded list under the same NHS numbers (an exact match); Ann, Bill and Carol have council
tax accounts at their homes (the same UPRN and date of birth, matched probabilistically); Dan
is on the shielded list with a nickname and a different NHS number in adult social care (a
near miss); Eve appears only once. A Canterbury resident in adult social care is outside
Maidstone's rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.demo.sharing import Sharing, set_up_sharing
from accord.demo.vulnerability_setup import SHARINGS
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.identifiers import nhs_check_digit
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection
from tests.factories import OrganisationFactory, framework_of, member_actor
from tests.tasks import run_queued_tasks

MAIDSTONE = "E07000110"
CANTERBURY = "E07000106"
TODAY = dt.date(2026, 11, 1)


def nhs(n: int) -> str:
    """A synthetic NHS number (999 range) with a valid check digit; ``n`` picks it."""
    while True:
        body = f"{999_000_000 + n:09d}"
        digit = nhs_check_digit(body)
        if digit is not None:
            return body + str(digit)
        n += 1_000


ANN, BILL, CAROL, DAN, EVE, FRED = (nhs(k) for k in (11, 22, 33, 44, 55, 66))


@dataclass
class LinkWorld:
    district: Organisation
    county: Organisation
    icb: Organisation
    stranger: Organisation
    council_tax: Collection
    social_care: Collection
    shielded: Collection
    social_care_agreement: Agreement
    shielded_agreement: Agreement
    analyst: Actor
    viewer: Actor
    stranger_analyst: Actor

    def county_analyst(self) -> Actor:
        return member_actor(self.county, Role.ANALYST)

    @property
    def refs(self) -> list[str]:
        return [f"collection:{c.pk}" for c in (self.council_tax, self.social_care, self.shielded)]


def council_tax() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ct_account_pseudo_id": ["CT1", "CT2", "CT3", "CT4"],
            "person_id": ["M1", "M2", "M3", "M4"],
            "date_of_birth": ["1941-02-03", "1938-07-19", "1980-11-30", "1990-01-01"],
            "uprn": ["990000000001", "990000000002", "990000000003", "990000000009"],
            "postcode": ["ME14 1AA", "ME14 2BB", "ME15 3DF", "ME16 9ZZ"],
            "ltla_cd": [MAIDSTONE] * 4,
            "ct_band": ["B", "C", "A", "D"],
            "ct_single_person_discount": ["true", "true", "false", "false"],
            "ct_reduction_in_payment": ["false", "true", "true", "false"],
            "ct_arrears_band": ["none", "250_to_1000", "over_1000", "none"],
            "ct_enforcement_stage": ["none", "reminder", "liability_order", "none"],
            "extract_date": ["2026-10-31"] * 4,
        }
    )


def social_care() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "person_id": ["K1", "K2", "K3", "K4"],
            "nhs_number": [ANN, BILL, FRED, EVE],
            "date_of_birth": ["1941-02-03", "1938-07-19", "1950-05-05", "1960-06-06"],
            "uprn": ["990000000001", "990000000002", "990000000044", "990000000077"],
            "postcode": ["ME14 1AA", "ME14 2BB", "ME17 4DD", "CT1 2EE"],
            "ltla_cd": [MAIDSTONE, MAIDSTONE, MAIDSTONE, CANTERBURY],
            "service_ref": ["S1", "S2", "S3", "S4"],
            "service_type": ["residential", "carer_support", "nursing", "nursing"],
            "primary_support_reason": [
                "physical",
                "memory_and_cognition",
                "mental_health",
                "physical",
            ],
            "service_status": ["open", "open", "closed", "open"],
            "service_start_date": ["2025-01-01"] * 4,
            "extract_date": ["2026-10-31"] * 4,
        }
    )


def shielded() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "nhs_number": [ANN, BILL, DAN],
            "given_name": ["Ann", "William", "Daniel"],
            "family_name": ["Archer", "Baker", "Dawson"],
            "date_of_birth": ["1941-02-03", "1938-07-19", "1952-08-09"],
            "address_line_1": ["1 Acacia Avenue", "2 Beech Road", "4 Dell Close"],
            "postcode": ["ME14 1AA", "ME14 2BB", "ME17 4DD"],
            "uprn": ["990000000001", "990000000002", "990000000044"],
            "ltla_cd": [MAIDSTONE] * 3,
            "spl_status": ["active", "active", "active"],
            "list_extract_date": ["2026-10-31"] * 3,
        }
    )


def sharing(title: str, standard: str, actions_: tuple[str, ...] = ("view", "link")) -> Sharing:
    """The demo's single-view agreement terms for ``standard`` (health data marked, Article 9
    and Schedule 1 conditions, DPIA for data matching), under a test title and actions."""
    spec = next(spec for _, spec in SHARINGS if spec.standard == standard)
    return dataclasses.replace(spec, title=title, actions=actions_)


def _collection(
    owner: Organisation, slug: str, standard: str, frame: pl.DataFrame, sender: Actor
) -> Collection:
    collection = actions.create_collection(
        by=Actor.system(),
        owner=owner,
        slug=slug,
        name=slug.replace("-", " ").capitalize(),
        standard=get_standard(standard),
        schedule="monthly",
        starts_on=TODAY.replace(day=1) - dt.timedelta(days=62),
    )
    actions.add_contributor(by=Actor.system(), collection=collection, organisation=owner)
    actions.receive(
        by=sender,
        collection=collection,
        period=TODAY.replace(day=1) - dt.timedelta(days=31),
        filename=f"{slug}.csv",
        source=frame.write_csv().encode(),
    )
    return collection


def build_link_world(*, link_actions: tuple[str, ...] = ("view", "link")) -> LinkWorld:
    district = OrganisationFactory(
        name="Maidstone Borough Council", sector=Sector.DISTRICT_COUNCIL, gss_code=MAIDSTONE
    )
    county = OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )
    icb = OrganisationFactory(
        name="NHS Kent and Medway Integrated Care Board", sector=Sector.ICB, gss_code="E54000032"
    )
    stranger = OrganisationFactory(
        name="London Borough of Hackney", sector=Sector.LONDON_BOROUGH, gss_code="E09000012"
    )
    framework = framework_of(district, county, icb, stranger)
    today = timezone.localdate()
    care_agreement = set_up_sharing(
        framework=framework,
        provider=county,
        recipients=[district],
        sharing=sharing(
            "Adult social care for the single view", "adult-social-care-services", link_actions
        ),
        today=today,
    )
    spl_agreement = set_up_sharing(
        framework=framework,
        provider=icb,
        recipients=[district],
        sharing=sharing("Shielded patient list for the single view", "shielded-patient-list"),
        today=today,
    )
    council_tax_ = _collection(
        district,
        "council-tax",
        "council-tax-accounts",
        council_tax(),
        member_actor(district, Role.DATA_OFFICER),
    )
    social_care_ = _collection(
        county,
        "adult-social-care",
        "adult-social-care-services",
        social_care(),
        member_actor(county, Role.DATA_OFFICER),
    )
    shielded_ = _collection(
        icb,
        "shielded-patients",
        "shielded-patient-list",
        shielded(),
        member_actor(icb, Role.DATA_OFFICER),
    )
    run_queued_tasks()
    for collection in (council_tax_, social_care_, shielded_):
        assert collection.compilations.exists(), collection.slug
    return LinkWorld(
        district=district,
        county=county,
        icb=icb,
        stranger=stranger,
        council_tax=council_tax_,
        social_care=social_care_,
        shielded=shielded_,
        social_care_agreement=care_agreement,
        shielded_agreement=spl_agreement,
        analyst=member_actor(district, Role.ANALYST),
        viewer=member_actor(district, Role.VIEWER),
        stranger_analyst=member_actor(stranger, Role.ANALYST),
    )

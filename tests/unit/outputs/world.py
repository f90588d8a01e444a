"""A small world with an output made: a combined authority collects care home status from two
councils (a district and a unitary) and a care home, under a framework; each sends two days'
returns through the real path; the output is defined (with an ICB in its audience) and made by
the real tasks. Used by the outputs unit and integration tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
from django.utils import timezone

from accord.audit.actor import Actor
from accord.demo.care_home_returns import many_care_homes
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.outputs import actions as output_actions
from accord.outputs.models import Output, OutputDefinition
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection
from tests.factories import OrganisationFactory, combined_authority, framework_of, member_actor
from tests.tasks import run_queued_tasks

MAIDSTONE = "E07000110"
MEDWAY = "E06000035"
DAYS = 2


@dataclass
class OutputWorld:
    owner: Organisation
    district: Organisation
    unitary: Organisation
    home: Organisation
    icb: Organisation
    stranger: Organisation
    collection: Collection
    definition: OutputDefinition
    output: Output
    owner_analyst: Actor
    district_officer: Actor


def _send(actor: Actor, collection: Collection, frame: pl.DataFrame) -> None:
    for day in sorted(set(frame.get_column("report_date").to_list())):
        actions.receive(
            by=actor,
            collection=collection,
            period=day,
            filename=f"status-{day}.csv",
            source=frame.filter(pl.col("report_date") == day).write_csv().encode(),
        )


def build_output_world(*, profile: str = "standard", homes: int = 12) -> OutputWorld:
    owner = combined_authority()
    district = OrganisationFactory(
        name="Maidstone Borough Council", sector=Sector.DISTRICT_COUNCIL, gss_code=MAIDSTONE
    )
    unitary = OrganisationFactory(
        name="Medway Council", sector=Sector.UNITARY_AUTHORITY, gss_code=MEDWAY
    )
    home = OrganisationFactory(
        name="Oakleigh House Care Home (synthetic)", sector=Sector.CARE_PROVIDER
    )
    icb = OrganisationFactory(
        name="NHS Kent and Medway Integrated Care Board", sector=Sector.ICB, gss_code="E54000032"
    )
    stranger = OrganisationFactory(
        name="London Borough of Islington", sector=Sector.LONDON_BOROUGH, gss_code="E09000019"
    )
    framework = framework_of(owner, district, unitary, home, icb, stranger)
    today = timezone.localdate()
    collection = actions.create_collection(
        by=Actor.system(),
        owner=owner,
        slug="care-home-status",
        name="Care home daily status",
        standard=get_standard("care-home-daily-status"),
        schedule="daily",
        starts_on=today - dt.timedelta(days=10),
        framework=framework,
    )
    for organisation in (district, unitary, home):
        actions.add_contributor(by=Actor.system(), collection=collection, organisation=organisation)
    last = today - dt.timedelta(days=1)
    district_officer = member_actor(district, Role.DATA_OFFICER)
    _send(
        district_officer,
        collection,
        many_care_homes(areas=[MAIDSTONE], homes=homes, days=DAYS, today=last, first_home=0),
    )
    _send(
        member_actor(unitary, Role.DATA_OFFICER),
        collection,
        many_care_homes(areas=[MEDWAY], homes=homes, days=DAYS, today=last, first_home=500),
    )
    _send(
        member_actor(home, Role.DATA_OFFICER),
        collection,
        many_care_homes(areas=[MAIDSTONE], homes=1, days=DAYS, today=last, first_home=900),
    )
    run_queued_tasks()
    owner_analyst = member_actor(owner, Role.ANALYST)
    definition = output_actions.define_output(
        by=owner_analyst,
        collection=collection,
        slug="care-home-status-by-area",
        name="Care home status by area",
        recipe="care-home-status",
        profile=profile,
        audience=[icb],
    )
    run_queued_tasks()
    output = Output.objects.filter(definition=definition).order_by("-number").first()
    assert output is not None
    assert output.state == "ready", output.message
    return OutputWorld(
        owner=owner,
        district=district,
        unitary=unitary,
        home=home,
        icb=icb,
        stranger=stranger,
        collection=collection,
        definition=definition,
        output=output,
        owner_analyst=owner_analyst,
        district_officer=district_officer,
    )

"""Flexible tables with cell key perturbation: the county's own housing benefit collection,
tabulated by the county and (under the agreement, its own area only) by a district."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl
import pytest
from django.utils import timezone

from accord.access.exceptions import AccessDenied
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.audit.models import AuditEvent
from accord.demo.datasets import housing_benefit_claims
from accord.organisations.enums import Role
from accord.outputs import disclosure, flexible
from accord.outputs.models import OutputQuery
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection
from tests.factories import member_actor
from tests.rolled_back import rolled_back
from tests.tasks import run_queued_tasks
from tests.unit.access.sharing import PURPOSE, World, county_shares_housing_benefit

pytestmark = pytest.mark.django_db
MAIDSTONE = "E07000110"


def hb_collection(world: World, rows: int = 600) -> Collection:
    today = timezone.localdate()
    collection = actions.create_collection(
        by=Actor.system(),
        owner=world.county,
        slug="hb-claims",
        name="Housing benefit claims",
        standard=get_standard("housing-benefit-claims"),
        schedule="monthly",
        starts_on=today.replace(day=1) - dt.timedelta(days=40),
    )
    actions.add_contributor(by=Actor.system(), collection=collection, organisation=world.county)
    actions.receive(
        by=member_actor(world.county, Role.DATA_OFFICER),
        collection=collection,
        period=today,
        filename="hb.csv",
        source=housing_benefit_claims(today, rows=rows).write_csv().encode(),
    )
    run_queued_tasks()
    assert collection.compilations.exists()
    return collection


@pytest.fixture(scope="module")
def shared(django_db_setup: None, django_db_blocker) -> Iterator[tuple[World, Collection]]:
    with rolled_back(django_db_blocker):
        world = county_shares_housing_benefit()
        yield world, hb_collection(world)


def _table(by, collection, *breakdowns, purpose=PURPOSE) -> pl.DataFrame:
    return flexible.flexible_table(
        by=by, collection=collection, breakdowns=breakdowns, purpose=purpose
    ).table


def test_the_same_question_gets_the_same_answer_and_no_small_count(shared) -> None:
    world, collection = shared
    county = member_actor(world.county, Role.ANALYST)
    first = _table(county, collection, "ltla_cd", "tenure", purpose=flexible.OWN_PURPOSE)
    again = _table(county, collection, "tenure", "ltla_cd", purpose=flexible.OWN_PURPOSE)
    assert first.equals(again.select(first.columns).sort("ltla_cd", "tenure"))
    shown = first.get_column(flexible.COUNT).to_list()
    assert all(v == 0 or v >= 10 for v in shown)  # cell key's threshold: never 1..9
    assert set(first.get_column(disclosure.STATUS)) <= {"perturbed", "published"}
    assert OutputQuery.objects.filter(kind="flexible", collection=collection).count() == 2


def test_record_keys_are_persistent_secret_and_uniform(shared) -> None:
    _, collection = shared
    people = pl.Series("person_id", [f"P{n}" for n in range(5000)])
    secret = flexible.record_key_secret(collection)
    keys = flexible.record_keys(people, secret)
    assert keys.equals(flexible.record_keys(people, flexible.record_key_secret(collection)))
    assert keys.equals(flexible.record_keys(people.str.to_lowercase() + " ", secret))
    assert keys.min() >= 0
    assert keys.max() <= 4095
    # Uniform keys: 5,000 people over 4,096 keys fill 4096 x (1 - e^(-5000/4096)), about 2,887.
    assert 2700 < keys.n_unique() < 3050
    other = flexible.record_keys(people, b"another secret of 32 bytes......")
    assert not keys.equals(other)


def test_a_district_counts_only_its_own_area(shared) -> None:
    world, collection = shared
    district = member_actor(world.district, Role.ANALYST)
    table = _table(district, collection, "ltla_cd")
    assert table.get_column("ltla_cd").to_list() == [MAIDSTONE]
    by_age = _table(district, collection, "date_of_birth")
    assert all(
        band == "Not known" or "-" in band or "+" in band for band in by_age["date_of_birth"]
    )


def test_questions_it_cannot_answer_are_refused_plainly(shared) -> None:
    world, collection = shared
    county = member_actor(world.county, Role.ANALYST)
    with pytest.raises(Refused, match="at most 2 ways"):
        _table(county, collection, "ltla_cd", "tenure", "claim_status")
    with pytest.raises(Refused, match="Break the table down only by"):
        _table(county, collection, "nino")
    with pytest.raises(Refused, match="at least one"):
        _table(county, collection)


def test_others_are_refused_by_the_decision_point(shared) -> None:
    world, collection = shared
    with pytest.raises(AccessDenied, match="No active data sharing agreement"):
        _table(member_actor(world.stranger, Role.ANALYST), collection, "ltla_cd")
    with pytest.raises(AccessDenied, match="is not a purpose"):
        _table(member_actor(world.district, Role.ANALYST), collection, "ltla_cd", purpose="Fun")
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").count() >= 2


def test_the_daily_limit_counts_tables_too(shared, settings) -> None:
    world, collection = shared
    settings.OUTPUT_DAILY_QUERY_LIMIT = 1
    other = member_actor(world.other_district, Role.ANALYST)
    _table(other, collection, "tenure")
    with pytest.raises(AccessDenied, match="the most allowed in a day"):
        _table(other, collection, "tenure")

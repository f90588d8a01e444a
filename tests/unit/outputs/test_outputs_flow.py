"""Outputs end to end below the pages: defined, made by the outputs task through the decision
point, returned to each contributor and the audience, read through the decision point, logged
and limited; remade when a return changes the collection; refused when the data has gone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from accord.access.exceptions import AccessDenied
from accord.access.models import Grant
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.audit.verification import verify_chain
from accord.organisations.enums import Role
from accord.outputs import actions, queries, recipes
from accord.outputs.models import OutputQuery
from tests.factories import member_actor
from tests.rolled_back import rolled_back

from .world import MAIDSTONE, MEDWAY, OutputWorld, build_output_world

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def shared(django_db_setup: None, django_db_blocker) -> Iterator[OutputWorld]:
    """One world for the tests that only read it, built inside a transaction rolled back when
    the module ends (each test runs in a savepoint inside it)."""
    with rolled_back(django_db_blocker):
        yield build_output_world()


@pytest.fixture
def world(shared: OutputWorld) -> OutputWorld:
    return shared


def test_an_output_is_made_from_every_contributor_and_protected(world) -> None:
    output = world.output
    assert set(output.contributors.all()) == {world.district, world.unitary, world.home}
    assert output.rules["profile"] == "standard"
    assert output.rules["threshold"] == 8
    assert output.summary["cells"] > 0
    table = queries.read_output(output, by=world.owner_analyst)
    people = table.filter(
        pl_col_in(
            recipes.MEASURE, ["residents_covid_positive_new_24h", "residents_covid_deaths_7d"]
        )
    )
    shown = [v for v in people.get_column(recipes.VALUE).to_list() if v is not None]
    # No count of people between 1 and 7 is shown; every other one is a multiple of 5.
    assert all(v == 0 or (v >= 8 and v % 5 == 0) for v in shown)
    assert set(table.get_column(recipes.CODE).unique().to_list()) >= {MAIDSTONE, MEDWAY, "ALL"}
    made = AuditEvent.objects.filter(action="output.made", target=f"output:{output.pk}")
    assert made.count() == 1
    assert verify_chain().ok


def pl_col_in(column: str, values: list[str]):
    import polars as pl

    return pl.col(column).is_in(values)


def test_each_contributor_and_the_audience_is_granted_aggregates_only(world) -> None:
    grants = Grant.objects.filter(dataset=world.definition.dataset)
    assert {g.recipient for g in grants} == {world.district, world.unitary, world.home, world.icb}
    assert all(g.actions == ["aggregate_only"] and g.provider == world.owner for g in grants)
    assert world.definition in queries.returned_to(world.district)
    assert world.definition in queries.returned_to(world.icb)
    assert world.definition not in queries.returned_to(world.stranger)


def test_a_contributor_reads_it_with_its_own_area_benchmarked(world) -> None:
    table = queries.read_output(world.output, by=world.district_officer)
    assert queries.own_area_of(world.district, table) == MAIDSTONE
    board = queries.dashboard(world.output, table, own_area=MAIDSTONE)
    names = [row.name for row in board.benchmarks]
    assert names[0] == "Maidstone"
    assert names[1] == "South East"
    assert names[-1] == "All homes reporting"
    assert all(row.highlighted == (row.code == MAIDSTONE) for row in board.rows)
    assert board.charts
    assert all(len(c.periods) == 2 for c in board.charts)
    assert OutputQuery.objects.filter(organisation=world.district).count() == 1


@pytest.mark.parametrize("who", ["stranger", "viewer", "staff"])
def test_others_are_refused_and_the_refusal_is_audited(world, who) -> None:
    from accord.audit.actor import Actor

    if who == "stranger":
        reader = member_actor(world.stranger, Role.ANALYST)
    elif who == "viewer":
        reader = member_actor(world.district, Role.VIEWER)
    else:
        reader = Actor.task("outputs", organisation_id=str(world.stranger.pk))
    with pytest.raises(AccessDenied):
        queries.read_output(world.output, by=reader)
    assert not OutputQuery.objects.filter(organisation=world.stranger).exists()
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").exists()


def test_the_daily_query_limit_refuses_with_a_plain_reason(world, settings) -> None:
    settings.OUTPUT_DAILY_QUERY_LIMIT = 2
    queries.read_output(world.output, by=world.district_officer)
    queries.read_output(world.output, by=world.district_officer)
    with pytest.raises(queries.QueryLimitReached, match="2 times today"):
        queries.read_output(world.output, by=world.district_officer)
    # Another organisation has its own allowance.
    queries.read_output(world.output, by=world.owner_analyst)


def test_defining_needs_the_owner_a_role_and_a_matching_recipe(world) -> None:
    collection = world.collection
    with pytest.raises(NotPermitted, match="Only Greater Manchester"):
        actions.define_output(
            by=world.district_officer, collection=collection, slug="x", name="X",
            recipe="care-home-status",
        )  # fmt: skip
    with pytest.raises(NotPermitted, match="analyst"):
        actions.define_output(
            by=member_actor(world.owner, Role.VIEWER), collection=collection, slug="x",
            name="X", recipe="care-home-status",
        )  # fmt: skip
    with pytest.raises(Refused, match="vaccination-uptake-lsoa returns"):
        actions.define_output(
            by=world.owner_analyst, collection=collection, slug="x", name="X",
            recipe="vaccination-uptake",
        )  # fmt: skip
    with pytest.raises(Refused, match="Cell key perturbation needs record-level"):
        actions.define_output(
            by=world.owner_analyst, collection=collection, slug="x", name="X",
            recipe="care-home-status", profile="cell_key",
        )  # fmt: skip
    with pytest.raises(Refused, match="already an output"):
        actions.define_output(
            by=world.owner_analyst, collection=collection, slug=world.definition.slug,
            name="X", recipe="care-home-status",
        )  # fmt: skip
    assert AuditEvent.objects.filter(action="output.defined", outcome="refused").count() == 5


# --- overdue outputs ----------------------------------------------------------------------------


def test_an_overdue_output_is_flagged_once_to_its_maker_and_readers(world, capsys) -> None:
    from accord.cli.main import main
    from accord.notifications.models import Notification, Topic
    from accord.outputs.reminders import due_on, send_output_reminders

    due = due_on(world.definition)
    assert due == world.output.periods_to + dt.timedelta(days=2)  # daily: a day's grace
    assert send_output_reminders(today=due).sent == 0  # due, not yet overdue

    assert main(["outputs", "remind", "--today", (due + dt.timedelta(days=1)).isoformat()]) == 0
    assert "sent 1 overdue reminder(s)" in capsys.readouterr().out
    told = Notification.objects.filter(topic=Topic.OUTPUT_OVERDUE)
    assert {n.organisation for n in told} == {
        world.owner,
        world.district,
        world.unitary,
        world.home,
        world.icb,
    }
    assert AuditEvent.objects.filter(action="output.reminded").count() == 1

    again = send_output_reminders(today=due + dt.timedelta(days=2))
    assert (again.sent, again.already_sent) == (0, 1)
    assert told.count() == 5


# --- the profile an agreement asks for -----------------------------------------------------------


def test_a_contributors_agreement_asking_for_more_makes_the_profile_strict(world) -> None:
    from accord.outputs.actions import profile_for
    from accord.submissions.models import Contributor
    from tests.factories import active_care_home_agreement

    assert profile_for(world.definition)[0].name == "standard"
    agreement = active_care_home_agreement(world.unitary, world.owner)
    Contributor.objects.filter(collection=world.collection, organisation=world.unitary).update(
        agreement=agreement, flow_id=""
    )
    version = agreement.current
    assert (
        "disclosure_control" not in version.document["datasets"][0]
        or not (version.document["datasets"][0]["disclosure_control"])
    )
    assert profile_for(world.definition)[0].name == "standard"  # it sets none
    version.document["datasets"][0]["disclosure_control"] = {"min_cell_count": 10}
    version.save(update_fields=["document"])
    profile, why = profile_for(world.definition)
    assert profile.name == "strict"
    assert why == "the agreement Medway Council sends under"

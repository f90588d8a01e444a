"""Outputs over time: remade when a return changes the collection (the old one destroyed),
refused when the compiled data has gone, and the strict profile. Each test builds its own world,
because destroying keys is not undone by a rollback."""

from __future__ import annotations

import polars as pl
import pytest
from django.utils import timezone

from accord.demo.care_home_returns import many_care_homes
from accord.outputs import actions, queries, recipes
from accord.outputs.models import Output, OutputState
from accord.submissions.models import Collection
from accord.vault import actions as vault
from tests.tasks import run_queued_tasks

from .world import MAIDSTONE, OutputWorld, _send, build_output_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_world() -> OutputWorld:
    return build_output_world()


def test_a_new_return_remakes_it_and_the_old_one_is_destroyed(own_world) -> None:
    world = own_world

    first = world.output
    _send(
        world.district_officer,
        world.collection,
        many_care_homes(areas=[MAIDSTONE], homes=3, days=1, today=timezone.localdate()),
    )
    run_queued_tasks()
    latest = queries.latest_output(world.definition)
    assert latest is not None
    assert latest.number > first.number
    first.refresh_from_db()
    assert first.data is not None
    assert first.data.deleted_at is not None
    assert latest.periods_to == timezone.localdate()


def test_the_output_is_refused_when_the_compiled_data_is_gone(own_world) -> None:
    world = own_world
    compilation = world.collection.compilations.order_by("-number").first()
    vault.crypto_shred(by=world.owner_analyst, obj=compilation.data, reason="test")
    output = actions.queue_output(world.definition)
    run_queued_tasks()
    output.refresh_from_db()
    assert output.state == OutputState.REFUSED
    assert "no compiled data" in output.message


def test_a_compilation_replaced_while_it_is_read_is_read_again(own_world, monkeypatch) -> None:
    """A compilation chosen, then replaced (compiled again, or rewritten by an erasure) before it
    is read: the output is made from the one that replaced it, not failed."""
    from accord.submissions.processing import compile_collection
    from accord.vault.parquet import read_frame

    world = own_world
    calls = []

    def replaced_first(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 1:
            compile_collection(str(world.collection.pk))  # destroys the one chosen
        return read_frame(*args, **kwargs)

    monkeypatch.setattr(actions, "read_frame", replaced_first)
    output = actions.make_output(str(actions.queue_output(world.definition).pk))
    assert output.state == OutputState.READY
    assert len(calls) == 2
    latest = world.collection.compilations.order_by("-number").first()
    assert calls[1] == latest.data_id != calls[0]


def test_strict_profile_suppresses_small_counts_and_their_complements() -> None:
    world = build_output_world(profile="strict")
    table = queries.read_output(world.output, by=world.owner_analyst)
    people = table.filter(pl.col(recipes.MEASURE) == "residents_covid_positive_new_24h")
    shown = [v for v in people.get_column(recipes.VALUE).to_list() if v is not None]
    assert all(v >= 10 for v in shown)
    assert world.output.rules["zeros_suppressed"] is True
    assert Collection.objects.count() == 1
    assert Output.objects.filter(state=OutputState.READY).count() == 1

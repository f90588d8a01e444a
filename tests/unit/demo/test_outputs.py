"""The demo's outputs: councils' and homes' returns for the last week, checked and compiled by
the real tasks, and the care home dashboard made from them and returned to each contributor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.demo import outputs as demo_outputs
from accord.demo.collections import SLUG as COLLECTION_SLUG
from accord.demo.loader import load_demo
from accord.organisations.actors import actor_for
from accord.organisations.models import Membership, Organisation
from accord.outputs import queries
from accord.outputs.models import Output, OutputDefinition, OutputState
from accord.submissions.models import Collection, Submission

from .conftest import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _actor(username: str, organisation: str):
    membership = Membership.objects.select_related("user", "organisation").get(
        user__username=username, organisation__name=organisation
    )
    return actor_for(membership.user, membership)


def test_the_dashboard_is_made_from_every_contributor_and_returned_to_each() -> None:
    load_demo(password=DEMO_PASSWORD)

    collection = Collection.objects.get(slug=COLLECTION_SLUG)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    sent = Submission.objects.filter(collection=collection)
    assert sent.exclude(state="accepted").count() == 0
    assert set(sent.values_list("period", flat=True)) == {
        yesterday - dt.timedelta(days=n) for n in range(7)
    }
    definition = OutputDefinition.objects.get(slug=demo_outputs.SLUG)
    output = queries.latest_output(definition)
    assert output is not None
    assert output.state == OutputState.READY
    contributors = set(output.contributors.values_list("name", flat=True))
    assert {"Kent County Council", "Medway Council"} <= contributors
    assert "Oakleigh House Care Home (synthetic)" in contributors
    assert output.summary["suppressed"] > 0
    assert output.summary["rounded"] >= 0

    # Medway's data officer reads it through the decision point, its own area found.
    medway = Organisation.objects.get(name="Medway Council")
    reader = _actor("officer@medway.demo.accord.test", "Medway Council")
    table = queries.read_output(output, by=reader)
    assert queries.own_area_of(medway, table) == "E06000035"
    board = queries.dashboard(output, table, own_area="E06000035")
    assert board.latest == yesterday
    assert next(row.name for row in board.benchmarks) == "Medway"
    assert definition in queries.returned_to(medway)


def test_loading_again_sends_nothing_twice() -> None:
    load_demo(password=DEMO_PASSWORD)
    before = (Submission.objects.count(), Output.objects.count())
    load_demo(password=DEMO_PASSWORD)
    assert (Submission.objects.count(), Output.objects.count()) == before

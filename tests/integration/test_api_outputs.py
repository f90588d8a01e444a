"""Outputs through the API: listed for the owner, contributors and audience; figures read
through the decision point with the token's own scope, logged, limited; others refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.organisations.enums import Role
from accord.outputs.models import OutputQuery
from tests.rolled_back import rolled_back
from tests.unit.outputs.world import MAIDSTONE, OutputWorld, build_output_world

from .api_helpers import Api, detail, member, stored, token_for, token_of

pytestmark = pytest.mark.django_db
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker) -> Iterator[OutputWorld]:
    with rolled_back(django_db_blocker):
        yield build_output_world()


def _path(world: OutputWorld) -> str:
    return f"/outputs/{world.definition.pk}"


def test_no_token_is_refused(world) -> None:
    assert Api().get("/outputs").status_code == 401
    assert Api().get(_path(world)).status_code == 401


@pytest.mark.parametrize("who", ["owner", "district", "icb"])
def test_the_owner_contributor_and_audience_list_and_read_it(world, who) -> None:
    organisation = {"owner": world.owner, "district": world.district, "icb": world.icb}[who]
    api = Api(token_for(organisation, Role.ANALYST))
    listed = api.get("/outputs").json()
    assert [o["slug"] for o in listed] == [world.definition.slug]
    assert listed[0]["yours"] == (who == "owner")
    response = api.get(_path(world))
    assert response.status_code == 200
    body = response.json()
    assert body["contributors"] == sorted(
        [world.district.name, world.unitary.name, world.home.name]
    )
    figures = body["figures"]
    suppressed = [f for f in figures if f["status"] == "suppressed"]
    assert suppressed
    assert all(f["value"] is None and f["symbol"] in ("[c]", "[x]") for f in suppressed)
    people = {m["name"] for m in body["measures"] if m["counts_people"]}
    shown = [f["value"] for f in figures if f["measure"] in people and f["value"] is not None]
    assert all(v == 0 or (v >= 8 and v % 5 == 0) for v in shown)
    assert any(f["area_code"] == MAIDSTONE for f in figures)
    assert OutputQuery.objects.filter(organisation=organisation, kind="api").count() == 1


def test_another_organisation_gets_404(world) -> None:
    api = Api(token_for(world.stranger, Role.ANALYST))
    assert api.get("/outputs").json() == []
    response = api.get(_path(world))
    assert response.status_code == 404
    assert "no such output" in detail(response)


def test_the_wrong_role_is_refused(world) -> None:
    response = Api(token_for(world.district, Role.VIEWER)).get(_path(world))
    assert response.status_code == 403


def test_an_unknown_output_is_404(world) -> None:
    assert Api(token_for(world.owner, Role.ANALYST)).get(f"/outputs/{UNKNOWN}").status_code == 404


def test_a_token_scoped_to_other_actions_is_refused_by_the_decision_point(world) -> None:
    membership = member(world.district, Role.ANALYST)
    secret = token_of(membership)
    token = stored(secret)
    token.actions = ["view"]
    token.save(update_fields=["actions"])
    response = Api(secret).get(_path(world))
    assert response.status_code == 403
    assert "may not be used to make aggregate figures" in detail(response)


def test_the_daily_limit_is_403_with_its_reason(world, settings) -> None:
    settings.OUTPUT_DAILY_QUERY_LIMIT = 1
    api = Api(token_for(world.unitary, Role.ANALYST))
    assert api.get(_path(world)).status_code == 200
    response = api.get(_path(world))
    assert response.status_code == 403
    assert "the most allowed in a day" in detail(response)

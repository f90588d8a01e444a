"""The breaches API through the real client with real tokens: list, get and report. 401 with
no token, 403 for the wrong role, 404 for another organisation's breach or agreement (or an
agreement the token is not limited to), 422 naming the field for bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.breaches import actions
from accord.breaches.models import Breach
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.token_scopes import create_scoped_api_token
from tests.factories import active_care_home_agreement
from tests.unit.breaches.world import World, kent_shares

from .api_helpers import Api, detail, member, token_for

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def world() -> World:
    return kent_shares(partner_hours=12)


def _breach(world: World, hours_ago: int = 2) -> Breach:
    now = timezone.now()
    return actions.report(
        by=world.person(),
        agreement=world.agreement,
        what_happened="A spreadsheet was emailed to the wrong council.",
        discovered_at=now - dt.timedelta(hours=hours_ago),
        data=[world.dataset_id],
        now=now,
    )


def _body(world: World, **changes: object) -> dict[str, object]:
    return {
        "agreement": str(world.agreement.pk),
        "what_happened": "An extract was left on a shared drive.",
        "discovered_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "data": [world.dataset_id],
        **changes,
    }


def test_no_token_is_401(world) -> None:
    breach = _breach(world)
    api = Api()
    assert api.get("/breaches").status_code == 401
    assert api.get(f"/breaches/{breach.pk}").status_code == 401
    assert api.post("/breaches", _body(world)).status_code == 401


def test_a_dpo_lists_and_gets_breaches_with_their_clocks(world) -> None:
    breach = _breach(world, hours_ago=80)
    api = Api(token_for(world.district, Role.DPO))
    (listed,) = api.get("/breaches").json()
    assert listed["reference"] == breach.reference
    got = api.get(f"/breaches/{breach.pk}")
    assert got.status_code == 200
    body = got.json()
    assert body["partner_hours_from"] == "agreement"
    assert {c["name"]: (c["hours"], c["state"]) for c in body["clocks"]} == {
        "partners": (12, "late"),
        "ico": (72, "overdue"),
    }
    assert any("Tell the ICO" in f for f in body["flags"])


def test_other_organisations_see_nothing_and_other_roles_are_refused(world) -> None:
    breach = _breach(world)
    stranger = Api(token_for(world.stranger, *Role))
    assert stranger.get("/breaches").json() == []
    assert stranger.get(f"/breaches/{breach.pk}").status_code == 404
    assert Api(token_for(world.county, Role.DPO)).get(f"/breaches/{UNKNOWN}").status_code == 404
    analyst = Api(token_for(world.county, Role.ANALYST))
    refused = analyst.get("/breaches")
    assert refused.status_code == 403
    assert "see breaches" in detail(refused)
    assert analyst.get(f"/breaches/{breach.pk}").status_code == 403


def test_a_token_limited_to_another_agreement_sees_none_of_these(world) -> None:
    breach = _breach(world)
    care = active_care_home_agreement(world.county, world.district)
    membership = member(world.district, Role.DPO)
    _, secret = create_scoped_api_token(
        by=actor_for(membership.user, membership),
        membership=membership,
        name="Care only",
        agreements=[care],
    )
    api = Api(secret)
    assert api.get("/breaches").json() == []
    assert api.get(f"/breaches/{breach.pk}").status_code == 404
    assert api.post("/breaches", _body(world)).status_code == 404


def test_an_analyst_reports_a_breach(world) -> None:
    response = Api(token_for(world.district, Role.ANALYST)).post("/breaches", _body(world))
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "reported"
    assert body["reported_by"] == "Maidstone Borough Council"
    breach = Breach.objects.get()
    assert AuditEvent.objects.get(action="breach.reported").target == f"breach:{breach.pk}"


def test_reporting_is_refused_to_strangers_and_the_wrong_role(world) -> None:
    assert Api(token_for(world.stranger, *Role)).post("/breaches", _body(world)).status_code == 404
    viewer = Api(token_for(world.district, Role.VIEWER)).post("/breaches", _body(world))
    assert viewer.status_code == 403
    assert "report a breach" in detail(viewer)
    unknown = Api(token_for(world.county, Role.DPO)).post(
        "/breaches", _body(world, agreement=UNKNOWN)
    )
    assert unknown.status_code == 404
    assert not Breach.objects.exists()


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"data": ["nonsense"]}, "data[0]", "no dataset or field called 'nonsense'"),
        (
            {"discovered_at": (timezone.now() + dt.timedelta(days=2)).isoformat()},
            "discovered_at",
            "Cannot be in the future",
        ),
        (
            {
                "occurred_at": (timezone.now()).isoformat(),
                "discovered_at": (timezone.now() - dt.timedelta(hours=3)).isoformat(),
            },
            "occurred_at",
            "on or before",
        ),
        ({"what_happened": "   "}, "what_happened", "Say what happened"),
        ({"data": []}, "data", ""),
        ({"discovered_at": "not a date"}, "discovered_at", ""),
    ],
)
def test_bad_input_is_422_naming_the_field(world, changes, path, message) -> None:
    response = Api(token_for(world.district, Role.DPO)).post("/breaches", _body(world, **changes))
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    assert any(e["path"] == path and message in e["message"] for e in errors), errors
    assert not Breach.objects.exists()


def test_reporting_under_an_agreement_not_yet_in_force_is_409(world) -> None:
    world.agreement.status = "approved"
    world.agreement.save()
    response = Api(token_for(world.county, Role.DPO)).post("/breaches", _body(world))
    assert response.status_code == 409
    assert "not yet in force" in detail(response)

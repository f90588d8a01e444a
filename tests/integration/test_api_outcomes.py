"""The outcomes API through the real client with real tokens: what the caller's organisation
owes or is owed, and the reports made or received; 401 with no token, 403 for the wrong role,
nothing listed for another organisation or a token limited to another agreement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.demo.sharing import signer_for
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.token_scopes import create_scoped_api_token
from accord.outcomes import actions
from tests.factories import active_care_home_agreement
from tests.unit.outcomes.world import WHAT, World, kent_shares

from .api_helpers import Api, member, token_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=40)


@pytest.fixture
def world() -> World:
    made = kent_shares(start=START)
    actions.report_outcomes(
        by=made.analyst(),
        agreement=made.agreement,
        commitment_index=0,
        period=(START, TODAY),
        figures=[{"measure": "Residents contacted", "value": 412, "note": ""}],
        narrative="API narrative.",
    )
    return made


def test_a_recipient_lists_what_it_owes(world) -> None:
    response = Api(token_for(world.other_district, Role.ANALYST)).get("/outcomes/commitments")
    assert response.status_code == 200
    (owed,) = response.json()
    assert owed["what"] == WHAT
    assert owed["side"] == "owed_by_you"
    assert owed["status"] == "overdue"
    assert owed["owed_to"] == [{"id": world.county.pk, "name": "Kent County Council"}]
    assert len(owed["overdue"]) == 1
    assert owed["next_due"] == owed["overdue"][0]


def test_the_provider_lists_what_it_is_owed_and_the_reports_it_received(world) -> None:
    api = Api(token_for(world.county, Role.DPO))
    owed = api.get("/outcomes/commitments").json()
    assert {(c["owed_by"]["name"], c["side"], c["status"]) for c in owed} == {
        ("Maidstone Borough Council", "owed_to_you", "due"),
        ("Canterbury City Council", "owed_to_you", "overdue"),
    }
    (report,) = api.get("/outcomes/reports").json()
    assert report["side"] == "made_to_you"
    assert report["organisation"]["name"] == "Maidstone Borough Council"
    assert report["figures"] == [{"measure": "Residents contacted", "value": 412, "note": ""}]
    assert report["narrative"] == "API narrative."


def test_the_reporter_lists_its_own_report(world) -> None:
    (report,) = Api(token_for(world.district, Role.ANALYST)).get("/outcomes/reports").json()
    assert report["side"] == "made_by_you"
    assert report["period_start"] == START.isoformat()


def test_another_organisation_sees_nothing(world) -> None:
    api = Api(token_for(world.stranger, Role.DPO))
    assert api.get("/outcomes/commitments").json() == []
    assert api.get("/outcomes/reports").json() == []


def test_an_agreement_not_in_force_owes_nothing_but_its_reports_stay(world) -> None:
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.agreement, reason="A breach is looked at"
    )
    api = Api(token_for(world.county, Role.DPO))
    assert api.get("/outcomes/commitments").json() == []
    assert len(api.get("/outcomes/reports").json()) == 1


@pytest.mark.parametrize("path", ["/outcomes/commitments", "/outcomes/reports"])
def test_no_token_or_the_wrong_role_is_refused(world, path: str) -> None:
    assert Api(None).get(path).status_code == 401
    response = Api(token_for(world.county, Role.VIEWER)).get(path)
    assert response.status_code == 403
    assert "see outcome reports" in response.json()["detail"]


def test_a_token_limited_to_another_agreement_sees_nothing_of_this_one(world) -> None:
    membership = member(world.county, Role.DPO)
    other = active_care_home_agreement(world.county, world.district)
    _, secret = create_scoped_api_token(
        by=actor_for(membership.user, membership),
        membership=membership,
        name="Care homes only",
        agreements=[other],
    )
    api = Api(secret)
    assert api.get("/outcomes/commitments").json() == []
    assert api.get("/outcomes/reports").json() == []

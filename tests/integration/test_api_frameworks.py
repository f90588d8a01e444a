"""The frameworks API: any valid token reads every framework (frameworks are not shared data);
no token is 401 and an unknown slug 404. The detail matches the framework page: clauses,
templates with their titles, members, agreements in force and days from draft to in force."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import actions as agreement_actions
from accord.agreements.models import Agreement, Framework
from accord.audit.actor import Actor
from accord.demo.frameworks import CLAUSES
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory

from .api_helpers import Api, detail, member, token_for


@pytest.fixture
def members() -> list[Organisation]:
    return [
        OrganisationFactory(name="Kent County Council", gss_code="E10000016"),
        OrganisationFactory(name="Surrey County Council", gss_code="E10000030"),
    ]


@pytest.fixture
def framework(members) -> Framework:
    created = agreement_actions.create_framework(
        by=Actor.system(),
        slug="test-accord",
        name="Test Accord",
        description="A framework for the tests.",
        clauses=CLAUSES,
        template_types=["data_disclosure_agreement", "memorandum_of_understanding"],
    )
    for organisation in members:
        agreement_actions.add_framework_member(
            by=Actor.system(), framework=created, organisation=organisation
        )
    return created


@pytest.fixture
def reader() -> Api:
    """A viewer at an organisation in no framework at all."""
    return Api(token_for(OrganisationFactory(name="Bolton Council"), Role.VIEWER))


def drafted(framework: Framework, members: list[Organisation], title: str) -> Agreement:
    kent, surrey = members
    officer = member(kent, Role.DATA_OFFICER)
    return agreement_actions.draft_from_framework(
        by=actor_for(officer.user, officer),
        framework=framework,
        agreement_type="memorandum_of_understanding",
        provider=kent,
        recipient=surrey,
        title=title,
    )


def test_any_token_lists_the_frameworks(framework, reader) -> None:
    response = reader.get("/frameworks")
    assert response.status_code == 200
    assert response.json() == [
        {
            "slug": "test-accord",
            "name": "Test Accord",
            "description": "A framework for the tests.",
            "template_types": ["data_disclosure_agreement", "memorandum_of_understanding"],
            "members": 2,
        }
    ]


def test_a_framework_in_detail(framework, members, reader) -> None:
    quick, slow, _draft = (drafted(framework, members, t) for t in ("Quick", "Slow", "Draft"))
    for agreement, days in ((quick, 3), (slow, 11)):
        Agreement.objects.filter(pk=agreement.pk).update(
            status="active", activated_at=agreement.created_at + dt.timedelta(days=days)
        )
    response = reader.get("/frameworks/test-accord")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Test Accord"
    assert body["clauses"]["breach_notify_hours"] == 24
    assert "marketing" in body["clauses"]["prohibited_uses"]
    assert [(t["agreement_type"], t["title"]) for t in body["templates"]] == [
        ("data_disclosure_agreement", "One-way disclosure"),
        ("memorandum_of_understanding", "Memorandum of understanding"),
    ]
    assert [m["name"] for m in body["members"]] == ["Kent County Council", "Surrey County Council"]
    assert body["members"][0]["id"] == members[0].pk
    assert body["agreements_in_force"] == 2
    assert body["days_to_active"] == [3, 11]
    assert body["median_days_to_active"] == 7


def test_a_framework_with_nothing_in_force_yet(framework, reader) -> None:
    body = reader.get("/frameworks/test-accord").json()
    assert body["agreements_in_force"] == 0
    assert body["days_to_active"] == []
    assert body["median_days_to_active"] is None


def test_frameworks_denials(framework, reader) -> None:
    assert Api().get("/frameworks").status_code == 401
    assert Api().get("/frameworks/test-accord").status_code == 401
    assert Api("acc_bad_token").get("/frameworks/test-accord").status_code == 401
    missing = reader.get("/frameworks/no-such-framework")
    assert missing.status_code == 404
    assert detail(missing) == "There is no framework called 'no-such-framework'."

"""Record linkage through the API: the datasets a district may link, a job made and followed to
its quality figures, the linked results as CSV; refused for the wrong role, organisation,
purpose and agreement state, with the decision point's reasons."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from accord.agreements import actions as agreement_actions
from accord.demo.sharing import signer_for
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage.models import LinkageJob
from accord.organisations.enums import Role
from tests.rolled_back import rolled_back
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import LinkWorld, build_link_world

from .api_helpers import Api, detail, token_for

pytestmark = pytest.mark.django_db
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker) -> Iterator[LinkWorld]:
    with rolled_back(django_db_blocker):
        yield build_link_world()


def _body(world: LinkWorld, **changes) -> dict:
    return {
        "name": "Care and shielded",
        "entity": "person",
        "sources": world.refs,
        "purpose": PURPOSE,
        **changes,
    }


def test_the_district_lists_what_it_may_link(world: LinkWorld) -> None:
    api = Api(token_for(world.district, Role.ANALYST))
    listed = api.get("/linkage/sources").json()
    assert {s["ref"] for s in listed} == set(world.refs)
    shared = [s for s in listed if not s["yours"]]
    assert all(s["purposes"] == [PURPOSE] for s in shared)
    spl = next(s for s in listed if s["standard"] == "shielded-patient-list")
    assert {"nhs_number", "given_name", "address"} <= set(spl["compared_on"])


def test_a_job_made_through_the_api_runs_and_reports_its_quality(world: LinkWorld) -> None:
    api = Api(token_for(world.district, Role.ANALYST))
    made = api.post("/linkage/jobs", _body(world, leave_out=["sex"]))
    assert made.status_code == 202, made.content
    job_id = made.json()["id"]
    assert made.json()["state"] == "queued"
    run_queued_tasks()
    got = api.get(f"/linkage/jobs/{job_id}").json()
    assert got["state"] == "done"
    assert got["stats"]["stages"]["exact"] == 2
    assert {c["key"]: c["enabled"] for c in got["model"]["comparisons"]}["sex"] is False
    assert [j["id"] for j in api.get("/linkage/jobs").json()] == [job_id]
    csv = api.get(f"/linkage/jobs/{job_id}/linked.csv")
    assert csv.status_code == 200
    assert "entity_id" in csv.content.decode("utf-8-sig").splitlines()[0]
    # This job was not the single view: it has no household view.
    assert api.get(f"/linkage/jobs/{job_id}/view.csv").status_code == 404


def test_refusals_say_why(world: LinkWorld) -> None:
    api = Api(token_for(world.district, Role.ANALYST))
    wrong_purpose = api.post("/linkage/jobs", _body(world, purpose="Electoral canvassing"))
    assert wrong_purpose.status_code == 403
    assert "not a purpose" in detail(wrong_purpose)
    one = api.post("/linkage/jobs", _body(world, sources=world.refs[:1]))
    assert one.status_code == 422
    bad_entity = api.post("/linkage/jobs", _body(world, entity="pets"))
    assert bad_entity.status_code == 422
    unknown = api.post(
        "/linkage/jobs", _body(world, sources=[world.refs[0], f"collection:{UNKNOWN}"])
    )
    assert unknown.status_code == 409
    assert "not one your organisation can use" in detail(unknown)


def test_the_wrong_role_and_organisation(world: LinkWorld) -> None:
    viewer = Api(token_for(world.district, Role.VIEWER))
    assert viewer.get("/linkage/jobs").status_code == 403
    assert viewer.post("/linkage/jobs", _body(world)).status_code == 403
    made = Api(token_for(world.district, Role.ANALYST)).post("/linkage/jobs", _body(world))
    job_id = made.json()["id"]
    stranger = Api(token_for(world.stranger, Role.ANALYST))
    assert stranger.get(f"/linkage/jobs/{job_id}").status_code == 404
    assert stranger.get(f"/linkage/jobs/{job_id}/linked.csv").status_code == 404
    assert stranger.get("/linkage/jobs").json() == []
    refused = stranger.post("/linkage/jobs", _body(world))
    assert refused.status_code == 409
    assert Api().get("/linkage/jobs").status_code == 401


def test_a_suspended_agreement_refuses_the_job_and_the_results(world: LinkWorld) -> None:
    api = Api(token_for(world.district, Role.ANALYST))
    made = api.post("/linkage/jobs", _body(world))
    run_queued_tasks()
    job_id = made.json()["id"]
    agreement_actions.suspend(
        by=signer_for(world.icb), agreement=world.shielded_agreement, reason="Breach"
    )
    results = api.get(f"/linkage/jobs/{job_id}/linked.csv")
    assert results.status_code == 403
    assert "suspended" in detail(results)
    again = api.post("/linkage/jobs", _body(world, name="After suspension"))
    assert again.status_code == 403
    assert "suspended" in detail(again)
    assert not LinkageJob.objects.filter(name="After suspension").exists()

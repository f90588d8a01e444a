"""Collections and returns through the API: who may see and send what, and a return sent
through the API checked by the real task queue, then compiled with its provenance."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accord.organisations.enums import Role, Sector
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Submission
from tests.factories import (
    OrganisationFactory,
    care_home_csv,
    combined_authority,
    framework_of,
    member_actor,
)
from tests.integration.api_helpers import API, Api, detail, token_for
from tests.tasks import run_queued_tasks


def today() -> dt.date:
    """Today, asked each time: a run may cross midnight between collection and the test."""
    return timezone.localdate()


CARE_HOME = get_standard("care-home-daily-status", database=False)


@pytest.fixture
def gmca():
    return combined_authority()


@pytest.fixture
def home():
    return OrganisationFactory(name="Oakleigh Care Home", sector=Sector.CARE_PROVIDER)


@pytest.fixture
def collection(gmca, home):
    from accord.agreements.models import Framework

    framework_of(gmca, home)
    runner = member_actor(gmca, Role.ANALYST)
    made = actions.create_collection(
        by=runner,
        slug="care-homes-gm",
        name="Care home status, Greater Manchester",
        standard=CARE_HOME,
        schedule="daily",
        starts_on=today() - dt.timedelta(days=3),
        deadline_days=1,  # today's return is due tomorrow at noon
        framework=Framework.objects.get(),
    )
    actions.add_contributor(by=runner, collection=made, organisation=home)
    return made


@pytest.fixture
def owner(gmca):
    return Api(token_for(gmca, Role.ANALYST))


@pytest.fixture
def sender(home):
    return Api(token_for(home, Role.DATA_OFFICER))


@pytest.fixture
def outsider(other_council):
    return Api(token_for(other_council, Role.ORGANISATION_ADMIN))


def good(**change):
    return {"report_date": today().isoformat(), **change}


def send(api: Api, collection, *rows, period: str | None = None, caveats: str | None = None):
    data = {
        "period": today().isoformat() if period is None else period,
        "file": SimpleUploadedFile("status.csv", care_home_csv(*rows), "text/csv"),
    }
    if caveats is not None:
        data["caveats"] = caveats
    return api.client.post(
        f"{API}/collections/{collection.pk}/submissions", data, headers=api.headers
    )


def frame_of(response) -> pl.DataFrame:
    assert response["Content-Type"].startswith("text/csv")
    return pl.read_csv(io.BytesIO(response.content), infer_schema=False)


def test_a_return_sent_through_the_api_is_checked_and_compiled(
    collection, owner, sender, home
) -> None:
    sent = send(sender, collection, good(), caveats="Closed wing not counted.")
    assert sent.status_code == 202, sent.content
    body = sent.json()
    assert body["state"] == "received"
    assert body["progress_id"]
    submission_id = body["id"]

    waiting = sender.get(f"/submissions/{submission_id}").json()
    assert (waiting["state"], waiting["progress_state"]) == ("received", "queued")
    assert run_queued_tasks() == 2  # the check, then the compilation it queued

    checked = sender.get(f"/submissions/{submission_id}")
    assert checked.status_code == 200
    report = checked.json()
    assert (report["state"], report["via"], report["rows"], report["valid_rows"]) == (
        "accepted",
        "api",
        1,
        1,
    )
    assert report["caveats"] == "Closed wing not counted."
    assert report["progress_percent"] == 100
    assert report["period"] == today().isoformat()
    # The organisation that runs the collection sees it too.
    assert owner.get(f"/submissions/{submission_id}").json()["state"] == "accepted"

    compiled = owner.get(f"/collections/{collection.pk}/compiled")
    assert compiled.status_code == 200
    assert "care-homes-gm-compiled-" in compiled["Content-Disposition"]
    frame = frame_of(compiled)
    assert frame.columns[:4] == ["period", "organisation", "submission", "source_row"]
    assert frame["organisation"].to_list() == ["Oakleigh Care Home"]
    assert frame["submission"].to_list() == [submission_id]

    status = owner.get(f"/collections/{collection.pk}").json()
    day = next(p for p in status["periods"] if p["period"] == today().isoformat())
    assert (day["expected"], day["received"], day["completeness"]) == (1, 1, 1.0)
    assert day["contributors"][0]["status"] == "accepted"
    assert day["contributors"][0]["submission_id"] == submission_id


def test_a_rejected_return_and_its_problems(collection, owner, sender) -> None:
    sent = send(sender, collection, good(postcode="ME14 1XX9", registered_beds="forty"))
    submission_id = sent.json()["id"]
    run_queued_tasks()
    report = sender.get(f"/submissions/{submission_id}").json()
    assert report["state"] == "rejected"
    assert "rows have errors" in report["reason"]
    assert report["errors"] == 2
    assert {r["field"] for r in report["rules"]} == {"postcode", "registered_beds"}

    problems = sender.get(f"/submissions/{submission_id}/problems")
    assert problems.status_code == 200
    frame = frame_of(problems)
    assert set(frame["field"].to_list()) == {"postcode", "registered_beds"}
    assert frame["row"].to_list() == ["2", "2"]
    # Only the organisation that sent it reads its problems; the owner sees only counts.
    refused = owner.get(f"/submissions/{submission_id}/problems")
    assert refused.status_code == 403
    assert "Oakleigh Care Home, which sent this return" in detail(refused)


def test_listing_and_details_by_who_is_asking(collection, owner, sender, outsider) -> None:
    assert Api().get("/collections").status_code == 401
    mine = owner.get("/collections").json()
    assert [(c["slug"], c["you_run_it"]) for c in mine] == [("care-homes-gm", True)]
    theirs = sender.get("/collections").json()
    assert [(c["slug"], c["you_run_it"]) for c in theirs] == [("care-homes-gm", False)]
    assert theirs[0]["standard"].startswith("care-home-daily-status@")
    assert outsider.get("/collections").json() == []

    assert Api().get(f"/collections/{collection.pk}").status_code == 401
    assert outsider.get(f"/collections/{collection.pk}").status_code == 404
    details = owner.get(f"/collections/{collection.pk}").json()
    assert details["contributors"] == [
        {
            "organisation_id": collection.contributors.get().organisation_id,
            "organisation": "Oakleigh Care Home",
        }
    ]
    assert details["periods"][0]["period"] == today().isoformat()
    assert details["periods"][0]["contributors"][0]["status"] == "due"
    # A contributor sees the collection but not who else has sent what.
    assert sender.get(f"/collections/{collection.pk}").json()["periods"] == []
    assert sender.get("/collections/00000000-0000-0000-0000-000000000000").status_code == 404


def test_who_may_send_a_return(collection, gmca, home, owner, sender, outsider) -> None:
    assert send(Api(), collection, good()).status_code == 401
    assert send(outsider, collection, good()).status_code == 404
    viewer = send(Api(token_for(home, Role.VIEWER)), collection, good())
    assert viewer.status_code == 403
    assert "Only someone with one of these roles" in detail(viewer)
    # The organisation that runs the collection does not send returns to it.
    running = send(owner, collection, good())
    assert running.status_code == 403
    assert "is not expected to send returns" in detail(running)
    assert not Submission.objects.exists()


def test_a_period_must_be_one_the_schedule_knows_and_has_begun(collection, sender) -> None:
    bad = send(sender, collection, good(), period="last Tuesday")
    assert bad.status_code == 422
    assert bad.json()["errors"] == [
        {
            "path": "period",
            "message": "'last Tuesday' is not a reporting period. Write it like 2026-03-02.",
        }
    ]
    missing = sender.client.post(
        f"{API}/collections/{collection.pk}/submissions",
        {"period": today().isoformat()},
        headers=sender.headers,
    )
    assert missing.status_code == 422
    assert [e["path"] for e in missing.json()["errors"]] == ["file"]
    future = send(sender, collection, good(), period=(today() + dt.timedelta(days=2)).isoformat())
    assert future.status_code == 409
    assert "has not started yet" in detail(future)
    assert not Submission.objects.exists()


def test_who_may_read_a_submission_and_its_problems(collection, sender, outsider, home) -> None:
    submission_id = send(sender, collection, good()).json()["id"]
    assert Api().get(f"/submissions/{submission_id}").status_code == 401
    assert outsider.get(f"/submissions/{submission_id}").status_code == 404
    assert Api().get(f"/submissions/{submission_id}/problems").status_code == 401
    assert outsider.get(f"/submissions/{submission_id}/problems").status_code == 404
    # Before the check, and for a return with no problems, there is no problem report.
    assert sender.get(f"/submissions/{submission_id}/problems").status_code == 404
    run_queued_tasks()
    assert sender.get(f"/submissions/{submission_id}/problems").status_code == 404
    # Any member of the sender may read the state (no data from the file is in it).
    viewer = Api(token_for(home, Role.VIEWER))
    assert viewer.get(f"/submissions/{submission_id}").json()["state"] == "accepted"


def test_only_the_owner_downloads_the_compiled_dataset(
    collection, gmca, owner, sender, outsider
) -> None:
    path = f"/collections/{collection.pk}/compiled"
    assert Api().get(path).status_code == 401
    assert outsider.get(path).status_code == 404
    assert owner.get(path).status_code == 404  # nothing compiled yet
    send(sender, collection, good())
    run_queued_tasks()
    refused = sender.get(path)
    assert refused.status_code == 403
    assert "Greater Manchester Combined Authority, which runs this collection" in detail(refused)
    allowed = owner.get(path)
    assert allowed.status_code == 200, allowed.content

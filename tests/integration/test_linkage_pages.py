"""The linkage pages: the jobs list, a new job, the ready-made single view, a job's progress
and quality report with its household view, the clerical review, and downloads; permits for
the district's analyst, and every way others are refused."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accord.agreements import actions as agreement_actions
from accord.audit.models import AuditEvent
from accord.demo.sharing import signer_for
from accord.demo.vulnerability_setup import PURPOSE
from accord.linkage import actions, single_view
from accord.linkage.models import JobState, LinkageJob
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.organisations.models import Membership
from tests.rolled_back import rolled_back
from tests.tasks import run_queued_tasks
from tests.unit.linkage.world import ANN, LinkWorld, build_link_world

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    person,
    signed_in_client,
    texts,
)

pytestmark = pytest.mark.django_db
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@dataclass
class Pages:
    world: LinkWorld
    job: LinkageJob
    analyst: Client


@pytest.fixture(scope="module")
def pages(django_db_setup: None, django_db_blocker):
    """The world, and the single view run once by a signed-in district analyst."""
    with rolled_back(django_db_blocker):
        world = build_link_world()
        user = person(world.district, Role.ANALYST)
        membership = Membership.objects.get(user=user)
        job = actions.create_job(
            by=actor_for(user, membership),
            name=single_view.NAME,
            entity="person",
            refs=world.refs,
            purpose=PURPOSE,
            recipe=single_view.RECIPE,
        )
        run_queued_tasks()
        job.refresh_from_db()
        assert job.state == JobState.DONE, job.message
        yield Pages(world, job, signed_in_client(user, world.district))


def _client(pages: Pages, organisation, *roles: Role) -> Client:
    return signed_in_client(person(organisation, *roles), organisation)


def test_the_list_offers_the_single_view_and_the_datasets(pages: Pages) -> None:
    response = pages.analyst.get("/linkage/")
    text = texts(response)
    assert response.status_code == 200
    assert "Run the single view of vulnerability" in text
    for name in ("Council tax", "Adult social care", "Shielded patients"):
        assert name in text
    assert single_view.NAME in text  # the job run


def test_a_new_job_from_the_form_is_queued_and_shows_its_progress(pages: Pages) -> None:
    form = pages.analyst.get("/linkage/new/")
    assert form.status_code == 200
    assert "Names, allowing nicknames" in texts(form) or "Given names" in texts(form)
    response = pages.analyst.post(
        "/linkage/new/",
        {
            "name": "People in care and shielded",
            "entity": "person",
            "sources": pages.world.refs[1:],
            "purpose": PURPOSE,
            "comparisons": ["nhs_number", "date_of_birth", "postcode"],
            "match_threshold": "0.95",
        },
    )
    assert response.status_code == 302
    job = LinkageJob.objects.get(name="People in care and shielded")
    assert response.url == f"/linkage/{job.pk}/"
    page = texts(pages.analyst.get(response.url))
    assert 'class="accord-task-progress"' in page
    disabled = {c["key"] for c in job.model["comparisons"] if not c["enabled"]}
    assert {"given_name", "family_name", "address"} <= disabled
    assert job.model["match_threshold"] == 0.95


def test_the_form_says_what_to_fix(pages: Pages) -> None:
    response = pages.analyst.post("/linkage/new/", {"name": "", "entity": "person"})
    text = texts(response)
    assert response.status_code == 200
    assert "govuk-error-summary" in text
    assert "Enter a name for the job" in text
    assert "Choose at least two datasets to link" in text
    one = pages.analyst.post(
        "/linkage/new/",
        {
            "name": "One",
            "entity": "person",
            "sources": pages.world.refs[:1],
            "purpose": PURPOSE,
            "match_threshold": "0.9",
        },
    )
    assert "Choose at least two datasets to link." in texts(one)


def test_the_job_page_shows_the_quality_report_and_households(pages: Pages) -> None:
    response = pages.analyst.get(f"/linkage/{pages.job.pk}/")
    text = texts(response)
    assert response.status_code == 200
    assert "Quality of the links" in text
    assert 'id="histogram"' in text
    assert "Exact match on a strong identifier" in text
    assert 'id="households"' in text
    assert 'id="categories"' in text
    assert "990000000001" in text  # Ann's home
    assert ANN not in text  # flags, not identifiers
    assert pages.world.social_care_agreement.title in text


def test_the_review_page_shows_pairs_and_records_a_decision(pages: Pages) -> None:
    response = pages.analyst.get(f"/linkage/{pages.job.pk}/review/")
    assert response.status_code == 200
    assert "Review borderline pairs" in texts(response)
    refs = pages.world.refs
    pair = f"{refs[2]}|r1|{refs[0]}|r2"
    before = AuditEvent.objects.filter(action="linkage.pair_decided").count()
    saved = pages.analyst.post(
        f"/linkage/{pages.job.pk}/review/",
        {"pair": pair, "verdict": "not_match", "probability": "0.6", "index": "2", "page": "1"},
    )
    assert saved.status_code == 302
    assert saved.url == f"/linkage/{pages.job.pk}/review/?page=1#pair-2"
    assert AuditEvent.objects.filter(action="linkage.pair_decided").count() == before + 1
    assert pages.job.decisions.filter(record_l="r1", is_match=False).exists()
    assert_not_found_page(pages.analyst.get(f"/linkage/{pages.job.pk}/review/?page=99"))
    bad = pages.analyst.post(f"/linkage/{pages.job.pk}/review/", {"pair": pair})
    assert bad.status_code == 400
    assert "Choose whether the pair is the same" in texts(bad)


def test_downloads_are_csv_with_the_agreements_fields(pages: Pages) -> None:
    linked = pages.analyst.get(f"/linkage/{pages.job.pk}/download/linked.csv")
    assert linked.status_code == 200
    assert linked["Content-Type"].startswith("text/csv")
    body = linked.content.decode("utf-8-sig")
    assert body.splitlines()[0].startswith("record_id") or "entity_id" in body.splitlines()[0]
    assert ANN in body
    view = pages.analyst.get(f"/linkage/{pages.job.pk}/download/view.csv")
    assert view.status_code == 200
    assert "risk_category" in view.content.decode("utf-8-sig").splitlines()[0]
    assert pages.analyst.get(f"/linkage/{pages.job.pk}/download/other.csv").status_code == 404


def test_run_again_queues_another_run(pages: Pages) -> None:
    response = pages.analyst.post(f"/linkage/{pages.job.pk}/run/")
    assert response.status_code == 302
    pages.job.refresh_from_db()
    assert pages.job.state == JobState.QUEUED
    again = pages.analyst.post(f"/linkage/{pages.job.pk}/run/")
    assert again.status_code == 409
    assert "already queued" in texts(again)


def test_a_suspended_agreement_stops_downloads_and_the_household_view(pages: Pages) -> None:
    agreement_actions.suspend(
        by=signer_for(pages.world.icb), agreement=pages.world.shielded_agreement, reason="Breach"
    )
    download = pages.analyst.get(f"/linkage/{pages.job.pk}/download/linked.csv")
    assert download.status_code == 403
    assert "suspended" in texts(download)
    page = texts(pages.analyst.get(f"/linkage/{pages.job.pk}/"))
    assert 'id="households-denied"' in page
    assert "990000000001" not in page
    review = pages.analyst.get(f"/linkage/{pages.job.pk}/review/")
    assert review.status_code == 403


def test_a_suspended_agreements_data_is_left_out_of_the_single_view(pages: Pages) -> None:
    agreement_actions.suspend(
        by=signer_for(pages.world.county),
        agreement=pages.world.social_care_agreement,
        reason="Breach",
    )
    listed = texts(pages.analyst.get("/linkage/"))
    assert "Adult social care" not in listed.split('id="single-view"')[1].split("</div>")[0]
    response = pages.analyst.post("/linkage/single-view/")
    assert response.status_code == 302
    job = LinkageJob.objects.exclude(pk=pages.job.pk).get(recipe=single_view.RECIPE)
    assert f"collection:{pages.world.social_care.pk}" not in {s["ref"] for s in job.sources}


def test_linking_for_a_purpose_no_agreement_names_is_refused_on_the_form(pages: Pages) -> None:
    response = pages.analyst.post(
        "/linkage/new/",
        {
            "name": "Canvass",
            "entity": "person",
            "sources": pages.world.refs,
            "purpose": "Electoral canvassing",
        },
    )
    assert response.status_code == 200
    assert "Select a valid choice" in texts(response)  # not one of the agreements' purposes
    assert not LinkageJob.objects.filter(name="Canvass").exists()


def test_the_single_view_runs_from_its_button(pages: Pages) -> None:
    response = pages.analyst.post("/linkage/single-view/")
    assert response.status_code == 302
    job = LinkageJob.objects.exclude(pk=pages.job.pk).get(recipe=single_view.RECIPE)
    assert len(job.sources) == 3


@pytest.mark.parametrize(
    "path",
    [
        "/linkage/",
        "/linkage/new/",
        "/linkage/{job}/",
        "/linkage/{job}/review/",
        "/linkage/{job}/download/linked.csv",
    ],
)
def test_signed_out_people_are_sent_to_sign_in(pages: Pages, path: str) -> None:
    path = path.format(job=pages.job.pk)
    assert_redirects_to_sign_in(Client().get(path), path)


@pytest.mark.parametrize(
    "path", ["/linkage/{job}/", "/linkage/{job}/review/", "/linkage/{job}/download/linked.csv"]
)
def test_another_organisations_analyst_finds_nothing(pages: Pages, path: str) -> None:
    for organisation in (pages.world.county, pages.world.stranger):
        client = _client(pages, organisation, Role.ANALYST)
        response = client.get(path.format(job=pages.job.pk))
        assert_not_found_page(response)
        assert single_view.NAME not in texts(response)
    client = _client(pages, pages.world.stranger, Role.ANALYST)
    assert_not_found_page(client.post(f"/linkage/{pages.job.pk}/run/"))


@pytest.mark.parametrize("path", ["/linkage/", "/linkage/new/", "/linkage/{job}/"])
def test_a_viewer_is_forbidden(pages: Pages, path: str) -> None:
    client = _client(pages, pages.world.district, Role.VIEWER)
    assert_forbidden_page(client.get(path.format(job=pages.job.pk)))


def test_an_unknown_job_is_not_found(pages: Pages) -> None:
    assert_not_found_page(pages.analyst.get(f"/linkage/{UNKNOWN}/"))


def test_a_stranger_has_no_single_view_and_cannot_link_others_data(pages: Pages) -> None:
    client = _client(pages, pages.world.stranger, Role.ANALYST)
    assert "Run the single view" not in texts(client.get("/linkage/"))
    assert_not_found_page(client.post("/linkage/single-view/"))
    response = client.post(
        "/linkage/new/",
        {"name": "Theirs", "entity": "person", "sources": pages.world.refs, "purpose": "X"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in texts(response)
    assert not LinkageJob.objects.filter(name="Theirs").exists()

"""The collection and submission pages through the real client: the list of collections and what
is due, setting one up, the collection's page (the owner's view of who has sent what and the
compiled dataset; a contributor's own returns), adding contributors, sending a return with a real
upload that the real task checks, the submission's page with its problems, and the problems and
compiled CSV downloads. For each: signed out goes to sign-in, an organisation not involved gets
"page not found", the wrong role gets the 403 page or a refusal banner, and every read of shared
data from the vault is recorded as an access decision."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.agreements.models import Framework
from accord.audit.models import AuditEvent
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection, CompiledDataset, Contributor, Submission
from accord.vault.queries import resource_for
from accord.web.views import collections as collection_views
from tests.factories import (
    OrganisationFactory,
    care_home_csv,
    combined_authority,
    framework_of,
    member_actor,
)
from tests.tasks import run_queued_tasks

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    person,
    signed_in_client,
)

UNKNOWN = "00000000-0000-4000-8000-000000000000"
CARE_HOME = "care-home-daily-status"
HOMES = ("Oakleigh", "Kingfisher", "Riverside")
NAME = "Care home status, Greater Manchester"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def today() -> dt.date:
    return timezone.localdate()


def yesterday() -> dt.date:
    """A period whose deadline (the same day at noon) has always passed."""
    return today() - dt.timedelta(days=1)


def good(**change: str) -> dict[str, str]:
    return {"report_date": yesterday().isoformat(), **change}


def upload(content: bytes, name: str = "status.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def follow(client: Client, response):
    assert response.status_code == 302, text_of(response)[:2000]
    return client.get(response.url)


def decided(seq: int, obj) -> list[AuditEvent]:
    """The access decisions recorded since ``seq`` about the vault object ``obj``."""
    ref = resource_for(obj).ref
    return [e for e in events_after(seq, "access.decided") if e.target == ref]


def urls(collection: Collection, submission: Submission | None = None) -> dict[str, str]:
    base = f"/collections/{collection.pk}"
    found = {
        "detail": f"{base}/",
        "contributors": f"{base}/contributors/",
        "submit": f"{base}/submit/",
        "compiled": f"{base}/compiled.csv",
    }
    if submission is not None:
        found["submission"] = f"/submissions/{submission.pk}/"
        found["problems"] = f"/submissions/{submission.pk}/problems.csv"
    return found


# --- organisations and collections --------------------------------------------------------------


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def homes() -> list[Organisation]:
    return [
        OrganisationFactory(name=f"{name} Care Home", sector=Sector.CARE_PROVIDER) for name in HOMES
    ]


@pytest.fixture
def framework(gmca, homes) -> Framework:
    return framework_of(gmca, *homes)


def make_collection(
    owner: Organisation, framework: Framework, *, slug: str, standard: str = CARE_HOME
) -> Collection:
    """A daily collection that started three days ago, each return due by noon on its day."""
    return actions.create_collection(
        by=member_actor(owner, Role.ANALYST),
        slug=slug,
        name=NAME if standard == CARE_HOME else f"{standard} collection",
        standard=get_standard(standard),
        schedule="daily",
        starts_on=today() - dt.timedelta(days=3),
        deadline_days=0,
        deadline_time=dt.time(12, 0),
        framework=framework,
    )


@pytest.fixture
def collection(gmca, homes, framework) -> Collection:
    made = make_collection(gmca, framework, slug="care-homes-gm")
    runner = member_actor(gmca, Role.ANALYST)
    for home in homes:
        actions.add_contributor(by=runner, collection=made, organisation=home)
    return made


def send(collection: Collection, home: Organisation, *rows: dict[str, str], caveats: str = ""):
    """A return sent as the API or the command line would, then checked and compiled."""
    submission = actions.receive(
        by=member_actor(home, Role.DATA_OFFICER),
        collection=collection,
        period=yesterday(),
        filename="status.csv",
        source=care_home_csv(*rows),
        caveats=caveats,
    )
    run_queued_tasks()
    submission.refresh_from_db()
    return submission


@pytest.fixture
def accepted(collection, homes) -> Submission:
    """Oakleigh's return for yesterday, accepted (after the deadline) and compiled."""
    submission = send(
        collection, homes[0], good(cqc_provider_id=""), caveats="Closed wing not counted."
    )
    assert submission.state == "accepted"
    return submission


@pytest.fixture
def rejected(collection, homes) -> Submission:
    """Kingfisher's return for yesterday, rejected for two bad cells."""
    submission = send(collection, homes[1], good(postcode="ME14 1XX9", registered_beds="forty"))
    assert submission.state == "rejected"
    assert submission.problems_object_id is not None
    return submission


def client_of(organisation: Organisation, *roles: Role) -> Client:
    return signed_in_client(person(organisation, *roles))


# --- signed out, not involved, wrong role -------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(collection, rejected, homes) -> None:
    client = Client()
    for url in ("/collections/", "/collections/new/"):
        assert_redirects_to_sign_in(client.get(url), url)
    assert_redirects_to_sign_in(
        client.post("/collections/new/", {"slug": "x"}), "/collections/new/"
    )
    found = urls(collection, rejected)
    for name in ("detail", "submit", "compiled", "submission", "problems"):
        assert_redirects_to_sign_in(client.get(found[name]), found[name])
    assert_redirects_to_sign_in(
        client.post(found["contributors"], {"organisation": str(homes[0].pk)}),
        found["contributors"],
    )
    before = Submission.objects.count()
    response = client.post(
        found["submit"], {"period": yesterday().isoformat(), "upload": upload(care_home_csv())}
    )
    assert_redirects_to_sign_in(response, found["submit"])
    assert Submission.objects.count() == before


def test_an_organisation_not_involved_gets_page_not_found(
    collection, accepted, rejected, other_council
) -> None:
    client = client_of(other_council, Role.ORGANISATION_ADMIN, Role.DATA_OFFICER, Role.ANALYST)
    before = last_seq()
    submissions = Submission.objects.count()
    for submission in (accepted, rejected):
        found = urls(collection, submission)
        for name in ("detail", "submit", "compiled", "submission", "problems"):
            assert_not_found_page(client.get(found[name]))
        assert_not_found_page(
            client.post(found["contributors"], {"organisation": str(other_council.pk)})
        )
        assert_not_found_page(
            client.post(
                found["submit"],
                {"period": yesterday().isoformat(), "upload": upload(care_home_csv(good()))},
            )
        )
    for url in (
        f"/collections/{UNKNOWN}/",
        f"/collections/{UNKNOWN}/submit/",
        f"/collections/{UNKNOWN}/compiled.csv",
        f"/submissions/{UNKNOWN}/",
        f"/submissions/{UNKNOWN}/problems.csv",
    ):
        assert_not_found_page(client.get(url))
    listing = text_of(client.get("/collections/"))
    assert NAME not in listing
    assert not Contributor.objects.filter(organisation=other_council).exists()
    assert Submission.objects.count() == submissions
    assert not events_after(before, "access.decided")
    assert not events_after(before, "collection.contributor_added")


def test_a_viewer_reads_the_list_and_the_collection_but_cannot_send(
    collection, homes, accepted
) -> None:
    client = client_of(homes[0], Role.VIEWER)
    listing = client.get("/collections/")
    assert listing.status_code == 200
    text = text_of(listing)
    assert NAME in text
    assert "run by Greater Manchester Combined Authority" in text
    assert "Set up a collection" not in text
    page = client.get(f"/collections/{collection.pk}/")
    assert page.status_code == 200
    assert NAME in text_of(page)
    submit_url = f"/collections/{collection.pk}/submit/"
    assert_forbidden_page(client.get(submit_url))
    before = Submission.objects.count()
    response = client.post(
        submit_url, {"period": yesterday().isoformat(), "upload": upload(care_home_csv(good()))}
    )
    assert_forbidden_page(response)
    assert Submission.objects.count() == before
    assert_forbidden_page(client.get("/collections/new/"))


def test_a_viewer_of_the_owner_cannot_set_up_a_collection_or_add_contributors(
    gmca, framework, homes
) -> None:
    collection = make_collection(gmca, framework, slug="viewer-test")
    client = client_of(gmca, Role.VIEWER)
    listing = text_of(client.get("/collections/"))
    assert NAME in listing
    assert "Set up a collection" not in listing
    assert_forbidden_page(client.get("/collections/new/"))
    response = client.post("/collections/new/", new_collection_form(framework, slug="nope"))
    assert_forbidden_page(response)
    assert not Collection.objects.filter(slug="nope").exists()
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert 'name="organisation"' not in page  # no add form for a viewer
    response = client.post(
        f"/collections/{collection.pk}/contributors/", {"organisation": str(homes[0].pk)}
    )
    banner = text_of(follow(client, response))
    assert "Only someone with one of these roles can add contributors" in banner
    assert not collection.contributors.exists()


def test_a_contributor_sees_only_its_own_returns(collection, homes, accepted, rejected) -> None:
    compilation = CompiledDataset.objects.get(collection=collection, number=1)
    client = client_of(homes[0], Role.DATA_OFFICER)
    before = last_seq()
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert "Your returns" in page
    assert f"/submissions/{accepted.pk}/" in page
    assert "Who has sent what" not in page
    assert "The compiled dataset" not in page
    assert 'id="compiled-rows"' not in page
    assert "Kingfisher Care Home" not in page
    assert f"/collections/{collection.pk}/compiled.csv" not in page
    response = client.get(f"/collections/{collection.pk}/compiled.csv")
    assert response.status_code == 302
    assert response.url == f"/collections/{collection.pk}/"
    assert (
        "Only Greater Manchester Combined Authority, which runs this collection, can download "
        "the compiled dataset." in text_of(client.get(response.url))
    )
    assert not decided(before, compilation.data)
    # Another contributor's return is not theirs to see.
    assert_not_found_page(client.get(f"/submissions/{rejected.pk}/"))
    assert_not_found_page(client.get(f"/submissions/{rejected.pk}/problems.csv"))
    # Nor may a contributor add others.
    response = client.post(
        f"/collections/{collection.pk}/contributors/", {"organisation": str(homes[1].pk)}
    )
    assert "which runs this collection, can add contributors" in text_of(follow(client, response))


def test_the_owner_sees_a_rejected_return_but_not_its_problems(collection, gmca, rejected) -> None:
    client = client_of(gmca, Role.ANALYST)
    before = last_seq()
    page = client.get(f"/submissions/{rejected.pk}/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Rejected" in text
    assert "from Kingfisher Care Home" in text
    assert 'id="problems"' not in text
    assert "problems.csv" not in text
    assert "Send a corrected file" not in text
    response = client.get(f"/submissions/{rejected.pk}/problems.csv")
    assert response.status_code == 302
    assert response.url == f"/submissions/{rejected.pk}/"
    assert response.get("Content-Disposition") is None
    assert "There is no problem report for this return." in text_of(client.get(response.url))
    assert not decided(before, rejected.problems_object)


# --- the list and setting up a collection -------------------------------------------------------


def test_the_list_shows_what_is_due_and_what_each_organisation_runs(
    collection, gmca, homes
) -> None:
    sender = text_of(client_of(homes[0], Role.DATA_OFFICER).get("/collections/"))
    due = re.search(r'<table class="govuk-table" id="due">.*?</table>', sender, re.S)
    assert due is not None
    assert NAME in due.group(0)
    assert f"/collections/{collection.pk}/submit/" in due.group(0)
    assert "Late" in due.group(0)  # the first missing period's deadline has passed
    assert "run by Greater Manchester Combined Authority" in sender
    runner = text_of(client_of(gmca, Role.ANALYST).get("/collections/"))
    assert 'id="due"' not in runner
    assert "Set up a collection" in runner
    assert f'href="/collections/{collection.pk}/"' in runner


def new_collection_form(framework: Framework, **changes: str) -> dict[str, str]:
    return {
        "name": "Care home status, Greater Manchester",
        "slug": "care-homes-gm",
        "standard": CARE_HOME,
        "schedule": "daily",
        "starts_on": "2/3/2026",
        "deadline_days": "1",
        "deadline_time": "11:00:00",
        "invalid_rows": "set_aside",
        "framework": str(framework.pk),
        **changes,
    }


def test_setting_up_a_collection_and_a_duplicate_short_name(gmca, framework) -> None:
    client = client_of(gmca, Role.DATA_OFFICER)
    form = client.get("/collections/new/")
    assert form.status_code == 200
    text = text_of(form)
    assert "Set up a collection" in text
    assert "Care home daily status" in text  # the standards to choose from
    before = last_seq()
    response = client.post("/collections/new/", new_collection_form(framework))
    assert response.status_code == 302, text_of(response)[:3000]
    made = Collection.objects.get(slug="care-homes-gm")
    assert response.url == f"/collections/{made.pk}/"
    assert (made.owner, made.standard_slug, made.schedule) == (gmca, CARE_HOME, "daily")
    assert (made.starts_on, made.deadline_days) == (dt.date(2026, 3, 2), 1)
    assert (made.deadline_time, made.invalid_rows) == (dt.time(11, 0), "set_aside")
    assert made.framework == framework
    assert [e.target for e in events_after(before, "collection.created")] == [
        f"collection:{made.pk}"
    ]
    page = text_of(client.get(response.url))
    assert NAME in page
    assert "Who has sent what" in page

    again = client.post(
        "/collections/new/", new_collection_form(framework, name="Another collection")
    )
    assert again.status_code == 200
    assert (
        "There is already a collection called care-homes-gm; choose another short name."
        in text_of(again)
    )
    assert Collection.objects.count() == 1
    assert events_after(before, "collection.created")[-1].outcome == "refused"

    invalid = client.post(
        "/collections/new/", new_collection_form(framework, slug="Not a slug!", starts_on="")
    )
    assert invalid.status_code == 200
    assert "govuk-error-summary" in text_of(invalid)
    assert Collection.objects.count() == 1


# --- contributors -------------------------------------------------------------------------------


def test_the_owner_adds_a_contributor(gmca, homes, framework) -> None:
    collection = make_collection(gmca, framework, slug="contributors-test")
    client = client_of(gmca, Role.ANALYST)
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert f'action="/collections/{collection.pk}/contributors/"' in page
    assert f'<option value="{homes[0].pk}">Oakleigh Care Home</option>' in page
    before = last_seq()
    response = client.post(
        f"/collections/{collection.pk}/contributors/", {"organisation": str(homes[0].pk)}
    )
    assert response.url == f"/collections/{collection.pk}/"
    shown = text_of(follow(client, response))
    assert "govuk-notification-banner--success" in shown
    assert "Oakleigh Care Home is now expected to send returns." in shown
    assert "Oakleigh Care Home \u2013 non-personal data under the framework" in shown
    assert collection.contributors.get().organisation == homes[0]
    assert len(events_after(before, "collection.contributor_added")) == 1
    # Choosing nobody says so.
    response = client.post(f"/collections/{collection.pk}/contributors/", {"organisation": ""})
    assert "Choose an organisation to add." in text_of(follow(client, response))
    # Something that is not an organisation's number gets the same answer, not an error page.
    for bad in ("abc", "-1", "1e3", "999999"):
        response = client.post(f"/collections/{collection.pk}/contributors/", {"organisation": bad})
        assert "Choose an organisation to add." in text_of(follow(client, response))
    # Adding the same organisation again is refused.
    response = client.post(
        f"/collections/{collection.pk}/contributors/", {"organisation": str(homes[0].pk)}
    )
    assert "already contributes" in text_of(follow(client, response))
    assert collection.contributors.count() == 1
    # Only POST.
    assert client.get(f"/collections/{collection.pk}/contributors/").status_code == 405


def test_personal_data_needs_an_agreement_before_a_contributor_is_added(
    gmca, homes, framework
) -> None:
    shielded = make_collection(
        gmca, framework, slug="shielded-gm", standard="shielded-patient-list"
    )
    client = client_of(gmca, Role.ANALYST)
    response = client.post(
        f"/collections/{shielded.pk}/contributors/", {"organisation": str(homes[0].pk)}
    )
    shown = text_of(follow(client, response))
    assert "govuk-notification-banner--success" not in shown
    assert "is personal data, so Oakleigh Care Home can send it" in shown
    assert "only under an active agreement" in shown
    assert not shielded.contributors.exists()


# --- sending a return ---------------------------------------------------------------------------


def test_sending_a_good_return_shows_progress_then_the_result(collection, homes) -> None:
    client = client_of(homes[0], Role.DATA_OFFICER)
    form = client.get(f"/collections/{collection.pk}/submit/")
    assert form.status_code == 200
    text = text_of(form)
    assert f"Send a return to {NAME}" in text
    assert f'value="{yesterday().isoformat()}"' in text
    assert 'enctype="multipart/form-data"' in text
    before = last_seq()
    response = client.post(
        f"/collections/{collection.pk}/submit/",
        {
            "period": yesterday().isoformat(),
            "upload": upload(care_home_csv(good(cqc_provider_id="")), "oakleigh.csv"),
            "caveats": "Closed wing not counted.",
        },
    )
    assert response.status_code == 302, text_of(response)[:3000]
    submission = Submission.objects.get()
    assert response.url == f"/submissions/{submission.pk}/"
    assert (submission.organisation, submission.period) == (homes[0], yesterday())
    assert (submission.filename, submission.via) == ("oakleigh.csv", "web")
    assert len(events_after(before, "submission.received")) == 1

    checking = text_of(client.get(response.url))
    assert "oakleigh.csv" in checking
    assert "The file is being checked against the standard" in checking
    assert '<progress class="accord-task-progress__bar"' in checking
    assert f'id="task-progress-{submission.progress_id}"' in checking
    assert f"/tasks/{submission.progress_id}/progress/" in checking

    assert run_queued_tasks() == 2  # the check, then the compilation it queued
    done = text_of(client.get(response.url))
    assert 'id="submission-state">Accepted<' in done
    assert "being checked" not in done
    assert "accord-task-progress__bar" not in done
    assert re.search(r'id="rows">\s*1 row, 1 without errors', done)
    assert "Closed wing not counted." in done
    caveats = re.search(r'id="automatic-caveats">(.*?)</ul>', done, re.S)
    assert caveats is not None
    assert "No row gives cqc provider id." in caveats.group(1)
    # The contributor's own page lists it.
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert re.search(r'id="history".*oakleigh\.csv.*Accepted', page, re.S)


def test_a_bad_file_is_rejected_with_its_problems_and_their_download(collection, homes) -> None:
    client = client_of(homes[1], Role.INFORMATION_ASSET_OWNER)
    before = last_seq()
    response = client.post(
        f"/collections/{collection.pk}/submit/",
        {
            "period": yesterday().isoformat(),
            "upload": upload(care_home_csv(good(postcode="ME14 1XX9", registered_beds="forty"))),
        },
    )
    submission = Submission.objects.get()
    assert response.url == f"/submissions/{submission.pk}/"
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "rejected"
    problems_object = submission.problems_object

    page = text_of(client.get(response.url))
    assert 'id="submission-state">Rejected<' in page
    reason = re.search(r'id="reason">(.*?)</p>', page, re.S)
    assert reason is not None
    assert "1 of 1 rows have errors (2 in all)" in reason.group(1)
    assert f"/collections/{collection.pk}/submit/" in page  # send a corrected file
    assert 'id="rules"' in page
    table = re.search(r'<table class="govuk-table" id="problems">(.*?)</table>', page, re.S)
    assert table is not None
    headers = re.findall(r'<th scope="col" class="govuk-table__header">(.*?)</th>', table.group(1))
    assert headers == ["Row", "Column", "What is wrong"]
    cells = [
        re.findall(r'<td class="govuk-table__cell">(.*?)</td>', row, re.S)
        for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", table.group(1))[1:]
    ]
    assert sorted(c[:2] for c in cells) == [["2", "postcode"], ["2", "registered_beds"]]
    assert all(c[2] for c in cells)
    assert "Download all 2 problems (CSV)" in page
    page_reads = decided(before, problems_object)
    assert [(e.outcome, e.organisation) for e in page_reads] == [("permit", str(homes[1].pk))]
    assert page_reads[0].purpose.startswith("Reading the problems found in a return")

    seq = last_seq()
    download = client.get(f"/submissions/{submission.pk}/problems.csv")
    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download["Content-Disposition"] == (
        f'attachment; filename="problems-{submission.pk}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8"))))
    assert {"row", "column", "message"} <= set(rows[0])
    assert sorted((r["row"], r["column"]) for r in rows) == [
        ("2", "postcode"),
        ("2", "registered_beds"),
    ]
    assert all(r["message"] for r in rows)
    reads = decided(seq, problems_object)
    assert [(e.outcome, e.organisation) for e in reads] == [("permit", str(homes[1].pk))]


def test_a_missing_or_oversize_file_is_a_form_error(collection, homes, monkeypatch) -> None:
    client = client_of(homes[0], Role.DATA_OFFICER)
    url = f"/collections/{collection.pk}/submit/"
    missing = client.post(url, {"period": yesterday().isoformat()})
    assert missing.status_code == 200
    assert "Choose the file to send" in text_of(missing)
    assert "govuk-error-summary" in text_of(missing)
    # The real limit is 256 MB; a 1 MB limit keeps the upload small while it is tested.
    monkeypatch.setattr(collection_views, "MAX_UPLOAD_BYTES", 1024 * 1024)
    big = upload(care_home_csv(good()) + b"\n" * (1024 * 1024))
    oversize = client.post(url, {"period": yesterday().isoformat(), "upload": big})
    assert oversize.status_code == 200
    assert "The file is larger than 1 MB" in text_of(oversize)
    assert not Submission.objects.exists()


def test_only_contributors_may_send(collection, gmca) -> None:
    client = client_of(gmca, Role.ANALYST)
    response = client.post(
        f"/collections/{collection.pk}/submit/",
        {"period": yesterday().isoformat(), "upload": upload(care_home_csv(good()))},
    )
    assert response.status_code == 200
    assert (
        f"Greater Manchester Combined Authority is not expected to send returns to {NAME}."
        in text_of(response)
    )
    assert not Submission.objects.exists()


# --- the owner's view and the compiled dataset --------------------------------------------------


def test_the_owner_sees_who_has_sent_what_and_the_compiled_rows(
    collection, gmca, accepted, rejected
) -> None:
    compilation = CompiledDataset.objects.filter(collection=collection).latest("number")
    client = client_of(gmca, Role.ANALYST)
    before = last_seq()
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert "Who has sent what" in page
    card = re.search(
        rf'id="period-{yesterday().isoformat()}">(.*?)</table>', page, re.S
    )  # yesterday's period: its deadline, noon yesterday, has passed
    assert card is not None
    status = card.group(1)
    assert "1 of 3 sent (33% complete), 2 late" in status
    slots = dict(
        re.findall(
            r'<td class="govuk-table__cell">([^<]+)</td><td class="govuk-table__cell">'
            r'<strong class="govuk-tag[^"]*">([^<]+)</strong>',
            status,
        )
    )
    assert slots == {
        "Oakleigh Care Home": "Sent",
        "Kingfisher Care Home": "Late: nothing accepted",  # its only return was rejected
        "Riverside Care Home": "Late: nothing accepted",
    }
    assert "(after the deadline)" in status  # Oakleigh's return came after noon yesterday
    assert f"/submissions/{accepted.pk}/" in status
    # Today's period is there too.
    assert f'id="period-{today().isoformat()}"' in page

    assert "1 row from 1 accepted return" in page
    assert f"/collections/{collection.pk}/compiled.csv" in page
    caveats = re.search(r'id="caveats">(.*?)</ul>', page, re.S)
    assert caveats is not None
    assert "Closed wing not counted." in caveats.group(1)
    assert "No row gives cqc provider id. <span" in caveats.group(1)
    assert "(found by Accord)" in caveats.group(1)
    preview = re.search(r'id="compiled-rows">(.*?)</table>', page, re.S)
    assert preview is not None
    headers = re.findall(
        r'<th scope="col" class="govuk-table__header">(.*?)</th>', preview.group(1)
    )
    assert headers[:4] == ["period", "organisation", "submission", "source_row"]
    assert "Oakleigh Care Home" in preview.group(1)
    assert str(accepted.pk) in preview.group(1)

    reads = decided(before, compilation.data)
    assert [(e.outcome, e.organisation) for e in reads] == [("permit", str(gmca.pk))]
    assert reads[0].purpose == f"Running the collection “{collection.name}”"
    # The owner sees the accepted return's page, with its caveats.
    shown = text_of(client.get(f"/submissions/{accepted.pk}/"))
    assert 'id="submission-state">Accepted<' in shown
    assert "from Oakleigh Care Home" in shown


def test_the_owner_downloads_the_compiled_dataset_with_provenance(
    collection, gmca, accepted
) -> None:
    compilation = CompiledDataset.objects.filter(collection=collection).latest("number")
    client = client_of(gmca, Role.ANALYST)
    before = last_seq()
    response = client.get(f"/collections/{collection.pk}/compiled.csv")
    assert response.status_code == 200, text_of(client.get(response.url))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="care-homes-gm-compiled-{compilation.number}.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))
    assert list(rows[0])[:4] == ["period", "organisation", "submission", "source_row"]
    assert [(r["period"], r["organisation"], r["submission"], r["source_row"]) for r in rows] == [
        (yesterday().isoformat(), "Oakleigh Care Home", str(accepted.pk), "2")
    ]
    assert rows[0]["cqc_location_id"] == "1-1234567890"
    reads = decided(before, compilation.data)
    assert [(e.outcome, e.organisation, e.details["action"]) for e in reads] == [
        ("permit", str(gmca.pk), "extract")
    ]
    # The contributors' data is the collection's under the framework, for running it.
    assert reads[0].purpose == f"Running the collection “{collection.name}”"


def test_before_anything_is_accepted_there_is_nothing_to_download(collection, gmca) -> None:
    client = client_of(gmca, Role.ANALYST)
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert "Nothing has been accepted yet." in page
    assert "0 of 3 sent (0% complete), 3 late" in page
    response = client.get(f"/collections/{collection.pk}/compiled.csv")
    assert response.status_code == 302
    assert "There is no compiled dataset for you to download yet." in text_of(
        client.get(response.url)
    )

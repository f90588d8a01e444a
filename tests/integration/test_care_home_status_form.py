"""The care home manager's daily status form through the real client: who may use it (a member
with a submitting role of a contributing home; not signed out, not a viewer, not an
organisation outside the collection, not the organisation that runs it, not for a collection
of another standard); the questions and their specific error messages, including problems the
validation engine finds, shown against the question; a good answer sent as a one-row CSV in the
standard's column order through ``actions.receive`` (via the web), checked by the real task and
accepted; and the home's details filled in next time from its last return, read through the
decision point."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import polars as pl
import pytest
from django.test import Client
from django.utils import timezone

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.agreements.models import Framework
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from accord.submissions import actions
from accord.submissions.models import Collection, Submission
from accord.vault.queries import open_object, resource_for
from tests.factories import OrganisationFactory, combined_authority, framework_of, member_actor
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

CARE_HOME = "care-home-daily-status"
NAME = "Care home status, Greater Manchester"


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def today() -> dt.date:
    return timezone.localdate()


# Days relative to the day a test runs, filled in when it runs (parameters are made when the
# tests are collected, which may be the day before).
TOMORROW = "<tomorrow>"
TEN_DAYS_AGO = "<ten days ago>"


def _day(value: str) -> str:
    if value == TOMORROW:
        return uk(today() + dt.timedelta(days=1))
    if value == TEN_DAYS_AGO:
        return uk(today() - dt.timedelta(days=10))
    return value


def uk(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


def answers(**change: str) -> dict[str, str]:
    """A good day's status for the home, as the manager would type it."""
    return {
        "report_date": uk(today()),
        "care_home_name": "Oakleigh Care Home",
        "cqc_location_id": "1-1234567890",
        "postcode": "me16 8ab",
        "service_type": "older_adults_nursing",
        "ltla_cd": "E07000110",
        "utla_cd": "E10000016",
        "icb_cd": "E54000032",
        "combined_authority_cd": "",
        "uprn": "200003691234",
        "ods_code": "VN4G7",
        "cqc_provider_id": "1-987654321",
        "registered_beds": "48",
        "occupied_beds": "44",
        "vacant_beds_residential": "2",
        "vacant_beds_nursing": "1",
        "vacant_beds_dementia": "1",
        "admissions_status": "open",
        "residents_covid_positive_new_24h": "0",
        "staff_covid_positive_new_24h": "1",
        "residents_covid_deaths_7d": "0",
        "outbreak_status": "none",
        "outbreak_start_date": "",
        "ppe_days_gloves": "21",
        "ppe_days_aprons": "14",
        "ppe_days_iir_masks": "10",
        "ppe_rag": "green",
        "staff_headcount": "62",
        "staff_absent_total": "4",
        "staff_absent_covid": "1",
        "agency_shifts_7d": "9",
        "visiting_status": "open",
        "residents_booster_pct": "83.5",
        "staff_booster_pct": "41",
        "ipc_training_completed": "yes",
        "caveats": "",
        **change,
    }


# --- organisations and collections --------------------------------------------------------------


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def home() -> Organisation:
    return OrganisationFactory(name="Oakleigh Care Home", sector=Sector.CARE_PROVIDER)


@pytest.fixture
def other_home() -> Organisation:
    """A care home in the framework but not expected to send returns to the collection."""
    return OrganisationFactory(name="Willow Care Home", sector=Sector.CARE_PROVIDER)


@pytest.fixture
def framework(gmca, home, other_home) -> Framework:
    return framework_of(gmca, home, other_home)


def make_collection(
    owner: Organisation, framework: Framework, *, slug: str, standard: str = CARE_HOME
) -> Collection:
    return actions.create_collection(
        by=member_actor(owner, Role.ANALYST),
        slug=slug,
        name=NAME if standard == CARE_HOME else f"{standard} collection",
        standard=get_standard(standard),
        schedule="daily",
        starts_on=today() - dt.timedelta(days=3),
        deadline_days=1,
        deadline_time=dt.time(11, 0),
        framework=framework,
    )


@pytest.fixture
def collection(gmca, home, framework) -> Collection:
    made = make_collection(gmca, framework, slug="care-homes-form")
    actions.add_contributor(by=member_actor(gmca, Role.ANALYST), collection=made, organisation=home)
    return made


def form_url(collection: Collection) -> str:
    return f"/collections/{collection.pk}/status/"


def client_of(organisation: Organisation, *roles: Role) -> Client:
    return signed_in_client(person(organisation, *roles))


def stored_bytes(submission: Submission, home: Organisation) -> bytes:
    """The upload as the vault holds it, read by the home (its controller)."""
    by = member_actor(home, Role.DATA_OFFICER)
    decision = decide(
        actor=by,
        action=Action.VIEW,
        resource=resource_for(submission.upload),
        purpose="Checking what the form sent",
    )
    assert decision.permitted, decision.reason
    return b"".join(open_object(submission.upload_id, by=by, decision=decision))


def input_value(page: str, name: str) -> str | None:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', page)
    assert found is not None, f"no input {name}"
    value = re.search(r'value="([^"]*)"', found.group(0))
    return value.group(1) if value else None


# --- who may not use it -------------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(collection) -> None:
    client = Client()
    url = form_url(collection)
    assert_redirects_to_sign_in(client.get(url), url)
    before = Submission.objects.count()
    assert_redirects_to_sign_in(client.post(url, answers()), url)
    assert Submission.objects.count() == before


def test_an_organisation_not_involved_gets_page_not_found(
    collection, other_home, other_council
) -> None:
    before = Submission.objects.count()
    seq = last_seq()
    for outsider in (other_home, other_council):
        client = client_of(outsider, Role.ORGANISATION_ADMIN, Role.DATA_OFFICER, Role.ANALYST)
        assert_not_found_page(client.get(form_url(collection)))
        assert_not_found_page(client.post(form_url(collection), answers()))
        unknown = "/collections/00000000-0000-4000-8000-000000000000/status/"
        assert_not_found_page(client.get(unknown))
    assert Submission.objects.count() == before
    assert not events_after(seq, "access.decided")
    assert not events_after(seq, "submission.received")


def test_a_viewer_of_the_home_cannot_use_it(collection, home) -> None:
    client = client_of(home, Role.VIEWER)
    assert_forbidden_page(client.get(form_url(collection)))
    before = Submission.objects.count()
    assert_forbidden_page(client.post(form_url(collection), answers()))
    assert Submission.objects.count() == before
    page = text_of(client.get(f"/collections/{collection.pk}/"))
    assert "Send today's status using a form" not in page


def test_the_organisation_that_runs_it_is_not_a_contributor(collection, gmca) -> None:
    client = client_of(gmca, Role.ANALYST, Role.DATA_OFFICER)
    assert_forbidden_page(
        client.get(form_url(collection)),
        reason="Greater Manchester Combined Authority does not send returns to this collection",
    )
    before = Submission.objects.count()
    assert_forbidden_page(client.post(form_url(collection), answers()))
    assert Submission.objects.count() == before
    assert "Send today's status using a form" not in text_of(
        client.get(f"/collections/{collection.pk}/")
    )


def test_a_collection_of_another_standard_has_no_status_form(gmca, home, framework) -> None:
    other = make_collection(gmca, framework, slug="revenue", standard="revenue-outturn")
    actions.add_contributor(
        by=member_actor(gmca, Role.ANALYST), collection=other, organisation=home
    )
    client = client_of(home, Role.DATA_OFFICER)
    assert_not_found_page(client.get(form_url(other)))
    assert_not_found_page(client.post(form_url(other), answers()))
    page = text_of(client.get(f"/collections/{other.pk}/"))
    assert "Send a return" in page
    assert "Send today's status using a form" not in page


# --- the form -----------------------------------------------------------------------------------


def test_the_home_finds_the_form_from_the_collection_and_its_list(collection, home) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    detail = text_of(client.get(f"/collections/{collection.pk}/"))
    assert "Send a return" in detail
    assert "Send today's status using a form" in detail
    assert f'href="{form_url(collection)}"' in detail
    listing = text_of(client.get("/collections/"))
    assert f'href="{form_url(collection)}"' in listing


def test_the_form_asks_every_column_of_the_standard(collection, home) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    seq = last_seq()
    response = client.get(form_url(collection))
    assert response.status_code == 200
    page = text_of(response)
    assert "Send today's status" in page
    for spec in get_standard(CARE_HOME).fields:
        assert f'name="{spec.name}"' in page, spec.name
    assert 'name="caveats"' in page
    # The day defaults to today; the home's name is what Accord knows of it.
    assert input_value(page, "report_date") == uk(today())
    assert input_value(page, "care_home_name") == "Oakleigh Care Home"
    # With no return before, the home's details are asked for, open.
    assert re.search(r'<details class="govuk-details" id="about-your-home" open>', page)
    assert "Fill these in once" in page
    for legend in ("Beds", "Covid", "Staff", "Your home's details"):
        assert f"{legend}\n" in page or f"{legend}<" in page or f"{legend} " in page, legend
    assert "Is the home taking new residents?" in page
    assert not events_after(seq, "access.decided")  # nothing to read yet


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"registered_beds": ""}, "registered_beds", "Enter the number of registered beds"),
        (
            {"registered_beds": "forty"},
            "registered_beds",
            "Enter the number of registered beds as a whole number, like 48",
        ),
        ({"occupied_beds": "-1"}, "occupied_beds", "The number of occupied beds must be 0 or more"),
        (
            {"occupied_beds": "50"},
            "occupied_beds",
            "Occupied beds (50) cannot be more than registered beds (48): check both figures",
        ),
        (
            {"vacant_beds_nursing": "6"},
            "vacant_beds_nursing",
            "The number of vacant nursing beds (6) cannot be more than the empty beds "
            "(48 registered less 44 occupied is 4)",
        ),
        ({"admissions_status": ""}, "admissions_status", "Select whether the home is admitting"),
        (
            {"staff_absent_covid": "5"},
            "staff_absent_covid",
            "Staff absent because of Covid (5) are part of all staff absent (4)",
        ),
        (
            {"ppe_days_gloves": "400"},
            "ppe_days_gloves",
            "The number of days of gloves must be 365 or fewer",
        ),
        (
            {"outbreak_status": "confirmed"},
            "outbreak_start_date",
            "Enter the date the outbreak started, like 27/3/2027",
        ),
        (
            {"outbreak_status": "confirmed", "outbreak_start_date": "31/2/2026"},
            "outbreak_start_date",
            "Enter the date the outbreak started as a real date, like 27/3/2027",
        ),
        (
            {"report_date": uk(today() + dt.timedelta(days=1))},
            "report_date",
            "The day the figures are for must be today or in the past",
        ),
        (
            {"report_date": uk(today() - dt.timedelta(days=10))},
            "report_date",
            f"{NAME} starts on",
        ),
        ({"report_date": ""}, "report_date", "Enter the day the figures are for"),
        (
            {"outbreak_status": "declared_over", "outbreak_start_date": "31/12/2019"},
            "outbreak_start_date",
            "Enter the date the outbreak started as 1/1/2020 or later",
        ),
        (
            {"residents_booster_pct": "101"},
            "residents_booster_pct",
            "The percentage of residents must be 100 or less",
        ),
        ({"cqc_location_id": ""}, "cqc_location_id", "Enter the home's CQC location ID"),
        (
            {"cqc_provider_id": "12345"},
            "cqc_provider_id",
            "12345 is not a CQC provider ID: it should be 1- followed by digits",
        ),
        # Found by the validation engine itself, with the standard's own message.
        (
            {"ltla_cd": "E07999999"},
            "ltla_cd",
            "E07999999 is not a current local authority district code (LAD25)",
        ),
        ({"cqc_location_id": "12345"}, "cqc_location_id", "12345 is not a CQC location ID"),
    ],
)
def test_each_mistake_is_shown_against_its_question(
    collection, home, change, field, message
) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    before = Submission.objects.count()
    seq = last_seq()
    response = client.post(form_url(collection), answers(**change))
    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Error: " in page
    assert "There is a problem" in page
    # In the error summary, linked to the question, and beside the question.
    summary = page.split('govuk-error-summary__list">', 1)[1].split("</ul>", 1)[0]
    assert f'href="#id_{field}' in summary, summary
    assert message in summary
    beside = page.split("</ul>", 1)[1]
    assert re.search(rf'id="id_{field}[^"]*_error" class="govuk-error-message">', beside)
    assert message in beside
    # Everything typed is kept.
    assert input_value(page, "staff_headcount") == "62"
    assert Submission.objects.count() == before
    assert not events_after(seq, "submission.received")


def test_a_mistake_in_the_homes_details_opens_them(collection, home) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    page = text_of(client.post(form_url(collection), answers(ltla_cd="E07999999")))
    assert re.search(r'id="about-your-home" open>', page)
    # A good set of details stays folded away when only a figure is wrong.
    page = text_of(client.post(form_url(collection), answers(registered_beds="")))
    assert re.search(r'id="about-your-home">', page)


def test_a_good_status_is_sent_checked_accepted_and_remembered(collection, home) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    seq = last_seq()
    response = client.post(form_url(collection), answers(caveats="The closed wing is not counted."))
    submission = Submission.objects.get(collection=collection, organisation=home)
    assert response.status_code == 302
    assert response.url == f"/submissions/{submission.pk}/"
    assert submission.via == "web"
    assert submission.period == today()
    assert submission.filename == f"status-form-{today().isoformat()}.csv"
    assert submission.caveats == "The closed wing is not counted."
    assert submission.state == "received"
    received = events_after(seq, "submission.received")
    assert len(received) == 1
    assert received[0].details["via"] == "web"

    # The stored file: one row, the standard's columns in its order, the answers as typed.
    frame = pl.read_csv(io.BytesIO(stored_bytes(submission, home)), infer_schema=False)
    assert frame.columns == [f.name for f in get_standard(CARE_HOME).fields]
    assert frame.height == 1
    row = frame.row(0, named=True)
    assert row["report_date"] == today().isoformat()
    assert row["postcode"] == "ME16 8AB"
    assert row["occupied_beds"] == "44"
    assert row["residents_booster_pct"] == "83.5"
    assert row["ipc_training_completed"] == "yes"
    assert row["outbreak_start_date"] is None
    assert row["combined_authority_cd"] is None

    # The page shows the check under way; the same engine as any upload accepts it.
    checking = text_of(client.get(response.url))
    assert "Being checked" in checking or "Received" in checking
    run_queued_tasks()
    submission.refresh_from_db()
    assert submission.state == "accepted", submission.reason
    assert submission.rows == 1
    assert submission.valid_rows == 1
    page = text_of(client.get(response.url))
    assert "Accepted" in page
    assert "1 row, 1 without errors" in page

    # Next time, the home's details come from that return, read through the decision point,
    # and are folded away; the figures are asked afresh.
    seq = last_seq()
    page = text_of(client.get(form_url(collection)))
    assert input_value(page, "cqc_location_id") == "1-1234567890"
    assert input_value(page, "postcode") == "ME16 8AB"
    assert input_value(page, "ltla_cd") == "E07000110"
    assert input_value(page, "icb_cd") == "E54000032"
    assert input_value(page, "combined_authority_cd") is None
    assert re.search(r'value="older_adults_nursing"[^>]*checked', page)
    assert input_value(page, "registered_beds") is None
    assert re.search(r'id="about-your-home">', page)
    assert "Filled in from your last accepted return" in page
    decided = [
        e
        for e in events_after(seq, "access.decided")
        if e.target == resource_for(submission.rows_object).ref
    ]
    assert len(decided) == 1
    assert decided[0].outcome == "permit"


def test_the_figures_for_an_earlier_day_go_to_that_period(collection, home) -> None:
    client = client_of(home, Role.DATA_OFFICER)
    day = today() - dt.timedelta(days=2)
    response = client.post(form_url(collection), answers(report_date=uk(day)))
    assert response.status_code == 302
    submission = Submission.objects.get(collection=collection, organisation=home)
    assert submission.period == day
    assert submission.filename == f"status-form-{day.isoformat()}.csv"


def test_an_analyst_of_the_home_may_send_it_too(collection, home) -> None:
    client = client_of(home, Role.ANALYST)
    assert client.get(form_url(collection)).status_code == 200
    response = client.post(form_url(collection), answers())
    assert response.status_code == 302
    assert Submission.objects.filter(organisation=home, via="web").count() == 1


def test_a_home_no_longer_expected_to_send_is_refused(collection, home) -> None:
    collection.contributors.filter(organisation=home).update(is_active=False)
    client = client_of(home, Role.DATA_OFFICER)
    # No longer a contributor, so the collection is not its to see (as the upload page).
    assert_not_found_page(client.get(form_url(collection)))
    assert_not_found_page(client.post(form_url(collection), answers()))
    assert not Submission.objects.filter(organisation=home).exists()

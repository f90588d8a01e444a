"""The pages for data shared with an organisation, through the real client, on the real decision
point, vault and task runner: what is shared with you, asking for an extract, following it while
it is built and downloading it; publishing a release and seeing who picked it up.

The world: Kent County Council shares housing benefit data with two districts (Maidstone and
Canterbury) under an active agreement that pseudonymises the identifiers, generalises date of
birth and postcode, and gives each district only its own area's rows. Hackney is a stranger.

For each page: signed out goes to sign-in, the wrong role gets the 403 page, another
organisation gets "page not found" (or nothing listed), and the agreement's suspension or end
refuses requests and downloads with the decision point's reason.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
import zipfile

import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from accord.access import releases
from accord.access.models import Extract, ExtractState, Grant, Release
from accord.agreements import actions as agreement_actions
from accord.demo.sharing import signer_for
from accord.organisations.enums import Role
from accord.organisations.models import Organisation
from tests.factories import member_actor
from tests.tasks import run_queued_tasks
from tests.unit.access.sharing import PURPOSE, World, county_shares_housing_benefit, hb_frame

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    person,
    signed_in_client,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"
MAIDSTONE = "E07000110"
CANTERBURY = "E07000106"
HEADER = (
    "hb_claim_ref,person_id,nino,date_of_birth,uprn,postcode,ltla_cd,claim_status,"
    "hb_in_payment,tenure,extract_date"
)
ROWS = [
    "HB1,P1,AB123456C,1980-01-02,100021,ME14 1XX,E07000110,live,true,council,2026-11-13",
    "HB2,P2,AB123457C,1975-05-06,100022,ME15 2YY,E07000110,live,true,council,2026-11-13",
    "HB3,P3,AB123458C,1990-07-08,100023,CT1 1AA,E07000106,live,false,owner,2026-11-13",
]


def hb_csv(*rows: str) -> bytes:
    return ("\r\n".join([HEADER, *(rows or ROWS)]) + "\r\n").encode()


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def upload(content: bytes, name: str = "hb.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def client_for(organisation: Organisation, *roles: Role) -> Client:
    return signed_in_client(person(organisation, *roles), organisation)


def publish(world: World, label: str = "Housing benefit, November") -> Release:
    return releases.publish(
        by=member_actor(world.county, Role.DATA_OFFICER),
        agreement=world.agreement,
        flow_id=world.flow_id,
        dataset_id=world.dataset_id,
        label=label,
        frame=hb_frame(),
        caveats="November figures are provisional.",
    )


def outlet_key(world: World) -> str:
    return f"{world.agreement.pk}|{world.flow_id}|{world.dataset_id}"


def request_slice(client: Client, release: Release, fmt: str = "csv") -> Extract:
    response = client.post(f"/releases/{release.pk}/", {"purpose": PURPOSE, "format": fmt})
    assert response.status_code == 302, text_of(response)[:3000]
    match = re.fullmatch(r"/extracts/([0-9a-f-]{36})/", response.url)
    assert match, response.url
    return Extract.objects.get(pk=match.group(1))


def built(client: Client, release: Release) -> Extract:
    extract = request_slice(client, release)
    assert run_queued_tasks() >= 1
    extract.refresh_from_db()
    assert extract.state == ExtractState.READY, extract.message
    return extract


def suspend(world: World) -> None:
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.agreement, reason="A data breach is looked at"
    )


def terminate(world: World) -> None:
    agreement_actions.terminate(
        by=signer_for(world.county), agreement=world.agreement, reason="The scheme has closed"
    )


def read_zip_csv(content: bytes) -> pl.DataFrame:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return pl.read_csv(archive.read("extract.csv"), infer_schema=False)


# Signed out and wrong roles ---------------------------------------------------------------------

PAGES = [
    "/shared/",
    "/extracts/",
    f"/extracts/new/?source=release:{UNKNOWN}",
    f"/extracts/{UNKNOWN}/",
    f"/extracts/{UNKNOWN}/download/",
    "/releases/",
    "/releases/new/",
    f"/releases/{UNKNOWN}/",
]


@pytest.mark.parametrize("page", PAGES)
def test_signed_out_people_are_sent_to_sign_in(client: Client, page: str) -> None:
    response = client.get(page)
    assert_redirects_to_sign_in(response, page)


@pytest.mark.parametrize("page", PAGES)
def test_a_viewer_may_not_see_shared_data_pages(page: str) -> None:
    world = county_shares_housing_benefit()
    viewer = client_for(world.district, Role.VIEWER)
    assert_forbidden_page(viewer.get(page), reason="can see this page")


def test_a_member_who_does_not_publish_may_not_publish() -> None:
    world = county_shares_housing_benefit()
    dpo = client_for(world.county, Role.DPO)
    assert_forbidden_page(dpo.get("/releases/new/"))
    response = dpo.post(
        "/releases/new/",
        {"outlet": outlet_key(world), "label": "Sneaky", "upload": upload(hb_csv())},
    )
    assert_forbidden_page(response)
    assert not Release.objects.exists()
    # The releases page shows the schedule but no button.
    page = text_of(dpo.get("/releases/"))
    assert "Housing benefit" in page
    assert 'id="publish"' not in page


def test_an_organisation_that_provides_nothing_cannot_publish() -> None:
    world = county_shares_housing_benefit()
    analyst = client_for(world.district, Role.ANALYST)
    assert_forbidden_page(analyst.get("/releases/new/"), reason="nothing it can publish")
    assert 'id="publish"' not in text_of(analyst.get("/releases/"))


# Data shared with you ---------------------------------------------------------------------------


def test_a_district_sees_what_the_county_shares_and_how() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    page = text_of(client_for(world.district, Role.ANALYST).get("/shared/"))
    assert "Kent County Council" in page
    assert f'href="/agreements/{world.agreement.pk}/"' in page
    assert world.agreement.title in page
    assert PURPOSE in page
    assert "Take an extract" in page
    assert f"Only rows for your area: {MAIDSTONE}" in page
    assert CANTERBURY not in page
    assert re.search(r"<code>nino</code></th><td[^>]*>Pseudonymised", page)
    assert re.search(r"<code>postcode</code></th><td[^>]*>Generalised to postcode sector", page)
    assert re.search(r"<code>date_of_birth</code></th><td[^>]*>Generalised to age band", page)
    assert re.search(r"<code>uprn</code></th><td[^>]*>Shared as it is", page)
    grant = Grant.objects.get(recipient=world.district)
    assert grant.review_on is not None
    assert f"reviewed by {grant.review_on:%-d %B %Y}" in page
    assert f'/extracts/new/?source=release%3A{release.pk}"' in page
    assert "Housing benefit, November" in page


def test_an_organisation_without_agreements_is_shown_how_to_get_data() -> None:
    world = county_shares_housing_benefit()
    publish(world)
    page = text_of(client_for(world.stranger, Role.ANALYST).get("/shared/"))
    assert "No agreement in force shares data with your organisation" in page
    assert 'href="/requests/"' in page
    assert "Kent County Council" not in page
    assert "Housing benefit, November" not in page


# Asking for an extract --------------------------------------------------------------------------


def test_requesting_an_extract_of_a_release_builds_it_and_shows_progress() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    url = f"/extracts/new/?source=release:{release.pk}"
    form = text_of(analyst.get(url))
    assert f'value="{PURPOSE}"' in form
    assert 'value="xlsx"' in form
    assert 'value="parquet"' in form
    seq = last_seq()
    response = analyst.post(url, {"purpose": PURPOSE, "format": "xlsx"})
    assert response.status_code == 302, text_of(response)[:3000]
    extract = Extract.objects.get(organisation=world.district)
    assert response.url == f"/extracts/{extract.pk}/"
    assert extract.release == release
    assert extract.format == "xlsx"
    assert events_after(seq, "extract.requested")

    waiting = text_of(analyst.get(response.url))
    assert "Waiting to start" in waiting
    assert "task-progress-" in waiting
    assert "htmx" in waiting
    assert 'id="download"' not in waiting

    assert run_queued_tasks() >= 1
    ready = text_of(analyst.get(response.url))
    assert "Ready to download" in ready
    assert f'href="/extracts/{extract.pk}/download/"' in ready
    assert "Only rows where <code>ltla_cd</code> is E07000110" in ready
    assert "<code>nino</code>" in ready
    assert "Pseudonymised" in ready
    assert "<code>postcode</code> to postcode sector" in ready
    assert 'href="/organisation/copies/"' in ready
    assert "November figures are provisional." in ready

    listing = text_of(analyst.get("/extracts/"))
    assert f'href="/extracts/{extract.pk}/"' in listing
    assert "Kent County Council" in listing
    assert PURPOSE in listing
    assert "Ready to download" in listing


def test_a_source_that_is_not_yours_or_does_not_exist_is_not_found() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    stranger = client_for(world.stranger, Role.ANALYST)
    assert_not_found_page(stranger.get(f"/extracts/new/?source=release:{release.pk}"))
    response = stranger.post(
        f"/extracts/new/?source=release:{release.pk}", {"purpose": PURPOSE, "format": "csv"}
    )
    assert_not_found_page(response)
    assert not Extract.objects.exists()
    analyst = client_for(world.district, Role.ANALYST)
    for ref in (f"release:{UNKNOWN}", f"collection:{UNKNOWN}", "release:nonsense", "", "x:y"):
        assert_not_found_page(analyst.get(f"/extracts/new/?source={ref}"))


def test_the_provider_has_no_agreement_purpose_for_its_own_release() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    page = text_of(
        client_for(world.county, Role.ANALYST).get(f"/extracts/new/?source=release:{release.pk}")
    )
    assert "No agreement in force names a purpose" in page
    assert "<form" not in page.split('id="main-content"')[1]


def test_a_purpose_the_agreement_does_not_name_is_not_accepted() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    response = analyst.post(
        f"/extracts/new/?source=release:{release.pk}",
        {"purpose": "Marketing", "format": "csv"},
    )
    assert response.status_code == 200
    assert "govuk-error-summary" in text_of(response)
    assert not Extract.objects.exists()


def test_after_the_agreement_ends_a_request_is_refused_with_the_reason() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    terminate(world)
    seq = last_seq()
    response = analyst.post(
        f"/extracts/new/?source=release:{release.pk}", {"purpose": PURPOSE, "format": "csv"}
    )
    assert response.status_code == 403
    page = text_of(response)
    assert "govuk-error-summary" in page
    assert "has been terminated, so no data flows under it" in page
    assert not Extract.objects.exists()
    assert any(e.outcome == "deny" for e in events_after(seq, "access.decided"))
    # Nothing is listed as shared any more.
    assert "No agreement in force shares data" in text_of(analyst.get("/shared/"))


def test_a_suspended_agreement_refuses_requests_and_downloads_of_earlier_extracts() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    extract = built(analyst, release)
    suspend(world)

    response = analyst.get(f"/extracts/{extract.pk}/download/")
    assert_forbidden_page(response, reason="is suspended, so no data flows under it")
    extract.refresh_from_db()
    assert extract.downloads == 0

    response = analyst.post(f"/releases/{release.pk}/", {"purpose": PURPOSE, "format": "csv"})
    assert response.status_code == 403
    assert "is suspended" in text_of(response)
    assert Extract.objects.count() == 1


def test_an_extract_suspended_while_queued_is_refused_when_built() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    extract = request_slice(analyst, release)
    suspend(world)
    run_queued_tasks()
    page = text_of(analyst.get(f"/extracts/{extract.pk}/"))
    assert "This extract was refused" in page
    assert "is suspended" in page
    assert 'id="download"' not in page
    assert_forbidden_page(analyst.get(f"/extracts/{extract.pk}/download/"), reason="not ready")


# Downloading ------------------------------------------------------------------------------------


def test_the_download_has_only_granted_fields_pseudonymised_and_only_own_rows() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    analyst = client_for(world.district, Role.ANALYST)
    extract = built(analyst, release)
    seq = last_seq()
    response = analyst.get(f"/extracts/{extract.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="extract-{extract.pk}.zip"'
    frame = read_zip_csv(b"".join(response.streaming_content))
    granted = {f["name"] for f in Grant.objects.get(recipient=world.district).fields}
    assert set(frame.columns) <= granted
    assert frame.height == 2
    assert set(frame["ltla_cd"]) == {MAIDSTONE}
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in frame["nino"])
    assert not set(frame["nino"]) & {"AB123456C", "AB123457C", "QQ123456C", "QQ123457C"}
    assert "CT1 1AA" not in set(frame["postcode"].fill_null(""))
    assert events_after(seq, "extract.downloaded")


def test_another_organisations_extract_is_not_found() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    extract = built(client_for(world.district, Role.ANALYST), release)
    for organisation in (world.other_district, world.county, world.stranger):
        other = client_for(organisation, Role.ANALYST)
        assert_not_found_page(other.get(f"/extracts/{extract.pk}/"))
        assert_not_found_page(other.get(f"/extracts/{extract.pk}/download/"))
        assert extract.name not in text_of(other.get("/extracts/"))
    extract.refresh_from_db()
    assert extract.downloads == 0


# Releases ---------------------------------------------------------------------------------------


def test_a_provider_publishes_a_file_to_every_recipient() -> None:
    world = county_shares_housing_benefit()
    officer = client_for(world.county, Role.DATA_OFFICER)
    releases_page = text_of(officer.get("/releases/"))
    assert 'href="/releases/new/"' in releases_page
    assert "Monthly" in releases_page
    form = text_of(officer.get("/releases/new/"))
    assert outlet_key(world) in form
    response = officer.post(
        "/releases/new/",
        {
            "outlet": outlet_key(world),
            "label": "Week ending 13 November 2026",
            "upload": upload(hb_csv()),
            "caveats": "Provisional",
        },
    )
    assert response.status_code == 302, text_of(response)[:3000]
    release = Release.objects.get()
    assert response.url == f"/releases/{release.pk}/"
    assert release.rows == 3
    assert release.caveats == "Provisional"
    page = text_of(officer.get(response.url))
    assert "Week ending 13 November 2026" in page
    assert "0 of 2 recipients picked up (0%)" in page
    assert page.count("Not yet") >= 2
    assert re.search(r"Maidstone Borough Council</th>\s*<td[^>]*>2</td>", page)
    assert re.search(r"Canterbury City Council</th>\s*<td[^>]*>1</td>", page)

    recipient_page = text_of(client_for(world.district, Role.ANALYST).get("/releases/"))
    assert "Week ending 13 November 2026" in recipient_page
    assert 'govuk-tag--blue">New' in recipient_page


def test_a_release_with_a_bad_row_is_refused_naming_row_and_column() -> None:
    world = county_shares_housing_benefit()
    officer = client_for(world.county, Role.DATA_OFFICER)
    bad = ROWS[2].replace("1990-07-08", "31/31/1990")
    seq = last_seq()
    response = officer.post(
        "/releases/new/",
        {
            "outlet": outlet_key(world),
            "label": "November",
            "upload": upload(hb_csv(*ROWS[:2], bad)),
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "govuk-error-summary" in page
    assert "Row 4, column" in page
    assert "date_of_birth" in page
    assert "nothing was published" in page
    assert not Release.objects.exists()
    assert not events_after(seq, "release.published")


def test_a_release_needs_a_name_and_a_file() -> None:
    world = county_shares_housing_benefit()
    officer = client_for(world.county, Role.DATA_OFFICER)
    response = officer.post("/releases/new/", {"outlet": outlet_key(world), "label": ""})
    page = text_of(response)
    assert "Enter a name for the release" in page
    assert "Choose the file to publish" in page
    response = officer.post(
        "/releases/new/", {"outlet": "nonsense", "label": "x", "upload": upload(hb_csv())}
    )
    assert "govuk-error-summary" in text_of(response)
    assert not Release.objects.exists()


def test_the_provider_sees_the_pickup_after_the_first_download() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    district = person(world.district, Role.ANALYST, first_name="Dana", last_name="Reader")
    analyst = signed_in_client(district, world.district)
    page = text_of(analyst.get(f"/releases/{release.pk}/"))
    assert "2 rows for your organisation" in page
    assert "November figures are provisional." in page
    assert "Download your slice" in page
    assert 'id="recipients"' not in page  # recipients do not see each other
    extract = built(analyst, release)
    assert analyst.get(f"/extracts/{extract.pk}/download/").status_code == 200

    county = client_for(world.county, Role.DATA_OFFICER)
    page = text_of(county.get(f"/releases/{release.pk}/"))
    assert "1 of 2 recipients picked up (50%)" in page
    row = re.search(rf'id="recipient-{world.district.pk}".*?</tr>', page, re.S)
    assert row
    assert "Not yet" not in row.group(0)
    assert timezone.localtime().strftime("%-d %b %Y") in row.group(0)
    other = re.search(rf'id="recipient-{world.other_district.pk}".*?</tr>', page, re.S)
    assert other
    assert "Not yet" in other.group(0)
    assert "1 of 2 picked up" in text_of(county.get("/releases/"))
    assert 'govuk-tag--blue">New' not in text_of(analyst.get("/releases/"))


def test_an_overdue_release_is_tagged() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    county = client_for(world.county, Role.ANALYST)
    assert "Overdue" not in text_of(county.get("/releases/"))
    Release.objects.filter(pk=release.pk).update(
        published_at=timezone.now() - dt.timedelta(days=40)
    )
    assert 'govuk-tag--red">Overdue' in text_of(county.get("/releases/"))


def test_a_release_is_not_found_for_organisations_it_was_not_published_to() -> None:
    world = county_shares_housing_benefit()
    release = publish(world)
    stranger = client_for(world.stranger, Role.ANALYST)
    assert_not_found_page(stranger.get(f"/releases/{release.pk}/"))
    assert_not_found_page(
        stranger.post(f"/releases/{release.pk}/", {"purpose": PURPOSE, "format": "csv"})
    )
    assert release.label not in text_of(stranger.get("/releases/"))
    assert not Extract.objects.exists()
    assert_not_found_page(client_for(world.district, Role.ANALYST).get(f"/releases/{UNKNOWN}/"))

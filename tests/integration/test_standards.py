"""Data standards pages: reading standards and their templates, checking a file (members of an
organisation only; nothing kept; audited), and publishing (platform staff only)."""

from __future__ import annotations

import io
import json

import openpyxl
import polars as pl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accord.audit.models import AuditEvent
from accord.organisations.enums import Role
from accord.standards.models import PublishedStandard
from tests.factories import care_home_csv, standard_descriptor

from .helpers import (
    actions_after,
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    last_seq,
    person,
    signed_in_client,
    texts,
)

SLUG = "care-home-daily-status"
LIST = "/standards/"
PAGE = f"/standards/{SLUG}/"
CHECK = f"/standards/{SLUG}/check/"
PUBLISH = "/standards/publish/"


def download(fmt: str, version: str = "1.0") -> str:
    return f"/standards/{SLUG}/{version}/download.{fmt}"


@pytest.fixture
def member(council) -> Client:
    return signed_in_client(person(council, Role.DATA_OFFICER), council)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", [LIST, PAGE, f"/standards/{SLUG}/1.0/", download("xlsx"), CHECK, PUBLISH]
)
def test_signed_out_people_are_sent_to_sign_in(url) -> None:
    assert_redirects_to_sign_in(Client().get(url), url)


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ANALYST, Role.DATA_OFFICER, Role.DPO])
def test_any_member_reads_the_standards(council, role) -> None:
    client = signed_in_client(person(council, role), council)
    listing = client.get(LIST)
    assert listing.status_code == 200
    assert "Care home daily status" in texts(listing)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Check a file against this standard" in texts(page)
    assert client.get(f"/standards/{SLUG}/1.0/").status_code == 200


def test_unknown_standards_and_versions_are_not_found(member) -> None:
    assert_not_found_page(member.get("/standards/no-such-standard/"))
    assert_not_found_page(member.get(f"/standards/{SLUG}/9.9/"))
    assert_not_found_page(member.get(download("xlsx", "9.9")))
    assert_not_found_page(member.get(download("pdf")))
    assert_not_found_page(member.get("/standards/no-such-standard/check/"))


def test_template_downloads(member) -> None:
    xlsx = member.get(download("xlsx"))
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"] == (f'attachment; filename="{SLUG}-1.0-template.xlsx"')
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames[0] == "Data"
    csv = member.get(download("csv"))
    assert csv.status_code == 200
    assert pl.read_csv(io.BytesIO(csv.content)).height == 1
    schema = member.get(download("json"))
    assert json.loads(schema.content)["name"] == SLUG


def test_checking_a_good_file(member) -> None:
    before = last_seq()
    response = member.post(
        CHECK,
        {"file": SimpleUploadedFile("homes.csv", care_home_csv({})), "result": "page"},
    )
    assert response.status_code == 200
    assert "Your file meets the standard" in texts(response)
    assert actions_after(before) == ["standard.file_checked"]
    event = AuditEvent.objects.get(seq__gt=before)
    assert event.details["rows"] == 1
    assert event.details["errors"] == 0


def test_checking_a_bad_file_names_row_and_column_and_keeps_no_values_in_the_log(
    member,
) -> None:
    before = last_seq()
    content = care_home_csv({}, {"registered_beds": "lots"}, {"postcode": "XX1 1XX"})
    response = member.post(CHECK, {"file": SimpleUploadedFile("homes.csv", content)})
    assert response.status_code == 200
    text = texts(response)
    assert "problems to fix" in text
    assert "lots is not a whole number" in text
    assert "XX1 1XX" in text
    event = AuditEvent.objects.get(seq__gt=before)
    assert event.details["errors"] == 2
    assert "XX1 1XX" not in json.dumps(event.details)


def test_the_problems_as_csv_and_as_a_highlighted_copy(member) -> None:
    content = care_home_csv({}, {"registered_beds": "=1+1"})
    csv = member.post(CHECK, {"file": SimpleUploadedFile("homes.csv", content), "result": "csv"})
    assert csv.status_code == 200
    assert csv["Content-Disposition"] == 'attachment; filename="homes-problems.csv"'
    problems = pl.read_csv(io.BytesIO(csv.content), infer_schema=False)
    assert problems["row"].to_list() == ["3"]
    assert problems["value"].to_list() == ["'=1+1"]  # neutralised, never a formula
    xlsx = member.post(CHECK, {"file": SimpleUploadedFile("homes.csv", content), "result": "xlsx"})
    assert xlsx.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content))["Checked data"]
    flagged = [c for row in sheet.iter_rows() for c in row if c.comment is not None]
    assert len(flagged) == 1
    assert flagged[0].row == 3
    assert flagged[0].value == "'=1+1"


def test_an_unusable_file_gets_a_clear_error_not_a_crash(member) -> None:
    before = last_seq()
    response = member.post(
        CHECK, {"file": SimpleUploadedFile("homes.csv", b"%PDF-1.7\n\x00\x01binary")}
    )
    assert response.status_code == 422
    assert "could not check homes.csv" in texts(response)
    assert actions_after(before) == ["standard.file_checked"]
    assert AuditEvent.objects.get(seq__gt=before).outcome == "failed"


def test_the_wrong_standard_is_refused_plainly(member) -> None:
    response = member.post(
        CHECK, {"file": SimpleUploadedFile("x.csv", b"Home,Shoe size\nOakleigh,9\n")}
    )
    assert response.status_code == 422
    assert "does not look like a Care home daily status file" in texts(response)


def test_no_file_is_a_form_error(member) -> None:
    response = member.post(CHECK, {"result": "page"})
    assert response.status_code == 200
    assert "Choose the file to check" in texts(response)


def test_people_with_no_organisation_cannot_check_files(council) -> None:
    loner = person(None)
    client = signed_in_client(loner)
    assert client.get(LIST).status_code == 200
    assert_forbidden_page(client.get(CHECK))
    response = client.post(CHECK, {"file": SimpleUploadedFile("x.csv", care_home_csv({}))})
    assert_forbidden_page(response)


def _schema_upload(**overrides: object) -> SimpleUploadedFile:
    return SimpleUploadedFile("schema.json", json.dumps(standard_descriptor(**overrides)).encode())


@pytest.mark.parametrize("role", [Role.ORGANISATION_ADMIN, Role.DPO, Role.DATA_OFFICER])
def test_only_platform_staff_publish(council, role) -> None:
    client = signed_in_client(person(council, role), council)
    assert_forbidden_page(client.get(PUBLISH))
    assert_forbidden_page(client.post(PUBLISH, {"schema": _schema_upload()}))
    assert not PublishedStandard.objects.exists()


def test_platform_staff_publish_a_standard_and_then_a_new_version() -> None:
    staff = signed_in_client(person(None, is_staff=True))
    assert staff.get(PUBLISH).status_code == 200
    before = last_seq()
    response = staff.post(PUBLISH, {"schema": _schema_upload()})
    assert response.status_code == 302
    assert response.url == "/standards/test-returns/1.0/?published=1"
    assert actions_after(before) == ["standard.published"]
    assert "Test returns" in texts(staff.get(LIST))
    again = staff.post(PUBLISH, {"schema": _schema_upload()})
    assert "already published" in texts(again)
    older = staff.post(PUBLISH, {"schema": _schema_upload(version="0.9")})
    assert "must be higher" in texts(older)
    newer = staff.post(PUBLISH, {"schema": _schema_upload(version="1.1")})
    assert newer.status_code == 302
    assert "Version 1.1" in texts(staff.get("/standards/test-returns/"))


def test_a_broken_schema_names_every_problem() -> None:
    staff = signed_in_client(person(None, is_staff=True))
    response = staff.post(
        PUBLISH,
        {"schema": _schema_upload(name="Bad Name", fields=[{"name": "x", "type": "colour"}])},
    )
    text = texts(response)
    assert "must be a slug of lower-case letters" in text
    assert "colour&#x27; is not one of string, integer" in text
    not_json = staff.post(PUBLISH, {"schema": SimpleUploadedFile("s.json", b"{nope")})
    assert "not valid JSON" in texts(not_json)
    assert not PublishedStandard.objects.exists()

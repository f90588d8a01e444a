"""The subject access page: a DPO finds one person in their organisation's data, sees who
received it, downloads the report; the search terms never appear in a URL; others refused."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from accord.organisations.enums import Role
from tests.rolled_back import rolled_back
from tests.unit.linkage.world import ANN, LinkWorld
from tests.unit.rights.world import build_rights_world

from .helpers import (
    assert_forbidden_page,
    assert_redirects_to_sign_in,
    person,
    signed_in_client,
    texts,
)

pytestmark = pytest.mark.django_db
PATH = "/organisation/subject-access/"


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker):
    with rolled_back(django_db_blocker):
        yield build_rights_world(extract=False)


def _dpo(world: LinkWorld) -> Client:
    return signed_in_client(person(world.county, Role.DPO), world.county)


def test_the_dpo_finds_a_resident_and_who_received_them(world) -> None:
    client = _dpo(world)
    form = client.get(PATH)
    assert form.status_code == 200
    assert "Find a person's data" in texts(form)
    response = client.post(PATH, {"nhs_number": ANN})
    text = texts(response)
    assert response.status_code == 200
    assert "Found in 2 places" in text
    assert 'id="recipients"' in text
    assert "Maidstone Borough Council" in text
    assert "Linkage" in text
    assert ANN in text  # the person's own data, shown to their controller's DPO


def test_the_report_downloads_as_a_workbook(world) -> None:
    response = _dpo(world).post(PATH, {"nhs_number": ANN, "download": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('subject-access-report.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[:2] == ["About this search", "Who received it"]
    held = [row for sheet in book.worksheets[2:] for row in sheet.iter_rows(values_only=True)]
    assert any(ANN in row for row in held)


def test_a_bad_search_says_what_to_change(world) -> None:
    response = _dpo(world).post(PATH, {"nhs_number": "1234567890"})
    assert response.status_code == 200
    assert "govuk-error-summary" in texts(response)
    assert "check digit" in texts(response)
    response = _dpo(world).post(PATH, {"family_name": "Archer", "date_of_birth": "not a date"})
    assert "Enter the date of birth as a real date" in texts(response)


def test_another_organisation_finds_nothing_of_the_county(world) -> None:
    client = signed_in_client(person(world.stranger, Role.DPO), world.stranger)
    text = texts(client.post(PATH, {"nhs_number": ANN}))
    assert "Not found" in text
    assert ANN not in text.replace(f'value="{ANN}"', "")


def test_only_data_protection_roles_and_signed_in_people(world) -> None:
    analyst = signed_in_client(person(world.county, Role.ANALYST), world.county)
    assert_forbidden_page(analyst.get(PATH))
    assert_forbidden_page(analyst.post(PATH, {"nhs_number": ANN}))
    assert_redirects_to_sign_in(Client().get(PATH), PATH)

"""Correcting and erasing a person from the subject access page, the certificate, and the
recipient's list of erasures and corrections to make (confirming one). Each test builds its
own world: an erasure destroys keys, which no database rollback restores."""

from __future__ import annotations

import pytest
from django.test import Client

from accord.organisations.enums import Role
from accord.rights.models import ChangeKind, SubjectChange, SubjectChangeNotice
from tests.unit.linkage.world import ANN, LinkWorld
from tests.unit.rights.world import build_rights_world

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    person,
    signed_in_client,
    texts,
)

pytestmark = pytest.mark.django_db
CHANGE = "/organisation/subject-access/change/"
NOTICES = "/organisation/erasures-and-corrections/"


@pytest.fixture
def world() -> LinkWorld:
    return build_rights_world(linked=False)


def _dpo(world: LinkWorld) -> Client:
    return signed_in_client(person(world.county, Role.DPO), world.county)


def test_erase_from_the_page_certificate_and_the_recipient_confirms(world) -> None:
    client = _dpo(world)
    found = texts(client.post("/organisation/subject-access/", {"nhs_number": ANN}))
    assert "Correct or erase this person's data" in found
    response = client.post(
        CHANGE, {"nhs_number": ANN, "change": "erase", "reason": "Article 17(1)(a)"}
    )
    assert response.status_code == 302
    change = SubjectChange.objects.get()
    assert change.kind == ChangeKind.ERASURE
    assert response.url == f"/organisation/subject-changes/{change.pk}/"
    page = texts(client.get(response.url))
    assert "Erasure certificate" in page
    assert 'id="rewritten"' in page
    assert "Maidstone Borough Council" in page
    assert "Waiting" in page
    assert ANN not in page
    # Maidstone sees what it must do, and confirms.
    district = signed_in_client(person(world.district, Role.DATA_OFFICER), world.district)
    listed = texts(district.get(NOTICES))
    assert "Erasure" in listed
    notice = SubjectChangeNotice.objects.get()
    assert district.post(NOTICES, {"notice": notice.pk}).status_code == 302
    notice.refresh_from_db()
    assert notice.confirmed_at is not None
    assert "Done" in texts(client.get(response.url))


def test_a_correction_needs_its_field_and_value(world) -> None:
    client = _dpo(world)
    response = client.post(
        CHANGE, {"nhs_number": ANN, "change": "correct", "reason": "Birth certificate"}
    )
    text = texts(response)
    assert response.status_code == 200
    assert "Choose the field to correct" in text
    assert "Enter the right value" in text
    done = client.post(
        CHANGE,
        {
            "nhs_number": ANN,
            "change": "correct",
            "field": "date_of_birth",
            "value": "1941-02-04",
            "reason": "Birth certificate",
        },
    )
    assert done.status_code == 302
    assert SubjectChange.objects.get().fields == ["date_of_birth"]


def test_others_are_refused(world) -> None:
    client = _dpo(world)
    client.post(CHANGE, {"nhs_number": ANN, "change": "erase", "reason": "Article 17"})
    certificate = f"/organisation/subject-changes/{SubjectChange.objects.get().pk}/"
    assert_not_found_page(
        signed_in_client(person(world.district, Role.DPO), world.district).get(certificate)
    )
    analyst = signed_in_client(person(world.county, Role.ANALYST), world.county)
    assert_forbidden_page(analyst.get(certificate))
    assert_forbidden_page(
        analyst.post(CHANGE, {"nhs_number": ANN, "change": "erase", "reason": "x"})
    )
    stranger = signed_in_client(person(world.stranger, Role.DATA_OFFICER), world.stranger)
    notice = SubjectChangeNotice.objects.first()
    assert notice is not None
    assert_not_found_page(stranger.post(NOTICES, {"notice": notice.pk}))
    viewer = signed_in_client(person(world.district, Role.VIEWER), world.district)
    assert_forbidden_page(viewer.post(NOTICES, {"notice": notice.pk}))
    for path in (CHANGE, certificate, NOTICES):
        assert_redirects_to_sign_in(Client().get(path), path)

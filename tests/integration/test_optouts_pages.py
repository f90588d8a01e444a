"""The opt-out pages through the real client: every member sees the national lists and its
own (sizes and dates, never contents); a DPO of the owner uploads a new version, with each bad
row named on the form when the file has any. Signed out goes to sign-in, the wrong role gets
the 403 page, another organisation's list is "page not found"."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accord.audit.actor import Actor
from accord.optouts import actions
from accord.optouts.enums import ListKind
from accord.optouts.models import OptOutList
from accord.organisations.enums import Role
from tests.factories import OrganisationFactory
from tests.unit.linkage.world import nhs

from .helpers import (
    assert_forbidden_page,
    assert_not_found_page,
    assert_redirects_to_sign_in,
    events_after,
    last_seq,
    person,
    signed_in_client,
    texts,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "00000000-0000-4000-8000-000000000000"
ANN, BILL = nhs(11), nhs(22)


@pytest.fixture
def icb():
    return OrganisationFactory(name="NHS Kent and Medway ICB")


@pytest.fixture
def national(icb, tmp_path) -> OptOutList:
    made = actions.create_list(
        by=Actor.system("test"), name="National Data Opt-out", kind=ListKind.NATIONAL, owner=icb
    )
    path = tmp_path / "list.csv"
    path.write_text(f"NHS number\n{ANN}\n{BILL}\n")
    return actions.load_list(by=Actor.system("test"), opt_out_list=made, source=path)


def _client(organisation, *roles: Role):
    return signed_in_client(person(organisation, *roles), organisation)


def _upload(content: bytes, name: str = "list.csv") -> dict[str, object]:
    return {"upload": SimpleUploadedFile(name, content, content_type="text/csv")}


def test_signed_out_people_go_to_sign_in(client, national: OptOutList) -> None:
    for path in (
        "/opt-outs/",
        f"/opt-outs/{national.pk}/",
        f"/opt-outs/{national.pk}/upload/",
    ):
        assert_redirects_to_sign_in(client.get(path), path)


def test_every_member_sees_the_national_list_size_never_its_contents(
    national: OptOutList,
) -> None:
    council = OrganisationFactory(name="Maidstone Borough Council")
    response = _client(council, Role.VIEWER).get("/opt-outs/")
    assert response.status_code == 200
    page = texts(response)
    assert "National Data Opt-out" in page
    assert ">2<" in page  # two people
    assert ANN not in page
    assert BILL not in page
    # Not the list's manager: no link to its page.
    assert f"/opt-outs/{national.pk}/" not in page


def test_the_owners_dpo_sees_the_list_page(icb, national: OptOutList) -> None:
    response = _client(icb, Role.DPO).get(f"/opt-outs/{national.pk}/")
    assert response.status_code == 200
    page = texts(response)
    assert 'id="count">2<' in page
    assert ANN not in page


def test_the_wrong_role_is_forbidden(icb, national: OptOutList) -> None:
    analyst = _client(icb, Role.ANALYST, Role.DATA_OFFICER)
    assert_forbidden_page(analyst.get(f"/opt-outs/{national.pk}/"))
    assert_forbidden_page(analyst.get(f"/opt-outs/{national.pk}/upload/"))
    assert_forbidden_page(
        analyst.post(f"/opt-outs/{national.pk}/upload/", _upload(f"NHS number\n{ANN}\n".encode()))
    )
    national.refresh_from_db()
    assert national.version == 1


def test_another_organisations_list_is_not_found(national: OptOutList) -> None:
    other = _client(OrganisationFactory(name="Other Council"), *Role)
    assert_not_found_page(other.get(f"/opt-outs/{national.pk}/"))
    assert_not_found_page(other.get(f"/opt-outs/{national.pk}/upload/"))
    assert_not_found_page(
        other.post(f"/opt-outs/{national.pk}/upload/", _upload(f"NHS number\n{ANN}\n".encode()))
    )
    assert_not_found_page(other.get(f"/opt-outs/{UNKNOWN}/"))


def test_a_file_with_bad_rows_is_refused_with_each_row_named(icb, national: OptOutList) -> None:
    dpo = _client(icb, Role.DPO)
    response = dpo.post(
        f"/opt-outs/{national.pk}/upload/", _upload(f"NHS number\n{ANN}\n12345\n".encode())
    )
    assert response.status_code == 200
    page = texts(response)
    assert "govuk-error-summary" in page
    assert "1 row(s) are not valid NHS numbers" in page
    assert "Row 3: “12345” is not an NHS number" in page
    assert "Traceback" not in page
    national.refresh_from_db()
    assert national.version == 1
    assert national.count == 2


def test_no_file_is_an_error_on_the_form(icb, national: OptOutList) -> None:
    response = _client(icb, Role.DPO).post(f"/opt-outs/{national.pk}/upload/", {})
    assert response.status_code == 200
    assert "Choose the file with the list" in texts(response)


def test_the_owners_dpo_replaces_the_list(icb, national: OptOutList) -> None:
    old = national.data
    assert old is not None
    seq = last_seq()
    dpo = _client(icb, Role.DPO)
    assert dpo.get(f"/opt-outs/{national.pk}/upload/").status_code == 200
    response = dpo.post(
        f"/opt-outs/{national.pk}/upload/", _upload(f"NHS number\n{ANN}\n".encode())
    )
    assert response.status_code == 302
    assert response.url == f"/opt-outs/{national.pk}/"
    national.refresh_from_db()
    assert national.version == 2
    assert national.count == 1
    old.refresh_from_db()
    assert old.deleted_at is not None
    loaded = events_after(seq, "optouts.list_loaded")
    assert len(loaded) == 1
    assert loaded[0].details["people"] == 1

"""Output pages: the dashboard, Returned to you, the downloads and defining an output. Who may
see each (the owner, contributors, the audience), who may not (another organisation, a viewer,
platform staff, signed out), and that what they see is protected."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from django.test import Client
from openpyxl import load_workbook

from accord.audit.models import AuditEvent
from accord.organisations.enums import Role
from accord.outputs.models import OutputDefinition, OutputQuery
from tests.rolled_back import rolled_back
from tests.unit.outputs.world import MAIDSTONE, OutputWorld, build_output_world

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


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker) -> Iterator[OutputWorld]:
    """Built once, in a transaction rolled back when the module ends."""
    with rolled_back(django_db_blocker):
        yield build_output_world()


def _client(world: OutputWorld, who: str) -> Client:
    organisations = {
        "owner": (world.owner, Role.ANALYST),
        "district": (world.district, Role.DATA_OFFICER),
        "unitary": (world.unitary, Role.DPO),
        "home": (world.home, Role.DATA_OFFICER),
        "icb": (world.icb, Role.CALDICOTT_GUARDIAN),
        "stranger": (world.stranger, Role.ANALYST),
        "viewer": (world.district, Role.VIEWER),
    }
    if who == "staff":
        return signed_in_client(person(None, is_staff=True, device=True))
    organisation, role = organisations[who]
    return signed_in_client(person(organisation, role), organisation)


def _dashboard(world: OutputWorld) -> str:
    return f"/outputs/{world.definition.pk}/"


# --- signed out -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/outputs/", "/returned/", "DASHBOARD", "DASHBOARD" + "download.csv", "NEW"],
)
def test_signed_out_is_sent_to_sign_in(world, client, path) -> None:
    path = path.replace("DASHBOARD", _dashboard(world)).replace(
        "NEW", f"/collections/{world.collection.pk}/outputs/new/"
    )
    assert_redirects_to_sign_in(client.get(path), path)


# --- the dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "district", "unitary", "home", "icb"])
def test_the_owner_contributors_and_audience_see_the_dashboard(world, who) -> None:
    response = _client(world, who).get(_dashboard(world))
    assert response.status_code == 200
    text = texts(response)
    assert "Care home status by area" in text
    assert 'class="accord-chart__svg"' in text  # charts
    assert "as a table</span>" in text  # each with its table
    assert "[c]" in text  # suppressed figures shown with the GSS symbol
    assert "Counts of 1 to 7 people are suppressed" in text
    assert ("Who has looked at it" in text) == (who == "owner")


def test_a_contributor_sees_its_own_area_highlighted_and_benchmarked(world) -> None:
    text = texts(_client(world, "district").get(_dashboard(world)))
    assert "Your area compared" in text
    assert 'id="benchmarks-own"' in text
    assert "South East" in text
    assert "Medway (similar)" not in text  # a unitary is not like a district


@pytest.mark.parametrize("who", ["stranger"])
def test_another_organisation_finds_nothing(world, who) -> None:
    client = _client(world, who)
    assert_not_found_page(client.get(_dashboard(world)))
    assert_not_found_page(client.get(_dashboard(world) + "download.csv"))
    assert "Care home status by area" not in texts(client.get("/returned/"))
    assert not OutputQuery.objects.filter(organisation=world.stranger).exists()


@pytest.mark.parametrize("who", ["viewer", "staff"])
def test_roles_that_do_not_read_data_are_refused(world, who) -> None:
    client = _client(world, who)
    for path in (_dashboard(world), "/returned/", "/outputs/", _dashboard(world) + "download.csv"):
        assert_forbidden_page(client.get(path))


def test_an_unknown_output_is_not_found(world) -> None:
    client = _client(world, "owner")
    assert_not_found_page(client.get(f"/outputs/{UNKNOWN}/"))
    assert_not_found_page(client.get(f"/outputs/{world.definition.pk}/download.pdf"))


def test_a_withdrawn_grant_is_refused_by_the_decision_point(world) -> None:
    from accord.access.models import Grant

    client = _client(world, "icb")
    Grant.objects.filter(recipient=world.icb, dataset=world.definition.dataset).update(
        actions=["link"]
    )
    # It is still listed (a grant exists), but the decision point says no.
    response = client.get(_dashboard(world))
    assert_forbidden_page(response, reason="does not allow you to make aggregate figures")
    assert AuditEvent.objects.filter(action="access.decided", outcome="deny").exists()


# --- Returned to you ----------------------------------------------------------------------------


def test_returned_to_you_lists_the_output_with_the_own_area(world) -> None:
    text = texts(_client(world, "district").get("/returned/"))
    assert "Made from your returns" in text
    assert "Care home status by area: your area compared, latest day" in text
    assert "Maidstone" in text


def test_the_audience_sees_it_as_shared(world) -> None:
    text = texts(_client(world, "icb").get("/returned/"))
    assert "Shared with you" in text


def test_the_owner_lists_it_among_its_outputs(world) -> None:
    text = texts(_client(world, "owner").get("/outputs/"))
    assert "Care home status by area" in text
    assert "Define an output of Care home daily status" in text
    assert "Nothing has been returned to you yet" in texts(
        _client(world, "owner").get("/returned/")
    )


# --- downloads ----------------------------------------------------------------------------------


def test_the_csv_download_carries_the_gss_symbols(world) -> None:
    response = _client(world, "district").get(_dashboard(world) + "download.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows
    assert {"Period", "Area code", "Measure", "Value", "Status", "Note"} <= set(rows[0])
    suppressed = [r for r in rows if r["Status"] == "suppressed"]
    assert suppressed
    assert all(r["Value"] in ("[c]", "[x]") for r in suppressed)
    people = [r for r in rows if r["Measure"] == "Residents newly testing positive"]
    shown = [int(r["Value"]) for r in people if r["Value"] not in ("[c]", "[x]")]
    assert all(v == 0 or (v >= 8 and v % 5 == 0) for v in shown)
    assert any(r["Area code"] == MAIDSTONE for r in rows)
    assert OutputQuery.objects.filter(organisation=world.district, kind="csv").count() == 1


def test_the_xlsx_download_has_the_rules_and_caveats(world) -> None:
    response = _client(world, "owner").get(_dashboard(world) + "download.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames[0] == "Data"
    about = {row[0]: row[1] for row in book[book.sheetnames[1]].iter_rows(values_only=True)}
    assert "Counts of 1 to 7 people are suppressed" in about["disclosure_control"]
    assert about["symbols"].startswith("[c]")


# --- defining an output ---------------------------------------------------------------------


def test_the_owner_defines_an_output(world) -> None:
    client = _client(world, "owner")
    path = f"/collections/{world.collection.pk}/outputs/new/"
    assert client.get(path).status_code == 200
    response = client.post(
        path,
        {"name": "Homes today", "slug": "homes-today", "recipe": "care-home-status",
         "profile": "strict", "audience": [world.icb.pk], "control_organisational": "on"},
    )  # fmt: skip
    definition = OutputDefinition.objects.get(slug="homes-today")
    assert response.status_code == 302
    assert response.url == f"/outputs/{definition.pk}/"
    assert definition.profile == "strict"
    assert definition.control_organisational is True
    assert list(definition.audience.all()) == [world.icb]


def test_defining_shows_specific_errors(world) -> None:
    client = _client(world, "owner")
    path = f"/collections/{world.collection.pk}/outputs/new/"
    response = client.post(path, {"name": "", "slug": "Not A Slug", "recipe": "nope"})
    text = texts(response)
    assert response.status_code == 200
    assert "Enter a name for the output" in text
    assert "Use only lower-case letters, numbers and hyphens" in text
    response = client.post(
        path, {"name": "Again", "slug": world.definition.slug, "recipe": "care-home-status",
               "profile": "standard"},
    )  # fmt: skip
    assert "There is already an output called" in texts(response)


@pytest.mark.parametrize(("who", "status"), [("district", 404), ("viewer", 403), ("staff", 403)])
def test_only_the_owner_may_define_outputs(world, who, status) -> None:
    response = _client(world, who).get(f"/collections/{world.collection.pk}/outputs/new/")
    if status == 404:
        assert_not_found_page(response)
    else:
        assert_forbidden_page(response)

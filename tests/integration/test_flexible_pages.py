"""The flexible table page: the county's housing benefit collection counted by the county, and
by a district under the agreement (its own area, the agreement's purposes); refused to others."""

from __future__ import annotations

import pytest

from accord.organisations.enums import Role
from tests.rolled_back import rolled_back

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
MAIDSTONE = "E07000110"


@pytest.fixture(scope="module")
def hb(django_db_setup: None, django_db_blocker):
    """The county's housing benefit collection, shared with a district under an agreement."""
    from tests.unit.access.sharing import county_shares_housing_benefit
    from tests.unit.outputs.test_flexible import hb_collection

    with rolled_back(django_db_blocker):
        hb_world = county_shares_housing_benefit()
        yield hb_world, hb_collection(hb_world)


def _table_path(collection, query: str = "") -> str:
    return f"/collections/{collection.pk}/table/{query}"


def test_the_owner_makes_a_two_way_table(hb) -> None:
    hb_world, collection = hb
    client = signed_in_client(person(hb_world.county, Role.ANALYST), hb_world.county)
    form = client.get(_table_path(collection))
    assert form.status_code == 200
    assert "Count people by" in texts(form)
    from accord.outputs.flexible import OWN_PURPOSE

    response = client.get(
        _table_path(collection), {"by": ["ltla_cd", "tenure"], "purpose": OWN_PURPOSE}
    )
    text = texts(response)
    assert response.status_code == 200
    assert 'id="flexible-table"' in text
    assert "District down, Tenure across" in text
    assert 'data-status="perturbed"' in text


def test_a_district_makes_a_table_of_its_own_area_for_the_agreements_purpose(hb) -> None:
    hb_world, collection = hb
    client = signed_in_client(person(hb_world.district, Role.ANALYST), hb_world.district)
    from tests.unit.access.sharing import PURPOSE

    response = client.get(_table_path(collection), {"by": ["ltla_cd"], "purpose": PURPOSE})
    text = texts(response)
    assert response.status_code == 200
    assert MAIDSTONE in text
    assert "E07000106" not in text  # Canterbury's rows are not the district's


def test_flexible_table_errors_are_specific(hb) -> None:
    hb_world, collection = hb
    client = signed_in_client(person(hb_world.county, Role.ANALYST), hb_world.county)
    from accord.outputs.flexible import OWN_PURPOSE

    response = client.get(
        _table_path(collection),
        {"by": ["ltla_cd", "tenure", "claim_status"], "purpose": OWN_PURPOSE},
    )
    assert "Choose at most 2 ways to break the table down" in texts(response)
    response = client.get(_table_path(collection), {"by": ["nino"], "purpose": OWN_PURPOSE})
    assert "Select a valid choice" in texts(response) or "not one of" in texts(response)


def test_flexible_tables_are_refused_to_others(hb, client) -> None:
    hb_world, collection = hb
    path = _table_path(collection)
    assert_redirects_to_sign_in(client.get(path), path)
    stranger = signed_in_client(person(hb_world.stranger, Role.ANALYST), hb_world.stranger)
    assert_not_found_page(stranger.get(path))
    viewer = signed_in_client(person(hb_world.district, Role.VIEWER), hb_world.district)
    assert_forbidden_page(viewer.get(path))
    # A collection of organisational data has nothing to tabulate.
    assert_not_found_page(stranger.get(f"/collections/{UNKNOWN}/table/"))


def test_a_purpose_outside_the_agreement_is_refused_by_the_decision_point(hb) -> None:
    hb_world, collection = hb
    client = signed_in_client(person(hb_world.district, Role.ANALYST), hb_world.district)
    response = client.get(_table_path(collection), {"by": ["ltla_cd"], "purpose": "Marketing"})
    assert response.status_code == 200  # not one of the form's choices: the form says so
    assert "Select a valid choice" in texts(response)

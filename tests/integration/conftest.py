"""Integration tests: every page through Django's test client, against the real database."""

from __future__ import annotations

import pytest

from accord.organisations.enums import Sector
from accord.organisations.models import Organisation
from tests.factories import OrganisationFactory


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration" in str(item.path):
            item.add_marker(pytest.mark.django_db)


@pytest.fixture
def council() -> Organisation:
    """The organisation whose pages are under test."""
    return OrganisationFactory(name="Maidstone Borough Council", gss_code="E07000110")


@pytest.fixture
def other_council() -> Organisation:
    """Another organisation: its people must never reach the first one's records."""
    return OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )

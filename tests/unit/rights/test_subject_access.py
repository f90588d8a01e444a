"""Subject access: a DPO finds one person across everything their organisation holds in Accord,
and every organisation that received their data; each object read is an audited decision, and
the search is recorded without the person's identifiers."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from accord.audit.exceptions import NotPermitted
from accord.audit.models import AuditEvent
from accord.demo.vulnerability_setup import PURPOSE
from accord.organisations.enums import Role
from accord.rights.actions import find_person
from accord.rights.search import BadQuery, PersonQuery, person_mask
from tests.factories import member_actor
from tests.unit.linkage.world import ANN, DAN, LinkWorld
from tests.unit.rights.world import build_rights_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> LinkWorld:
    return build_rights_world()


def _dpo(world: LinkWorld):
    return member_actor(world.county, Role.DPO)


def test_the_county_finds_a_resident_by_nhs_number_and_who_received_them(world) -> None:
    report = find_person(
        by=_dpo(world), query=PersonQuery(nhs_number=f"{ANN[:3]} {ANN[3:6]} {ANN[6:]}")
    )
    assert report.found
    whats = [h.what for h in report.holdings]
    assert any(w.startswith("Accepted rows of the return") for w in whats)
    assert any(w.startswith("Compiled collection") for w in whats)
    for holding in report.holdings:
        assert set(holding.rows["nhs_number"]) == {ANN}
    received = {(r.organisation, r.how) for r in report.recipients}
    assert ("Maidstone Borough Council", "Extract") in received
    assert ("Maidstone Borough Council", "Linkage") in received
    extract = next(r for r in report.recipients if r.how == "Extract")
    assert extract.purpose == PURPOSE
    assert extract.agreement == world.social_care_agreement.title


def test_a_resident_outside_the_recipients_area_was_not_sent(world) -> None:
    from tests.unit.linkage.world import EVE  # a Canterbury resident

    report = find_person(by=_dpo(world), query=PersonQuery(nhs_number=EVE))
    assert report.found
    assert report.recipients == []  # Maidstone's extract and linkage held only its own rows


def test_by_name_date_of_birth_and_postcode(world) -> None:
    report = find_person(
        by=member_actor(world.icb, Role.DPO),
        query=PersonQuery(
            family_name="dawson", date_of_birth=dt.date(1952, 8, 9), postcode="me174dd"
        ),
    )
    assert report.found
    assert {r for h in report.holdings for r in h.rows["nhs_number"]} == {DAN}


def test_the_district_finds_its_own_linked_records(world) -> None:
    report = find_person(
        by=member_actor(world.district, Role.DPO), query=PersonQuery(uprn="990000000001")
    )
    assert any(h.what.startswith("Linkage job") for h in report.holdings)
    assert any(h.what.startswith("Accepted rows") for h in report.holdings)  # its council tax


def test_nobody_is_found_where_the_organisation_holds_nothing(world) -> None:
    report = find_person(
        by=member_actor(world.stranger, Role.DPO), query=PersonQuery(nhs_number=ANN)
    )
    assert not report.found
    assert report.searched == 0


def test_the_search_is_audited_without_the_identifier(world) -> None:
    before = AuditEvent.objects.count()
    find_person(by=_dpo(world), query=PersonQuery(nhs_number=ANN))
    event = AuditEvent.objects.get(action="rights.subject_searched")
    assert event.details["method"] == "NHS number"
    assert event.details["objects_with_the_person"] >= 2
    new = AuditEvent.objects.filter(seq__gt=before)
    assert new.filter(action="access.decided").count() >= event.details["objects_read"]
    for logged in new:
        assert ANN not in str(logged.details)


def test_bad_searches_say_what_to_change(world) -> None:
    with pytest.raises(BadQuery, match="check digit"):
        find_person(by=_dpo(world), query=PersonQuery(nhs_number="1234567890"))
    with pytest.raises(BadQuery, match="date of birth and postcode"):
        find_person(by=_dpo(world), query=PersonQuery(family_name="Archer"))


def test_only_data_protection_roles_search(world) -> None:
    with pytest.raises(NotPermitted):
        find_person(by=world.analyst, query=PersonQuery(nhs_number=ANN))


def test_an_nhs_number_matches_however_it_is_spaced() -> None:
    frame = pl.DataFrame(
        {"nhs_number": ["943 476 5919", "943-476-5919", "9434765919", "9434765918", None]}
    )
    wanted = PersonQuery(nhs_number="943 476 5919").normalised()
    mask = person_mask("adult-social-care-services", frame.columns, wanted)
    assert mask is not None
    assert frame.select(mask).to_series().to_list() == [True, True, True, False, False]

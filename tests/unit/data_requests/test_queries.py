"""Reads of data requests: who sees which request, and what may already answer a question
(published standards, agreements in force using the same standard, similar requests, but only
ones the asking organisation can see)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from accord.agreements import actions as agreement_actions
from accord.data_requests import actions, queries
from accord.data_requests.models import DataRequest
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Organisation
from accord.standards.queries import get_standard
from tests.factories import (
    OrganisationFactory,
    active_care_home_agreement,
    combined_authority,
    member_actor,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 2)


member = member_actor


@pytest.fixture
def gmca() -> Organisation:
    return combined_authority()


@pytest.fixture
def kent() -> Organisation:
    return OrganisationFactory(
        name="Kent County Council", sector=Sector.COUNTY_COUNCIL, gss_code="E10000016"
    )


@pytest.fixture
def camden() -> Organisation:
    return OrganisationFactory(
        name="London Borough of Camden", sector=Sector.LONDON_BOROUGH, gss_code="E09000007"
    )


def ask(requester: Organisation, holders: list[Organisation], **changes) -> DataRequest:
    fields = {
        "title": "Care home beds",
        "question": "How many free beds does each care home have?",
        "reason": "Hospital discharge planning.",
        "frequency": "daily",
        "standards": [],
        "data_description": "Free beds per home",
        "today": TODAY,
        **changes,
    }
    return actions.post(by=member(requester, Role.ANALYST), holders=holders, **fields)


# --- who sees which request -------------------------------------------------------------------


def test_a_request_is_seen_by_its_requester_and_holders_only(gmca, kent, camden) -> None:
    found = ask(gmca, [kent])
    other = ask(camden, [kent], title="Another")
    assert list(queries.requests_for(gmca.pk)) == [found]
    assert list(queries.requests_for(kent.pk)) == [other, found]  # newest first
    assert list(queries.requests_for(camden.pk)) == [other]
    assert queries.request_for(gmca.pk, found.pk) == found
    assert queries.request_for(str(kent.pk), str(found.pk)) == found
    with pytest.raises(Http404):
        queries.request_for(camden.pk, found.pk)
    with pytest.raises(Http404):
        queries.request_for(gmca.pk, "00000000-0000-4000-8000-000000000000")


def test_a_request_to_two_holders_is_listed_once(gmca, kent, camden) -> None:
    found = ask(gmca, [kent, camden])
    assert list(queries.requests_for(gmca.pk)) == [found]
    assert list(queries.requests_for(kent.pk)) == [found]


# --- words and similarity ---------------------------------------------------------------------


def test_words_drop_stopwords_and_case() -> None:
    assert queries.words("How many FREE beds does each care home have?") == {
        "free",
        "beds",
        "care",
        "home",
    }
    assert queries.words("") == frozenset()


def test_similarity_is_jaccard_and_zero_when_empty() -> None:
    a, b = frozenset({"care", "home", "beds"}), frozenset({"care", "home", "staff"})
    assert queries.similarity(a, b) == pytest.approx(2 / 4)
    assert queries.similarity(a, a) == 1.0
    assert queries.similarity(a, frozenset()) == 0.0
    assert queries.similarity(frozenset(), frozenset()) == 0.0


# --- what may already answer it ---------------------------------------------------------------


def test_a_chosen_standard_is_suggested(gmca) -> None:
    standard = get_standard("care-home-daily-status")
    found = queries.may_already_answer("zebra crossings", ["care-home-daily-status"], gmca.pk)
    assert [(s.kind, s.title, s.link) for s in found] == [
        ("standard", standard.title, "/standards/care-home-daily-status/")
    ]


def test_a_standard_about_the_question_is_suggested(gmca) -> None:
    standard = get_standard("shielded-patient-list")
    found = queries.may_already_answer(f"{standard.title} {standard.description}", [], gmca.pk)
    assert ("standard", standard.title) in [(s.kind, s.title) for s in found]
    assert queries.may_already_answer("zebra crossings lollipop", [], gmca.pk) == []


def test_an_agreement_in_force_using_the_standard_is_suggested(gmca, kent, camden) -> None:
    agreement = active_care_home_agreement(kent, gmca, TODAY)
    found = queries.may_already_answer("zebra crossings", ["care-home-daily-status"], camden.pk)
    agreements = [s for s in found if s.kind == "agreement"]
    assert [s.title for s in agreements] == ["Residential settings status sharing"]
    assert "Greater Manchester Combined Authority, Kent County Council" in agreements[0].detail
    assert agreements[0].link.startswith("/register/?q=Residential")
    # Not for another standard, nor once it is no longer in force.
    assert not [
        s
        for s in queries.may_already_answer("zebra", ["revenue-outturn"], camden.pk)
        if s.kind == "agreement"
    ]
    agreement_actions.suspend(by=member(kent, Role.DPO), agreement=agreement, reason="Paused")
    assert not [
        s
        for s in queries.may_already_answer("zebra", ["care-home-daily-status"], camden.pk)
        if s.kind == "agreement"
    ]


def test_an_agreement_in_force_with_a_similar_title_is_suggested(gmca, kent, camden) -> None:
    active_care_home_agreement(kent, gmca, TODAY)
    found = queries.may_already_answer("residential settings status", [], camden.pk)
    assert "agreement" in [s.kind for s in found]


def test_similar_requests_only_the_organisation_can_see(gmca, kent, camden) -> None:
    mine = ask(gmca, [kent])
    text = "How many free beds does each care home have? Care home beds"
    seen_by_kent = [s for s in queries.may_already_answer(text, [], kent.pk) if s.kind == "request"]
    assert [(s.title, s.link) for s in seen_by_kent] == [
        ("Care home beds", f"/requests/{mine.pk}/")
    ]
    assert "Greater Manchester Combined Authority (open)" in seen_by_kent[0].detail
    # Camden asks the same question but never learns of GMCA's request to Kent.
    assert not [s for s in queries.may_already_answer(text, [], camden.pk) if s.kind == "request"]
    # A dissimilar question finds nothing.
    assert not [
        s
        for s in queries.may_already_answer("zebra crossings lollipop", [], kent.pk)
        if s.kind == "request"
    ]


def test_a_request_for_the_same_standard_is_similar(gmca, kent) -> None:
    ask(gmca, [kent], title="Something", standards=["revenue-outturn"], data_description="")
    found = queries.may_already_answer("zebra crossings", ["revenue-outturn"], kent.pk)
    assert [s.title for s in found if s.kind == "request"] == ["Something"]


def test_a_question_naming_a_standard_finds_it_however_long_its_description(gmca) -> None:
    found = queries.may_already_answer(
        "We need care home daily status for our dashboard", [], gmca.pk
    )
    assert any(s.kind == "standard" and s.title == "Care home daily status" for s in found)

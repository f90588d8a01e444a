"""The outcomes pages through the real client: a recipient sees what it owes (with Overdue
tags) and reports through the form (with its error summary); the provider sees each report
beside the agreement and the data it gave. Signed out goes to sign-in, the wrong role gets the
403 page, another organisation gets "page not found" (or nothing listed), and an agreement not
in force refuses the report with its reason."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.audit.enums import Outcome
from accord.demo.sharing import signer_for
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role
from accord.outcomes import actions
from accord.outcomes.models import OutcomeReport
from tests.unit.outcomes.world import WHAT, World, kent_shares

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

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=40)
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def world() -> World:
    return kent_shares(start=START)


def _client(organisation, *roles: Role):
    return signed_in_client(person(organisation, *roles), organisation)


def _form_path(world: World, index: int = 0) -> str:
    return f"/outcomes/report/{world.agreement.pk}/{index}/"


def _form(**changes: str) -> dict[str, str]:
    return {
        "period_start": f"{START.day}/{START.month}/{START.year}",
        "period_end": f"{TODAY.day}/{TODAY.month}/{TODAY.year}",
        "measure_0": "Residents contacted",
        "value_0": "412",
        "note_0": "By letter and phone",
        "measure_1": "Residents referred for food support",
        "value_1": "38",
        "narrative": "We contacted every household on the list.",
        **changes,
    }


def _report(world: World) -> OutcomeReport:
    return actions.report_outcomes(
        by=world.analyst(),
        agreement=world.agreement,
        commitment_index=0,
        period=(START, TODAY),
        figures=[
            {"measure": "Residents contacted", "value": 412},
            {"measure": "Residents referred for food support", "value": 38},
        ],
        narrative="Matrix narrative of what happened.",
    )


# What a recipient owes ------------------------------------------------------------------------


def test_a_recipient_sees_what_it_owes_with_an_overdue_tag(world) -> None:
    response = _client(world.district, Role.ANALYST).get("/outcomes/")
    assert response.status_code == 200
    page = texts(response)
    assert WHAT in page
    assert "Kent County Council" in page
    assert 'govuk-tag govuk-tag--red">Overdue' in page
    assert "1 report overdue" in page
    assert _form_path(world) in page
    assert 'aria-current="page">Outcomes' in page  # the navigation link


def test_the_provider_and_others_owe_nothing(world) -> None:
    for organisation in (world.county, world.stranger):
        page = texts(_client(organisation, Role.ANALYST).get("/outcomes/"))
        assert "owes no outcome reports" in page
        assert WHAT not in page


def test_a_member_who_may_read_but_not_report_sees_no_report_link(world) -> None:
    page = texts(_client(world.district, Role.SIRO).get("/outcomes/"))
    assert WHAT in page
    assert _form_path(world) not in page


@pytest.mark.parametrize("path", ["/outcomes/", "/outcomes/received/"])
def test_the_lists_need_sign_in_and_a_reading_role(world, path: str) -> None:
    client = _client(world.district, Role.ANALYST)
    client.logout()
    assert_redirects_to_sign_in(client.get(path), path)
    assert_forbidden_page(_client(world.district, Role.VIEWER).get(path))


# Reporting ------------------------------------------------------------------------------------


def test_the_form_proposes_the_purposes_measures_and_the_period(world) -> None:
    response = _client(world.district, Role.DATA_OFFICER).get(_form_path(world))
    assert response.status_code == 200
    page = texts(response)
    assert 'value="Residents contacted"' in page
    assert 'value="Residents referred for food support"' in page
    assert f'value="{START.day}/{START.month}/{START.year}"' in page
    assert "Overdue" in page


def test_a_recipient_reports_and_the_provider_is_told(world) -> None:
    seq = last_seq()
    response = _client(world.district, Role.ANALYST).post(_form_path(world), _form())
    report = OutcomeReport.objects.get()
    assert response.status_code == 302
    assert response.url == f"/outcomes/{report.pk}/"
    assert report.figures == [
        {"measure": "Residents contacted", "value": 412, "note": "By letter and phone"},
        {"measure": "Residents referred for food support", "value": 38, "note": ""},
    ]
    assert [e.action for e in events_after(seq, "outcome.reported")] == ["outcome.reported"]
    assert Notification.objects.filter(
        organisation=world.county, topic=Topic.OUTCOMES_REPORTED
    ).exists()


def test_a_negative_figure_is_shown_in_the_error_summary(world) -> None:
    response = _client(world.district, Role.ANALYST).post(_form_path(world), _form(value_0="-4"))
    assert response.status_code == 200
    page = texts(response)
    assert "govuk-error-summary" in page
    assert "a figure cannot be negative" in page
    assert not OutcomeReport.objects.exists()


def test_an_empty_report_is_refused_with_the_reason(world) -> None:
    empty = _form(measure_0="", value_0="", note_0="", measure_1="", value_1="", narrative="")
    # Clear the proposed measures too.
    page = texts(_client(world.district, Role.ANALYST).post(_form_path(world), empty))
    assert "govuk-error-summary" in page
    assert "The report is empty" in page
    assert not OutcomeReport.objects.exists()


def test_missing_dates_are_shown_in_the_error_summary(world) -> None:
    page = texts(
        _client(world.district, Role.ANALYST).post(_form_path(world), _form(period_start=""))
    )
    assert "govuk-error-summary" in page
    assert "Enter the first day of the period" in page


def test_the_form_needs_sign_in(world) -> None:
    client = _client(world.district, Role.ANALYST)
    client.logout()
    assert_redirects_to_sign_in(client.get(_form_path(world)), _form_path(world))


@pytest.mark.parametrize("role", [Role.VIEWER, Role.SIRO])
def test_the_wrong_role_is_forbidden(world, role: Role) -> None:
    client = _client(world.district, role)
    assert_forbidden_page(client.get(_form_path(world)))
    assert_forbidden_page(client.post(_form_path(world), _form()))
    assert not OutcomeReport.objects.exists()


def test_another_organisation_finds_no_such_page(world) -> None:
    for organisation in (world.stranger, world.county):
        client = _client(organisation, Role.ANALYST)
        assert_not_found_page(client.get(_form_path(world)))
        assert_not_found_page(client.post(_form_path(world), _form()))
    client = _client(world.district, Role.ANALYST)
    assert_not_found_page(client.get(_form_path(world, index=7)))
    assert_not_found_page(client.get(f"/outcomes/report/{UNKNOWN}/0/"))
    assert not OutcomeReport.objects.exists()


@pytest.mark.parametrize("step", ["suspend", "terminate"])
def test_an_agreement_not_in_force_refuses_the_report(world, step: str) -> None:
    getattr(agreement_actions, step)(
        by=signer_for(world.county), agreement=world.agreement, reason="The scheme has closed"
    )
    client = _client(world.district, Role.ANALYST)
    assert "is not in force" in texts(client.get(_form_path(world)))
    seq = last_seq()
    page = texts(client.post(_form_path(world), _form()))
    assert "govuk-error-summary" in page
    assert "is not in force, so outcomes cannot be reported" in page
    assert not OutcomeReport.objects.exists()
    (event,) = events_after(seq, "outcome.reported")
    assert event.outcome == Outcome.REFUSED
    # And it no longer shows as owed.
    assert WHAT not in texts(client.get("/outcomes/"))


def test_an_expired_agreement_refuses_the_report(world) -> None:
    world.agreement.status = "expired"
    world.agreement.save(update_fields=["status"])
    page = texts(_client(world.district, Role.ANALYST).post(_form_path(world), _form()))
    assert "is not in force" in page
    assert not OutcomeReport.objects.exists()


# What a provider sees -------------------------------------------------------------------------


def test_the_provider_sees_the_report_beside_the_data_it_gave(world) -> None:
    report = _report(world)
    client = _client(world.county, Role.DPO)
    page = texts(client.get("/outcomes/received/"))
    assert "Maidstone Borough Council: " + WHAT in page
    assert "412" in page
    assert "38" in page
    assert world.agreement.title in page
    assert "The data you gave" in page
    assert "0 releases published to them" in page
    assert "Canterbury City Council" in page  # still owes its report
    detail = texts(client.get(f"/outcomes/{report.pk}/"))
    assert "Matrix narrative of what happened." in detail
    assert "The data you gave" in detail
    # The recipient's own page links to its report.
    assert f"/outcomes/{report.pk}/" in texts(
        _client(world.district, Role.ANALYST).get("/outcomes/")
    )


def test_a_report_is_not_shown_to_others(world) -> None:
    report = _report(world)
    for organisation in (world.other_district, world.stranger):
        client = _client(organisation, Role.DPO)
        assert_not_found_page(client.get(f"/outcomes/{report.pk}/"))
        assert "Matrix narrative" not in texts(client.get("/outcomes/received/"))
    assert_not_found_page(_client(world.county, Role.DPO).get(f"/outcomes/{UNKNOWN}/"))
    assert_forbidden_page(_client(world.county, Role.VIEWER).get(f"/outcomes/{report.pk}/"))
    client = _client(world.county, Role.DPO)
    client.logout()
    path = f"/outcomes/{report.pk}/"
    assert_redirects_to_sign_in(client.get(path), path)

"""Reporting outcomes: who may, every refusal (each audited), the audit event and the notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.labels import ACTION_LABELS
from accord.audit.models import AuditEvent
from accord.demo.sharing import signer_for
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role
from accord.outcomes import actions
from accord.outcomes.models import OutcomeReport

from .world import WHAT, kent_shares

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START = TODAY - dt.timedelta(days=40)
FIGURES = [
    {"measure": "Residents contacted", "value": 412, "note": "By letter"},
    {"measure": "Residents referred for food support", "value": "38"},
    {"measure": "", "value": None, "note": ""},  # an empty row is left out
]


@pytest.fixture
def world():
    return kent_shares(start=START)


def _report(world, by=None, **changes):
    kwargs = {
        "by": by or world.analyst(),
        "agreement": world.agreement,
        "commitment_index": 0,
        "period": (START, TODAY),
        "figures": FIGURES,
        "narrative": "We contacted every household on the list.",
        **changes,
    }
    return actions.report_outcomes(**kwargs)


def _refusals() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="outcome.reported", outcome=Outcome.REFUSED))


@pytest.mark.parametrize("role", sorted(actions.REPORTING_ROLES))
def test_a_recipient_member_with_a_reporting_role_reports(world, role: Role) -> None:
    report = _report(world, by=world.analyst(world.district, role))
    assert report.organisation == world.district
    assert report.commitment == WHAT
    assert report.figures == [
        {"measure": "Residents contacted", "value": 412, "note": "By letter"},
        {"measure": "Residents referred for food support", "value": 38, "note": ""},
    ]
    assert list(report.reported_to.all()) == [world.county]
    assert (report.period_start, report.period_end) == (START, TODAY)
    assert report.due_on < TODAY  # the first due date, a month after the start


def test_reporting_is_audited_and_the_provider_told(world) -> None:
    report = _report(world)
    event = AuditEvent.objects.get(action="outcome.reported", outcome=Outcome.SUCCESS)
    assert event.target == f"outcome_report:{report.pk}"
    assert event.details["commitment"] == {"index": 0, "what": WHAT}
    assert event.details["figures"] == 2
    assert event.details["reported_to"] == [{"id": str(world.county.pk), "name": world.county.name}]
    notice = Notification.objects.get(topic=Topic.OUTCOMES_REPORTED)
    assert notice.organisation == world.county
    assert "Maidstone Borough Council" in notice.subject
    assert "Residents contacted: 412" in notice.body
    assert notice.link == f"/outcomes/{report.pk}/"
    assert not Notification.objects.filter(
        organisation=world.district, topic=Topic.OUTCOMES_REPORTED
    ).exists()
    assert "outcome.reported" in ACTION_LABELS
    assert "outcome.reminded" in ACTION_LABELS


def test_figures_only_or_narrative_only_will_do(world) -> None:
    assert _report(world, narrative="").narrative == ""
    assert _report(world, figures=[]).figures == []


def _refused(world, exception: type[Refused], message: str, **changes) -> None:
    with pytest.raises(exception, match=message):
        _report(world, **changes)
    assert not OutcomeReport.objects.exists()
    assert not Notification.objects.filter(topic=Topic.OUTCOMES_REPORTED).exists()
    (event,) = _refusals()
    assert message.replace("\\", "") in event.reason or event.reason


@pytest.mark.parametrize("role", [Role.VIEWER, Role.ORGANISATION_ADMIN, Role.SIRO])
def test_a_member_without_a_reporting_role_is_not_permitted(world, role: Role) -> None:
    _refused(world, NotPermitted, "Only an analyst", by=world.analyst(world.district, role))


def test_the_provider_is_not_permitted_it_owes_nothing(world) -> None:
    _refused(world, NotPermitted, "owes no such report", by=world.analyst(world.county))


def test_another_organisation_is_not_permitted(world) -> None:
    _refused(world, NotPermitted, "owes no such report", by=world.analyst(world.stranger))


def test_a_commitment_that_does_not_exist_is_not_permitted(world) -> None:
    _refused(world, NotPermitted, "owes no such report", commitment_index=5)


@pytest.mark.parametrize("step", ["suspend", "terminate"])
def test_an_agreement_not_in_force_is_refused(world, step: str) -> None:
    getattr(agreement_actions, step)(
        by=signer_for(world.county), agreement=world.agreement, reason="The scheme has closed"
    )
    world.agreement.refresh_from_db()
    _refused(world, Refused, "is not in force")


def test_an_expired_agreement_is_refused(world) -> None:
    world.agreement.status = "expired"
    world.agreement.save(update_fields=["status"])
    _refused(world, Refused, "is not in force")


def test_an_agreement_past_its_end_date_is_refused() -> None:
    world = kent_shares(start=START, end=TODAY + dt.timedelta(days=400))
    with pytest.raises(Refused, match="ended on"):
        _report(world, today=TODAY + dt.timedelta(days=401), period=(START, TODAY))


def test_negative_numbers_are_refused(world) -> None:
    _refused(
        world,
        Refused,
        "cannot be a negative number",
        figures=[{"measure": "Residents contacted", "value": -3}],
    )


def test_a_figure_that_is_not_a_whole_number_is_refused(world) -> None:
    _refused(
        world, Refused, "as a whole number", figures=[{"measure": "Residents", "value": "lots"}]
    )


def test_a_figure_without_a_measure_is_refused(world) -> None:
    _refused(world, Refused, "Say what figure 1 counts", figures=[{"measure": "", "value": 4}])


def test_a_measure_without_a_figure_is_refused(world) -> None:
    _refused(world, Refused, "Enter how many", figures=[{"measure": "Residents", "value": ""}])


def test_a_repeated_measure_is_refused(world) -> None:
    _refused(
        world,
        Refused,
        "combine the repeated ones",
        figures=[{"measure": "Residents", "value": 1}, {"measure": "residents", "value": 2}],
    )


def test_an_empty_report_is_refused(world) -> None:
    _refused(world, Refused, "The report is empty", figures=FIGURES[2:], narrative="  ")


def test_a_period_back_to_front_or_in_the_future_is_refused(world) -> None:
    _refused(world, Refused, "on or before its last day", period=(TODAY, START))
    with pytest.raises(Refused, match="cannot end in the future"):
        _report(world, period=(START, TODAY + dt.timedelta(days=1)))


def test_once_every_due_date_is_reported_another_report_is_refused() -> None:
    world = kent_shares(start=START, due=((TODAY - dt.timedelta(days=1)).isoformat(),))
    _report(world)
    with pytest.raises(Refused, match="already reported"):
        _report(world)


def test_a_set_up_command_reports_for_a_named_organisation(world) -> None:
    report = _report(world, by=Actor.system("demo"), organisation=world.district)
    assert report.organisation == world.district
    with pytest.raises(Refused, match="Say which organisation"):
        _report(world, by=Actor.system("demo"))

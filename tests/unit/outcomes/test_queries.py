"""Who owes which outcome reports under the agreements in force, and their status."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.agreements import actions as agreement_actions
from accord.demo.sharing import signer_for
from accord.outcomes import actions, queries

from .world import WHAT, kent_shares

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _start(days_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=days_ago)


def test_each_recipient_owes_the_report_to_the_provider() -> None:
    world = kent_shares(start=_start(10))
    (owed,) = queries.commitments_owed_by(world.district)
    assert owed.what == WHAT
    assert owed.owed_to == (world.county,)
    assert owed.agreement == world.agreement
    assert [c.owed_by for c in queries.commitments_owed_by(world.other_district)] == [
        world.other_district
    ]
    # The provider owes nothing; a stranger owes nothing.
    assert queries.commitments_owed_by(world.county) == []
    assert queries.commitments_owed_by(world.stranger) == []
    assert {c.owed_by for c in queries.commitments_owed_to(world.county)} == {
        world.district,
        world.other_district,
    }


def test_with_nobody_named_the_report_is_owed_to_the_flows_provider() -> None:
    world = kent_shares(start=_start(10), to_county=False)
    (owed,) = queries.commitments_owed_by(world.district)
    assert owed.owed_to == (world.county,)


def test_the_first_report_is_due_one_period_after_the_start() -> None:
    start = _start(10)
    world = kent_shares(start=start, due=("P1M",))
    (owed,) = queries.commitments_owed_by(world.district)
    assert owed.next is not None
    assert owed.next.due_on == queries.Period(1, 0).after(start, 1)
    assert owed.status == queries.DUE
    assert owed.overdue == []


def test_passed_due_dates_without_a_report_are_overdue() -> None:
    start = _start(100)
    world = kent_shares(start=start, due=("P1M",))
    (owed,) = queries.commitments_owed_by(world.district)
    # Three months have passed: three overdue, and the next one still to come.
    assert [o.due_on for o in owed.overdue] == [
        queries.Period(1, 0).after(start, n) for n in (1, 2, 3)
    ]
    assert owed.occurrences[-1].status == queries.DUE
    assert owed.status == queries.OVERDUE
    assert owed.next is not None
    assert owed.next.due_on == owed.overdue[0].due_on


def test_a_report_answers_the_earliest_due_date_and_the_rest_stay_overdue() -> None:
    start = _start(100)
    world = kent_shares(start=start, due=("P1M",))
    actions.report_outcomes(
        by=world.analyst(),
        agreement=world.agreement,
        commitment_index=0,
        period=(start, TODAY),
        figures=[{"measure": "Residents contacted", "value": 412}],
    )
    (owed,) = queries.commitments_owed_by(world.district)
    statuses = [o.status for o in owed.occurrences]
    assert statuses == [queries.REPORTED, queries.OVERDUE, queries.OVERDUE, queries.DUE]
    # Canterbury's own reports are still all owed.
    (other,) = queries.commitments_owed_by(world.other_district)
    assert len(other.overdue) == 3


def test_a_one_off_date_is_reported_once_and_then_nothing_is_owed() -> None:
    due = (TODAY - dt.timedelta(days=5)).isoformat()
    world = kent_shares(start=_start(30), due=(due,))
    (owed,) = queries.commitments_owed_by(world.district)
    assert owed.status == queries.OVERDUE
    actions.report_outcomes(
        by=world.analyst(),
        agreement=world.agreement,
        commitment_index=0,
        period=(_start(30), TODAY),
        figures=[],
        narrative="We contacted everyone on the list.",
    )
    (owed,) = queries.commitments_owed_by(world.district)
    assert owed.status == queries.REPORTED
    assert owed.next is None


def test_an_agreement_not_in_force_owes_nothing() -> None:
    world = kent_shares(start=_start(100))
    agreement_actions.suspend(
        by=signer_for(world.county), agreement=world.agreement, reason="A breach is looked at"
    )
    assert queries.commitments_owed_by(world.district) == []
    assert queries.commitments_owed_to(world.county) == []


def test_several_commitments_each_with_their_own_schedule() -> None:
    world = kent_shares(start=_start(40), due=("P1M", "P1Y"))
    first, second = queries.commitments_owed_by(world.district)
    assert (first.index, first.status) == (0, queries.OVERDUE)
    assert (second.index, second.status) == (1, queries.DUE)


def test_measures_are_proposed_from_the_purposes_success_measures() -> None:
    world = kent_shares(start=_start(10))
    assert queries.measures_for(world.agreement) == [
        "Residents contacted",
        "Residents referred for food support",
    ]


def test_reports_are_seen_by_their_maker_and_those_they_were_made_to_only() -> None:
    world = kent_shares(start=_start(40))
    report = actions.report_outcomes(
        by=world.analyst(),
        agreement=world.agreement,
        commitment_index=0,
        period=(_start(40), TODAY),
        figures=[{"measure": "Residents contacted", "value": 412}],
    )
    assert list(queries.reports_by(world.district)) == [report]
    assert list(queries.reports_to(world.county)) == [report]
    assert list(queries.reports_to(world.other_district)) == []
    assert queries.report_for(world.county, report.pk) == report
    for outsider in (world.other_district, world.stranger):
        with pytest.raises(type(report).DoesNotExist):
            queries.report_for(outsider, report.pk)
    given = queries.data_given(report, world.county)
    assert [g.dataset_id for g in given] == [
        world.agreement.current.document["flows"][0]["dataset_ids"][0]
    ]
    assert given[0].releases == 0

"""The clocks: the partner hours from the agreement (else its framework, else 24), 72 hours for
the ICO, both from discovery; each met, late, due or overdue."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements.actions import document_of
from accord.breaches import actions, deadlines

from .world import DISCOVERED, NOW, kent_shares, reported

pytestmark = pytest.mark.django_db


def test_the_partner_clock_takes_the_agreements_hours() -> None:
    world = kent_shares(partner_hours=12)
    breach = reported(world)
    assert (breach.partner_hours, breach.partner_hours_from) == (12, "agreement")
    assert breach.partner_deadline == DISCOVERED + dt.timedelta(hours=12)
    assert breach.ico_deadline == DISCOVERED + dt.timedelta(hours=72)


def test_without_the_agreements_hours_the_frameworks_clause_applies() -> None:
    world = kent_shares()
    framework = world.agreement.framework
    assert framework is not None
    framework.clauses = {**framework.clauses, "breach_notify_hours": 36}
    framework.save()
    document = document_of(world.agreement).model_copy(update={"breach_handling": None})
    assert deadlines.partner_hours(world.agreement, document) == (36, "framework")
    world.agreement.framework = None
    assert deadlines.partner_hours(world.agreement, document) == (24, "default")


def _states(breach, now) -> dict[str, str]:
    return {c.name: c.state for c in deadlines.clocks(breach, now)}


def test_clocks_are_due_then_overdue_and_reporting_is_the_partner_notification() -> None:
    world = kent_shares(partner_hours=12)
    breach = reported(world)
    assert _states(breach, NOW) == {"partners": "met", "ico": "due"}
    later = DISCOVERED + dt.timedelta(hours=73)
    assert _states(breach, later) == {"partners": "met", "ico": "overdue"}
    assert deadlines.flags(breach, later) == [
        f"Tell the ICO, or record why not: overdue since {breach.ico_deadline:%-d %B %Y %H:%M}"
    ]
    assert [c.name for c in deadlines.overdue(breach, later)] == ["ico"]


def test_reporting_after_the_partner_hours_is_flagged_late() -> None:
    world = kent_shares(partner_hours=12)
    breach = reported(world, discovered_at=NOW - dt.timedelta(hours=13))
    assert _states(breach, NOW)["partners"] == "late"
    assert deadlines.flags(breach, NOW) == ["Tell the other parties: done late"]


def test_telling_the_ico_in_time_or_late() -> None:
    world = kent_shares()
    breach = reported(world)
    dpo = world.person()
    actions.record_ico(by=dpo, breach=breach, told=True, told_at=NOW, reference="IC-1", now=NOW)
    breach.refresh_from_db()
    assert _states(breach, NOW + dt.timedelta(days=10))["ico"] == "met"
    late = reported(world, discovered_at=NOW - dt.timedelta(hours=80))
    actions.record_ico(by=dpo, breach=late, told=True, told_at=NOW, reference="IC-2", now=NOW)
    late.refresh_from_db()
    assert _states(late, NOW)["ico"] == "late"


def test_time_left_and_overdue_are_said_in_hours_and_minutes() -> None:
    breach = reported(kent_shares())
    ico = deadlines.clocks(breach, NOW)[1]
    assert ico.remaining == "70 hours 0 min left"
    overdue = deadlines.clocks(breach, breach.ico_deadline + dt.timedelta(minutes=90))[1]
    assert (overdue.state, overdue.remaining, overdue.tag) == (
        "overdue",
        "1 hour 30 min overdue",
        "red",
    )

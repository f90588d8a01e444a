"""Reporting a breach and recording each step: who may, what is checked, who is told, and the
audit chain (refusals included)."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.audit.exceptions import NotPermitted, Refused
from accord.audit.models import AuditEvent
from accord.audit.verification import verify_chain
from accord.breaches import actions, deadlines
from accord.breaches.enums import Status
from accord.notifications.models import Notification, Topic
from accord.organisations.enums import Role

from .world import DISCOVERED, NOW, kent_shares, reported

pytestmark = pytest.mark.django_db


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def test_a_report_starts_the_clocks_tells_every_partys_dpo_and_is_audited() -> None:
    world = kent_shares(partner_hours=12)
    analyst = world.person(world.district, Role.ANALYST)
    breach = reported(world, by=analyst, occurred_at=DISCOVERED - dt.timedelta(days=1))
    assert breach.status == Status.REPORTED
    assert breach.reported_by_organisation == world.district
    assert breach.partners_notified_at == NOW
    told = Notification.objects.filter(topic=Topic.BREACH_REPORTED)
    assert sorted(n.organisation.name for n in told) == [
        "Canterbury City Council",
        "Kent County Council",
        "Maidstone Borough Council",
    ]
    assert all("within 12 hours" in n.body and breach.reference in n.body for n in told)
    (event,) = _events("breach.reported")
    assert event.target == f"breach:{breach.pk}"
    assert event.details["partner_hours"] == 12
    assert event.details["data"] == [world.dataset_id]
    assert "spreadsheet" not in str(event.details)  # what happened stays out of the log
    assert verify_chain().ok


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"what_happened": "  "}, "Say what happened."),
        ({"data": []}, "Choose which of the agreement's data"),
        ({"data": ["nonsense"]}, "The agreement has no data called nonsense"),
        ({"discovered_at": NOW + dt.timedelta(hours=1)}, "When it was discovered cannot be"),
        ({"occurred_at": DISCOVERED + dt.timedelta(hours=1)}, "on or before when it was"),
    ],
)
def test_a_report_is_checked_and_the_refusal_audited(change: dict, message: str) -> None:
    world = kent_shares()
    with pytest.raises(Refused, match=message):
        reported(world, **change)
    (event,) = _events("breach.reported")
    assert event.outcome == "refused"
    assert message.rstrip(".") in event.reason


def test_fields_of_the_agreement_can_be_named() -> None:
    world = kent_shares()
    field = world.agreement.current.document["datasets"][0]["fields"][0]["name"]
    breach = reported(world, data=[f"{world.dataset_id}.{field}"])
    assert breach.data == [f"{world.dataset_id}.{field}"]


@pytest.mark.parametrize(
    ("who", "roles", "message"),
    [
        ("stranger", (Role.DPO,), "Only members of the organisations that are parties"),
        ("district", (Role.VIEWER,), "Only someone with one of these roles"),
        ("district", (Role.ORGANISATION_ADMIN,), "Only someone with one of these roles"),
    ],
)
def test_only_parties_with_a_data_role_report(who: str, roles: tuple, message: str) -> None:
    world = kent_shares()
    with pytest.raises(NotPermitted, match=message):
        reported(world, by=world.person(getattr(world, who), *roles))


def _through_to_assessed(world, breach, risk: str = "unlikely"):
    dpo = world.person()
    breach = actions.record_containment(
        by=dpo, breach=breach, containment="Recipient deleted it", contained_at=NOW, now=NOW
    )
    return actions.record_assessment(
        by=dpo, breach=breach, risk=risk, reasoning="Ten records, no special category", now=NOW
    )


def test_the_whole_way_to_closure_each_step_audited() -> None:
    world = kent_shares()
    dpo = world.person()
    breach = _through_to_assessed(world, reported(world))
    assert breach.status == Status.ASSESSED
    breach = actions.record_ico(
        by=dpo, breach=breach, told=False, reason="Unlikely to result in a risk", now=NOW
    )
    breach = actions.record_subjects(
        by=dpo, breach=breach, told=False, reason="No risk to them", now=NOW
    )
    breach = actions.close(by=dpo, breach=breach, lessons="Check addresses twice", now=NOW)
    assert breach.status == Status.CLOSED
    for action in (
        "breach.contained",
        "breach.assessed",
        "breach.ico_decided",
        "breach.subjects_decided",
        "breach.closed",
    ):
        (event,) = _events(action)
        assert event.outcome == "success"
        assert event.target == f"breach:{breach.pk}"
    assert _events("breach.closed")[0].details["from"] == "assessed"
    assert verify_chain().ok


def test_steps_out_of_order_are_refused_and_audited() -> None:
    world = kent_shares()
    breach = reported(world)
    with pytest.raises(Refused, match="you cannot record the assessment yet"):
        actions.record_assessment(by=world.person(), breach=breach, risk="high", reasoning="x")
    assert _events("breach.assessed")[0].outcome == "refused"
    with pytest.raises(Refused, match="you cannot close it yet"):
        actions.close(by=world.person(), breach=breach, lessons="x")


def test_the_ico_must_be_told_unless_the_risk_is_unlikely() -> None:
    world = kent_shares()
    breach = _through_to_assessed(world, reported(world), risk="risk")
    with pytest.raises(Refused, match="The ICO must be told unless"):
        actions.record_ico(by=world.person(), breach=breach, told=False, reason="Not needed")
    with pytest.raises(Refused, match="Enter the ICO's reference"):
        actions.record_ico(by=world.person(), breach=breach, told=True, now=NOW)
    actions.record_ico(by=world.person(), breach=breach, told=True, reference="IC-9", now=NOW)
    with pytest.raises(Refused, match="already recorded"):
        actions.record_ico(by=world.person(), breach=breach, told=True, reference="IC-9")


def test_when_the_risk_is_high_the_people_must_be_told() -> None:
    world = kent_shares()
    breach = _through_to_assessed(world, reported(world), risk="high")
    assert "Tell the people affected: needed because the risk is high" in deadlines.flags(
        breach, NOW
    )
    with pytest.raises(Refused, match="must be told without undue delay"):
        actions.record_subjects(by=world.person(), breach=breach, told=False, reason="No")
    with pytest.raises(Refused, match="Record whether the ICO was told"):
        actions.close(by=world.person(), breach=breach, lessons="x")
    actions.record_subjects(by=world.person(), breach=breach, told=True, how="By letter", now=NOW)


def test_only_data_protection_roles_record_steps() -> None:
    world = kent_shares()
    breach = reported(world)
    for person in (world.person(world.district, Role.ANALYST), world.person(world.stranger)):
        with pytest.raises(NotPermitted):
            actions.record_containment(by=person, breach=breach, containment="x")
    breach.refresh_from_db()
    assert breach.status == Status.REPORTED


def test_suspending_from_the_breach_stops_the_agreement_and_is_audited() -> None:
    world = kent_shares()
    breach = reported(world)
    actions.suspend_agreement(
        by=world.person(world.district, Role.DPO),
        breach=breach,
        reason=actions.suspension_reason(breach),
    )
    world.agreement.refresh_from_db()
    breach.refresh_from_db()
    assert world.agreement.status == "suspended"
    assert breach.suspended_at is not None
    assert (
        _events("agreement.suspended")[0]
        .details["reason"]
        .startswith(f"Suspected personal data breach {breach.reference}")
    )
    assert _events("breach.agreement_suspended")[0].outcome == "success"
    with pytest.raises(Refused, match="not in force, so there is nothing to suspend"):
        actions.suspend_agreement(by=world.person(), breach=breach, reason="again")


@pytest.mark.parametrize("roles", [(Role.ANALYST,), (Role.DATA_OFFICER,), (Role.VIEWER,)])
def test_suspension_is_refused_to_the_wrong_role(roles: tuple) -> None:
    world = kent_shares()
    breach = reported(world)
    with pytest.raises(NotPermitted, match="Only someone with one of these roles can suspend"):
        actions.suspend_agreement(by=world.person(world.county, *roles), breach=breach, reason="x")
    world.agreement.refresh_from_db()
    assert world.agreement.status == "active"
    (event,) = _events("breach.agreement_suspended")
    assert event.outcome == "refused"

"""`accord breaches remind`: an ICO deadline passed with no decision is flagged to every party,
once, audited; safe to run again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.breaches import actions
from accord.breaches.reminders import send_breach_reminders
from accord.cli.main import main
from accord.notifications.models import Notification, SentReminder, Topic

from .world import kent_shares, reported

pytestmark = pytest.mark.django_db


def _overdue() -> list[str]:
    return sorted(
        n.organisation.name for n in Notification.objects.filter(topic=Topic.BREACH_OVERDUE)
    )


def test_an_overdue_ico_decision_is_flagged_once_to_every_party(capsys) -> None:
    world = kent_shares()
    now = timezone.now()
    breach = reported(world, now=now, discovered_at=now - dt.timedelta(hours=73))
    reported(world, now=now, discovered_at=now - dt.timedelta(hours=1))  # not yet due
    assert main(["breaches", "remind"]) == 0
    out = capsys.readouterr().out
    assert "Breach reminders on" in out
    assert "looked at 2 open breach(es); sent 1 overdue reminder(s); 0 already sent" in out
    assert f"{breach.reference} ({world.agreement.title}): Tell the ICO" in out
    assert _overdue() == [
        "Canterbury City Council",
        "Kent County Council",
        "Maidstone Borough Council",
    ]
    (event,) = AuditEvent.objects.filter(action="breach.reminded")
    assert event.details["clock"] == "ico"
    assert event.target == f"breach:{breach.pk}"
    # Again: nothing new.
    assert main(["breaches", "remind"]) == 0
    assert "sent 0 overdue reminder(s); 1 already sent before" in capsys.readouterr().out
    assert len(_overdue()) == 3
    assert SentReminder.objects.filter(key__startswith="breach:").count() == 1


def test_a_decided_or_closed_breach_is_not_flagged() -> None:
    world = kent_shares()
    now = timezone.now()
    breach = reported(world, now=now, discovered_at=now - dt.timedelta(hours=80))
    actions.record_ico(by=world.person(), breach=breach, told=True, reference="IC-1", now=now)
    run = send_breach_reminders(now=now + dt.timedelta(days=5))
    assert (run.breaches, run.sent) == (1, 0)
    assert _overdue() == []


def test_a_day_in_the_future_can_be_given() -> None:
    world = kent_shares()
    now = timezone.now()
    reported(world, now=now, discovered_at=now - dt.timedelta(hours=1))
    today = timezone.localdate()
    assert main(["breaches", "remind", "--today", f"{today:%Y-%m-%d}"]) == 0
    assert _overdue() == []
    later = today + dt.timedelta(days=4)
    assert main(["breaches", "remind", "--today", f"{later:%Y-%m-%d}"]) == 0
    assert len(_overdue()) == 3

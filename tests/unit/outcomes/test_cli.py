"""`accord outcomes remind`: overdue reports flagged to the recipient and the provider, once
per due date, audited; safe to run again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.notifications.models import Notification, SentReminder, Topic
from accord.outcomes import actions, queries

from .world import kent_shares

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def _overdue_notices() -> list[tuple[str, str]]:
    return sorted(
        (n.organisation.name, n.subject)
        for n in Notification.objects.filter(topic=Topic.OUTCOMES_OVERDUE)
    )


def test_nothing_is_flagged_before_the_due_date(capsys) -> None:
    kent_shares(start=TODAY - dt.timedelta(days=5))
    assert main(["outcomes", "remind"]) == 0
    assert "looked at 2 commitment(s); sent 0 overdue reminder(s)" in capsys.readouterr().out
    assert _overdue_notices() == []


def test_an_overdue_report_is_flagged_once_to_the_recipient_and_the_provider(capsys) -> None:
    start = TODAY - dt.timedelta(days=40)
    world = kent_shares(start=start)
    due = queries.Period(1, 0).after(start, 1)
    # Maidstone has reported; Canterbury has not.
    actions.report_outcomes(
        by=world.analyst(),
        agreement=world.agreement,
        commitment_index=0,
        period=(start, TODAY),
        figures=[{"measure": "Residents contacted", "value": 412}],
    )
    assert main(["outcomes", "remind"]) == 0
    out = capsys.readouterr().out
    assert "sent 1 overdue reminder(s); 0 already sent before" in out
    assert "Canterbury City Council: Residents contacted and referred for support" in out
    assert _overdue_notices() == [
        (
            "Canterbury City Council",
            "Outcomes overdue: Residents contacted and referred for support",
        ),
        (
            "Kent County Council",
            "Canterbury City Council is late reporting outcomes: Residents contacted and "
            "referred for support",
        ),
    ]
    (event,) = AuditEvent.objects.filter(action="outcome.reminded")
    assert event.details["due_on"] == due.isoformat()
    assert SentReminder.objects.filter(key__startswith="outcome:").count() == 1

    # Again: nothing new.
    assert main(["outcomes", "remind"]) == 0
    assert "sent 0 overdue reminder(s); 1 already sent before" in capsys.readouterr().out
    assert len(_overdue_notices()) == 2
    assert AuditEvent.objects.filter(action="outcome.reminded").count() == 1

    # A month on, the next due date is flagged in turn, to both recipients now.
    later = queries.Period(1, 0).after(start, 2) + dt.timedelta(days=1)
    assert main(["outcomes", "remind", "--today", later.isoformat()]) == 0
    assert "sent 2 overdue reminder(s); 0 already sent before" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="outcome.reminded").count() == 3


def test_an_agreement_not_in_force_is_not_flagged(capsys) -> None:
    world = kent_shares(start=TODAY - dt.timedelta(days=40))
    world.agreement.status = "terminated"
    world.agreement.save(update_fields=["status"])
    assert main(["outcomes", "remind"]) == 0
    assert "looked at 0 commitment(s); sent 0" in capsys.readouterr().out


def test_a_bad_date_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["outcomes", "remind", "--today", "yesterday"])
    assert stopped.value.code == 2
    assert "is not a date" in capsys.readouterr().err

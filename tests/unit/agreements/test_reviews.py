"""The agreements' daily sweep: review reminders (due, then overdue, each sent once however
often the sweep runs) and expiry of agreements past their end date, audited and notified,
and `accord agreements daily`.

The FSM agreement the builders give starts on 1 September 2025, is reviewed by 1 September 2026
and ends on 31 August 2027; its review is due from 3 July 2026 (60 days before)."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.agreements import actions, expiry, lifecycle, notices, reviews
from accord.agreements.models import Agreement
from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.audit.models import AuditEvent
from accord.cli.main import main
from accord.notifications.models import Notification, SentReminder, Topic
from accord.organisations.enums import Role

from .test_notices import active, make_parties

pytestmark = pytest.mark.django_db

NOT_YET = dt.date(2026, 7, 2)  # 61 days before the review date
DUE = dt.date(2026, 7, 3)  # 60 days before
STILL_DUE = dt.date(2026, 9, 1)  # the review date itself
OVERDUE = dt.date(2026, 9, 2)
LAST_DAY = dt.date(2027, 8, 31)  # the end date
ENDED = dt.date(2027, 9, 1)


@pytest.fixture
def parties():
    return make_parties()


@pytest.fixture
def agreement(parties) -> Agreement:
    return active(*parties)


def reminders(agreement: Agreement) -> list[tuple[str, str]]:
    return list(
        Notification.objects.filter(
            link=notices.link_to(agreement),
            topic__in=[Topic.AGREEMENT_REVIEW_DUE, Topic.AGREEMENT_REVIEW_OVERDUE],
        )
        .order_by("id")
        .values_list("organisation__name", "topic")
    )


def test_the_builders_dates_are_what_the_tests_assume() -> None:
    review = dt.date(2026, 9, 1)
    assert lifecycle.review_state(review, NOT_YET) == "not_due"
    assert lifecycle.review_state(review, DUE) == "due"
    assert lifecycle.review_state(review, STILL_DUE) == "due"
    assert lifecycle.review_state(review, OVERDUE) == "overdue"


def test_no_reminder_before_the_review_falls_due(agreement) -> None:
    summary = reviews.send_review_reminders(today=NOT_YET)
    assert (summary.reminded, summary.already_sent) == ([], 0)
    assert reminders(agreement) == []


def test_due_is_sent_once_to_every_party_however_often_the_sweep_runs(
    agreement, parties, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        summary = reviews.send_review_reminders(today=DUE)
    assert [(r.title, r.state, r.review_date, r.organisations) for r in summary.reminded] == [
        (agreement.title, "due", dt.date(2026, 9, 1), 2)
    ]
    assert reminders(agreement) == [
        ("Hackney", Topic.AGREEMENT_REVIEW_DUE),
        ("Islington", Topic.AGREEMENT_REVIEW_DUE),
    ]
    notice = Notification.objects.filter(topic=Topic.AGREEMENT_REVIEW_DUE).first()
    assert notice.subject == f"Review due by 1 September 2026: “{agreement.title}”"
    assert "Plan it with the other parties" in notice.body
    emailed = {address for message in mailoutbox for address in message.to}
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.REVIEW_ROLES)
        assert party.emails[Role.ANALYST] not in emailed
        assert party.emails[Role.VIEWER] not in emailed

    mailoutbox.clear()
    for day in (DUE, DUE + dt.timedelta(days=1), STILL_DUE):
        with django_capture_on_commit_callbacks(execute=True):
            again = reviews.send_review_reminders(today=day)
        assert (again.reminded, again.already_sent) == ([], 1)
    assert len(reminders(agreement)) == 2
    assert mailoutbox == []


def test_overdue_follows_due_once(agreement) -> None:
    reviews.send_review_reminders(today=DUE)
    summary = reviews.send_review_reminders(today=OVERDUE)
    assert [r.state for r in summary.reminded] == ["overdue"]
    assert [r.state for r in summary.overdue] == ["overdue"]
    assert summary.due == []
    for _ in range(3):
        assert reviews.send_review_reminders(today=OVERDUE + dt.timedelta(days=30)).reminded == []
    assert reminders(agreement) == [
        ("Hackney", Topic.AGREEMENT_REVIEW_DUE),
        ("Islington", Topic.AGREEMENT_REVIEW_DUE),
        ("Hackney", Topic.AGREEMENT_REVIEW_OVERDUE),
        ("Islington", Topic.AGREEMENT_REVIEW_OVERDUE),
    ]
    overdue = Notification.objects.get(
        topic=Topic.AGREEMENT_REVIEW_OVERDUE, organisation__name="Hackney"
    )
    assert overdue.subject == f"Review overdue: “{agreement.title}”"
    assert "was due on 1 September 2026" in overdue.body


def test_a_sweep_that_first_runs_late_sends_only_overdue(agreement) -> None:
    summary = reviews.send_review_reminders(today=OVERDUE)
    assert [r.state for r in summary.reminded] == ["overdue"]
    assert {topic for _, topic in reminders(agreement)} == {Topic.AGREEMENT_REVIEW_OVERDUE}


def test_reminders_are_audited_as_the_sweep(agreement) -> None:
    reviews.send_review_reminders(today=DUE)
    event = AuditEvent.objects.get(action="agreement.review_reminded")
    assert event.actor == Actor.task(reviews.ACTOR_NAME).ref
    assert event.target == f"agreement:{agreement.pk}"
    assert event.details == {"state": "due", "review_date": "2026-09-01", "organisations": 2}
    sent = AuditEvent.objects.filter(action="notification.sent", seq__lt=event.seq)
    assert sent.filter(details__topic="agreement_review_due").count() == 2


def test_a_reminder_already_recorded_is_not_sent_again(agreement) -> None:
    """What a run racing this one would have left: the key, committed first."""
    SentReminder.objects.create(key=reviews.reminder_key(agreement, dt.date(2026, 9, 1), "due"))
    summary = reviews.send_review_reminders(today=DUE)
    assert (summary.reminded, summary.already_sent) == ([], 1)
    assert reminders(agreement) == []


def test_a_run_racing_another_sends_nothing_when_the_key_is_taken(agreement, monkeypatch) -> None:
    """Two sweeps at once both pass the look-up; the unique key stops the second, whose
    notices roll back with it (and whose email, sent only after commit, never goes)."""
    SentReminder.objects.create(key=reviews.reminder_key(agreement, dt.date(2026, 9, 1), "due"))
    before = AuditEvent.objects.count()
    monkeypatch.setattr(
        reviews.SentReminder.objects, "filter", lambda **_: SentReminder.objects.none()
    )
    summary = reviews.send_review_reminders(today=DUE)
    assert (summary.reminded, summary.already_sent, summary.failed) == ([], 1, [])
    assert reminders(agreement) == []
    assert AuditEvent.objects.count() == before


def test_a_new_review_date_gets_its_own_reminders(agreement) -> None:
    reviews.send_review_reminders(today=DUE)
    # An amended agreement carries the next review date.
    version = agreement.current
    version.document["term"]["review_date"] = "2027-07-01"
    version.save(update_fields=["document"])
    assert reviews.send_review_reminders(today=OVERDUE).reminded == []  # not due until May
    summary = reviews.send_review_reminders(today=dt.date(2027, 6, 1))
    assert [(r.state, r.review_date) for r in summary.reminded] == [("due", dt.date(2027, 7, 1))]


def test_suspended_agreements_are_reminded_and_ended_ones_are_not(parties) -> None:
    hackney, _ = parties
    suspended, terminated = active(*parties), active(*parties)
    dpo = hackney.actors[Role.DPO]
    actions.suspend(by=dpo, agreement=suspended, reason="Breach under investigation")
    actions.terminate(by=dpo, agreement=terminated, reason="Service decommissioned")
    summary = reviews.send_review_reminders(today=OVERDUE)
    assert [r.agreement_id for r in summary.reminded] == [str(suspended.pk)]
    assert reminders(terminated) == []
    assert len(reminders(suspended)) == 2


def test_expiry_moves_it_through_the_lifecycle_audited_and_notified(
    agreement, parties, mailoutbox, django_capture_on_commit_callbacks
) -> None:
    assert reviews.expire_ended(today=LAST_DAY).expired == []
    agreement.refresh_from_db()
    assert agreement.status == "active"

    with django_capture_on_commit_callbacks(execute=True):
        summary = reviews.expire_ended(today=ENDED)
    assert [(e.agreement_id, e.end_date) for e in summary.expired] == [
        (str(agreement.pk), LAST_DAY)
    ]
    agreement.refresh_from_db()
    assert agreement.status == "expired"
    assert agreement.ended_at is not None
    assert actions.document_of(agreement).status == "expired"

    event = AuditEvent.objects.get(action="agreement.expired", target=f"agreement:{agreement.pk}")
    assert event.actor == Actor.task(reviews.ACTOR_NAME).ref
    assert event.outcome == "success"
    assert event.details["from"] == "active"
    assert event.details["to"] == "expired"
    assert event.details["end_date"] == "2027-08-31"

    expired = Notification.objects.filter(
        topic=Topic.AGREEMENT_EXPIRED, link=notices.link_to(agreement)
    )
    assert sorted(n.organisation.name for n in expired) == ["Hackney", "Islington"]
    notice = expired.first()
    assert notice.subject == f"Expired: “{agreement.title}”"
    assert "reached its end date on 31 August 2027" in notice.body
    assert "Nothing more may be shared under it" in notice.body
    emailed = {address for message in mailoutbox for address in message.to}
    for party in parties:
        assert party.received(emailed) == party.emails_for(notices.DATA_ROLES)

    # Run again: nothing left to expire, and an ended agreement gets no review reminders.
    assert reviews.expire_ended(today=ENDED).expired == []
    assert reviews.send_review_reminders(today=ENDED).reminded == []
    assert AuditEvent.objects.filter(action="agreement.expired").count() == 1


def test_a_suspended_agreement_expires_too(agreement, parties) -> None:
    hackney, _ = parties
    actions.suspend(by=hackney.actors[Role.DPO], agreement=agreement, reason="Audit")
    reviews.expire_ended(today=ENDED)
    agreement.refresh_from_db()
    assert agreement.status == "expired"


def test_expire_refuses_before_the_end_date_and_records_the_refusal(agreement) -> None:
    by = reviews.task_actor()
    with pytest.raises(Refused, match="runs until 31 August 2027"):
        expiry.expire(by=by, agreement=agreement, today=LAST_DAY)
    event = AuditEvent.objects.filter(action="agreement.expired").get()
    assert event.outcome == "refused"
    agreement.refresh_from_db()
    assert agreement.status == "active"


def test_expire_refuses_an_agreement_not_in_force(parties) -> None:
    agreement = active(*parties)
    hackney, _ = parties
    actions.terminate(by=hackney.actors[Role.DPO], agreement=agreement, reason="Done")
    with pytest.raises(Refused, match="cannot change any more"):
        expiry.expire(by=reviews.task_actor(), agreement=agreement, today=ENDED)


# The command ---------------------------------------------------------------------------------


def test_the_daily_command(agreement, capsys) -> None:
    assert main(["agreements", "daily", "--today", NOT_YET.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Expired 0 agreement(s)" in out
    assert "Sent 0 review-due and 0 review-overdue reminder(s); 0 already sent before." in out

    assert main(["agreements", "daily", "--today", DUE.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Sent 1 review-due and 0 review-overdue reminder(s)" in out
    assert f"“{agreement.title}”: review is due by 1 September 2026" in out

    assert main(["agreements", "daily", "--today", DUE.isoformat()]) == 0
    assert "Sent 0 review-due and 0 review-overdue reminder(s); 1 already sent" in (
        capsys.readouterr().out
    )

    # Past its end: expired first, so no overdue reminder goes out for an ended agreement.
    assert main(["agreements", "daily", "--today", ENDED.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Expired 1 agreement(s) past their end date." in out
    assert f"“{agreement.title}”: ended 31 August 2027" in out
    assert "Sent 0 review-due and 0 review-overdue reminder(s)" in out
    agreement.refresh_from_db()
    assert agreement.status == "expired"
    assert not Notification.objects.filter(topic=Topic.AGREEMENT_REVIEW_OVERDUE).exists()


def test_the_daily_command_names_an_agreement_it_could_not_deal_with(agreement, capsys) -> None:
    version = agreement.current
    version.document = {"not": "an agreement"}
    version.save(update_fields=["document"])
    assert main(["agreements", "daily", "--today", DUE.isoformat()]) == 1
    out = capsys.readouterr().out
    assert "Could not deal with 2 agreement(s):" in out  # once for expiry, once for reviews
    assert str(agreement.pk) in out


def test_the_daily_command_refuses_a_bad_date(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["agreements", "daily", "--today", "1st of July"])
    assert exit_info.value.code == 2
    assert "give it as YYYY-MM-DD" in capsys.readouterr().err


def test_agreements_alone_prints_its_help(capsys) -> None:
    assert main(["agreements"]) == 2
    assert "daily" in capsys.readouterr().out

"""Copies released outside Accord: deadlines, attestations (recipient only, once), reminders
before the deadline and overdue flags after it, run with the retention task."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.audit.actor import Actor
from accord.audit.exceptions import Refused
from accord.audit.models import AuditEvent
from accord.notifications.models import Notification, Topic
from accord.organisations.actors import actor_for
from accord.organisations.enums import Role
from accord.vault import actions, copies, retention
from accord.vault.models import ExtractCopy
from tests.factories import MembershipFactory, OrganisationFactory

from .conftest import store

pytestmark = pytest.mark.django_db

TASK = Actor.task("extract_build")


@pytest.fixture
def shared(member):
    """A council's object, and a recipient organisation with a DPO."""
    organisation, actor = member
    obj = store(actor, organisation, b"rows", name="Free school meals, March")
    dpo = MembershipFactory(organisation=OrganisationFactory(name="Hackney"), roles=[Role.DPO])
    return obj, dpo


def release(obj, recipient, **kwargs) -> ExtractCopy:
    return copies.record_release(by=TASK, obj=obj, recipient=recipient, **kwargs)


def test_a_copy_is_due_by_the_objects_deadline_or_an_earlier_one(shared) -> None:
    obj, dpo = shared
    copy = release(obj, dpo.organisation)
    assert copy.delete_by == obj.retention_deadline
    sooner = timezone.now() + timedelta(days=30)
    assert release(obj, dpo.organisation, delete_by=sooner).delete_by == sooner
    later = obj.retention_deadline + timedelta(days=30)
    assert release(obj, dpo.organisation, delete_by=later).delete_by == obj.retention_deadline
    event = AuditEvent.objects.filter(action="vault.copy.released").first()
    assert event.details["recipient_name"] == "Hackney"
    with pytest.raises(ValidationError):
        release(obj, dpo.organisation, delete_by=timezone.now() - timedelta(days=1))


def test_no_copy_of_deleted_data(shared, member) -> None:
    obj, dpo = shared
    actions.crypto_shred(by=member[1], obj=obj, reason="the agreement ended")
    with pytest.raises(ValidationError, match="has been deleted"):
        release(obj, dpo.organisation)


def test_only_the_recipient_attests_and_only_once(shared, member) -> None:
    obj, dpo = shared
    copy = release(obj, dpo.organisation)
    controller = member[1]
    with pytest.raises(Refused, match="Only the organisation holding the copy"):
        copies.attest_deletion(by=controller, copy=copy, statement="We deleted it")
    refused = AuditEvent.objects.get(action="vault.copy.deletion_attested")
    assert refused.outcome == "refused"
    with pytest.raises(ValidationError):
        copies.attest_deletion(by=actor_for(dpo.user, dpo), copy=copy, statement="  ")
    done = copies.attest_deletion(
        by=actor_for(dpo.user, dpo), copy=copy, statement="Deleted from the shared drive"
    )
    assert done.is_attested
    event = AuditEvent.objects.filter(action="vault.copy.deletion_attested", outcome="success")
    assert event.get().details["on_time"] is True
    with pytest.raises(Refused, match="already been attested"):
        copies.attest_deletion(by=actor_for(dpo.user, dpo), copy=copy, statement="Again")


def test_reminders_come_once_before_the_deadline(shared) -> None:
    obj, dpo = shared
    copy = release(obj, dpo.organisation, delete_by=timezone.now() + timedelta(days=40))
    assert copies.send_reminders().reminded == 0  # not yet within 14 days
    soon = copy.delete_by - timedelta(days=10)
    assert copies.send_reminders(now=soon).reminded == 1
    assert copies.send_reminders(now=soon + timedelta(days=1)).reminded == 0
    notice = Notification.objects.get(topic=Topic.DELETION_ATTESTATION_DUE)
    assert notice.organisation == dpo.organisation
    assert "Free school meals, March" in notice.subject


def test_overdue_copies_are_flagged_to_both_parties_weekly_until_attested(shared) -> None:
    obj, dpo = shared
    copy = release(obj, dpo.organisation, delete_by=timezone.now() + timedelta(days=1))
    late = copy.delete_by + timedelta(hours=1)
    assert copy.is_overdue(late)
    assert copies.send_reminders(now=late).overdue == 1
    flagged = Notification.objects.filter(topic=Topic.DELETION_ATTESTATION_OVERDUE)
    assert {n.organisation for n in flagged} == {dpo.organisation, obj.organisation}
    assert copies.send_reminders(now=late + timedelta(days=2)).overdue == 0
    assert copies.send_reminders(now=late + timedelta(days=8)).overdue == 1
    # The deadline passes for real before the recipient gets round to attesting.
    ExtractCopy.objects.filter(pk=copy.pk).update(delete_by=timezone.now() - timedelta(hours=1))
    copies.attest_deletion(by=actor_for(dpo.user, dpo), copy=copy, statement="Deleted late")
    assert copies.send_reminders(now=late + timedelta(days=20)).overdue == 0
    assert (
        AuditEvent.objects.get(action="vault.copy.deletion_attested", outcome="success").details[
            "on_time"
        ]
        is False
    )


def test_the_retention_run_sends_them_but_a_dry_run_does_not(shared) -> None:
    obj, dpo = shared
    release(obj, dpo.organisation, delete_by=timezone.now() + timedelta(days=3))
    assert retention.run(dry_run=True).reminders is None
    assert not Notification.objects.exists()
    report = retention.run()
    assert report.reminders is not None
    assert report.reminders.reminded == 1

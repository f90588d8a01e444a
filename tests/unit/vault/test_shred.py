"""Crypto-shredding: the key and blob are gone, the object says when and why, and the audit
event carries what was deleted."""

from __future__ import annotations

import pytest

from accord.audit.enums import Outcome
from accord.audit.exceptions import Refused
from accord.audit.models import AuditEvent
from accord.vault import actions, keys, queries
from accord.vault.exceptions import ObjectDeleted

from .conftest import blob_path, permit, read, store

pytestmark = pytest.mark.django_db

REASON = "Retention period of one year ended under the free school meals agreement"


def test_a_shredded_object_is_gone_and_says_when_and_why(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"to be forgotten" * 20)
    kept = store(actor, organisation, b"still here")
    key_file, blob = keys.key_path(obj.id), blob_path(obj)
    assert key_file.exists()
    assert blob.exists()

    actions.crypto_shred(by=actor, obj=obj, reason=REASON)

    assert not key_file.exists()
    assert not blob.exists()
    obj.refresh_from_db()
    assert obj.deleted_at is not None
    assert obj.deletion_reason == REASON
    with pytest.raises(ObjectDeleted) as raised:
        queries.open_object(obj.id, by=actor, decision=permit(actor, obj))
    message = str(raised.value)
    assert "was deleted on" in message
    assert str(obj.deleted_at.astimezone().year) in message
    assert REASON in message
    assert "cannot be recovered" in message
    assert raised.value.deleted_at == obj.deleted_at
    assert read(actor, kept) == b"still here"


def test_the_audit_event_says_what_was_deleted(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"gone")
    actions.crypto_shred(by=actor, obj=obj, reason=REASON)
    event = AuditEvent.objects.get(action="vault.object.shredded")
    assert event.outcome == Outcome.SUCCESS
    assert event.reason == REASON
    assert event.target == f"submission:{obj.id}"
    assert event.details["object_id"] == str(obj.id)
    assert event.details["name"] == obj.name
    assert event.details["organisation_id"] == str(organisation.pk)
    assert event.details["sha256"] == obj.sha256
    assert event.details["key_destroyed"] is True
    assert event.details["blob_deleted"] is True


def test_shredding_twice_is_refused_and_the_refusal_recorded(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"once")
    actions.crypto_shred(by=actor, obj=obj, reason=REASON)
    with pytest.raises(Refused, match="was deleted on"):
        actions.crypto_shred(by=actor, obj=obj, reason="again")
    assert AuditEvent.objects.filter(
        action="vault.object.shredded", outcome=Outcome.REFUSED
    ).exists()


def test_a_reason_is_needed(member) -> None:
    organisation, actor = member
    obj = store(actor, organisation, b"kept")
    with pytest.raises(Exception, match="Say why"):
        actions.crypto_shred(by=actor, obj=obj, reason="  ")
    assert keys.key_path(obj.id).exists()
    assert read(actor, obj) == b"kept"

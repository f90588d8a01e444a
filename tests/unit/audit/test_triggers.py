"""The database itself refuses to change or remove audit events (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction

from accord.audit import triggers
from accord.audit.models import AuditEvent

from .helpers import add_events

pytestmark = pytest.mark.django_db


def _refused(sql: str, params: list[Any] | None = None) -> str:
    """Run SQL that must be refused; return the database's message."""
    with pytest.raises(DatabaseError) as refusal, transaction.atomic(), connection.cursor() as c:
        c.execute(sql, params or [])
    return str(refusal.value)


def test_raw_update_is_refused() -> None:
    add_events(2)
    message = _refused("UPDATE audit_auditevent SET reason = %s WHERE seq = %s", ["edited", 1])
    assert triggers.MESSAGE in message
    assert AuditEvent.objects.get(seq=1).reason == ""


def test_raw_delete_is_refused() -> None:
    add_events(2)
    assert triggers.MESSAGE in _refused("DELETE FROM audit_auditevent WHERE seq = %s", [2])
    assert triggers.MESSAGE in _refused("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_orm_update_and_delete_are_refused() -> None:
    (event,) = add_events(1)
    with pytest.raises(DatabaseError, match=triggers.MESSAGE), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="something.else")
    with pytest.raises(DatabaseError, match=triggers.MESSAGE), transaction.atomic():
        event.delete()
    event.reason = "changed"
    with pytest.raises(DatabaseError, match=triggers.MESSAGE), transaction.atomic():
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.thing.done"


def test_truncate_is_refused_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE statement")
    add_events(2)
    assert triggers.MESSAGE in _refused("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() == 2


def test_appending_is_still_allowed() -> None:
    add_events(3)
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3]


def test_it_is_the_triggers_that_refuse() -> None:
    """Without them the same statement goes through (this is what the tamper tests rely on)."""
    add_events(1)
    triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET reason = %s WHERE seq = 1", ["edited"])
    finally:
        triggers.install(connection)
    assert AuditEvent.objects.get(seq=1).reason == "edited"
    assert triggers.MESSAGE in _refused("UPDATE audit_auditevent SET reason = 'again'")


def test_install_is_idempotent() -> None:
    triggers.install(connection)
    triggers.install(connection)
    add_events(1)
    assert triggers.MESSAGE in _refused("DELETE FROM audit_auditevent")

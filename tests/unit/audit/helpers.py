"""Helpers for audit tests: actors, a few events, and an attacker with database rights."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

from accord.audit import triggers
from accord.audit.actions import record
from accord.audit.actor import Actor, ActorKind
from accord.audit.chain import HASHED_FIELDS, event_hash
from accord.audit.models import AuditEvent

PERSON = Actor(
    kind=ActorKind.PERSON,
    ref="user:12",
    label="sam.tester@example.org",
    organisation_id="101",
    organisation_name="Test Council 101",
)


def add_events(
    count: int, *, by: Actor = PERSON, action: str = "test.thing.done"
) -> list[AuditEvent]:
    return [
        record(by=by, action=action, target=f"thing:{n}", details={"n": n}) for n in range(count)
    ]


@contextmanager
def attacker() -> Iterator[Any]:
    """Someone with rights on the database: triggers off, raw SQL, triggers back on."""
    triggers.remove(connection)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        triggers.install(connection)


CONTENT_COLUMNS = [name for name in HASHED_FIELDS if name != "seq"] + ["hash"]


def read_row(seq: int) -> dict[str, Any]:
    return AuditEvent.objects.filter(seq=seq).values(*HASHED_FIELDS, "hash").get()


def write_row(cursor: Any, seq: int, values: dict[str, Any]) -> None:
    """UPDATE one event's columns by raw SQL (details as JSON text)."""
    placeholders = []
    params = []
    for column, value in values.items():
        if column == "details":
            value = json.dumps(value)
            placeholders.append(
                f"{column} = CAST(%s AS jsonb)"
                if connection.vendor == "postgresql"
                else f"{column} = %s"
            )
        else:
            placeholders.append(f"{column} = %s")
        params.append(value)
    cursor.execute(
        f"UPDATE audit_auditevent SET {', '.join(placeholders)} WHERE seq = %s",  # noqa: S608
        [*params, seq],
    )


def rehash_from(cursor: Any, seq: int) -> None:
    """What a careful attacker does after an edit: recompute every hash from ``seq`` on and
    move the head, so the chain is consistent again."""
    previous = read_row(seq - 1)["hash"] if seq > 1 else "0" * 64
    for event in (
        AuditEvent.objects.filter(seq__gte=seq).order_by("seq").values(*HASHED_FIELDS, "hash")
    ):
        event["prev_hash"] = previous
        new_hash = event_hash(event)
        cursor.execute(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE seq = %s",
            [previous, new_hash, event["seq"]],
        )
        previous = new_hash
    last = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    assert last is not None
    cursor.execute(
        "UPDATE audit_audithead SET seq = %s, hash = %s WHERE id = 1", [last["seq"], last["hash"]]
    )

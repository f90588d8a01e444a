"""Writing to the audit log.

``record`` appends one event to the chain inside the caller's transaction, so an action and its
audit event commit or roll back together. ``audited`` wraps an action: it runs it in one
transaction and, when the action is refused, records the refusal after the rollback.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.db import transaction
from django.utils import timezone

from .actor import Actor
from .chain import event_hash
from .enums import GENESIS_HASH, Outcome
from .exceptions import Refused
from .models import AuditEvent, AuditHead

P = ParamSpec("P")
R = TypeVar("R")


def _json_safe(details: Mapping[str, Any] | None) -> dict[str, Any]:
    # Round-trip through JSON so what is hashed is exactly what the database will give back.
    return _exact_numbers(json.loads(json.dumps(dict(details or {}), default=str, sort_keys=True)))


_EXACT = 2**53  # RFC 8785 numbers are IEEE doubles: integers beyond this are not exact


def _text(value: str) -> str:
    """PostgreSQL cannot store the NUL character in text or JSON; an audit record must never
    fail for what a caller put in it, so NUL is kept as U+FFFD (the replacement character)."""
    return value.replace("\x00", "\ufffd")


def _exact_numbers(value: Any) -> Any:
    """Numbers RFC 8785 refuses (huge integers, NaN, infinities) and floats of 2**53 or more
    (PostgreSQL's jsonb gives 1e16 back as the integer 10000000000000000, which would no longer
    hash the same) are kept as text; NUL characters in text are replaced (see ``_text``)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(key): _exact_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_exact_numbers(item) for item in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) >= _EXACT:
        return str(value)
    if isinstance(value, float) and not (math.isfinite(value) and abs(value) < _EXACT):
        return repr(value)
    return value


def record(
    *,
    by: Actor,
    action: str,
    target: str = "",
    purpose: str = "",
    outcome: Outcome = Outcome.SUCCESS,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
    organisation_id: str | None = None,
    organisation_name: str | None = None,
    subject_organisation_id: str = "",
) -> AuditEvent:
    """Append an event to the chain, in the current transaction (or a new one)."""
    with transaction.atomic():
        head = AuditHead.objects.select_for_update().get(pk=1)
        fields: dict[str, Any] = {
            "seq": head.seq + 1,
            "occurred_at": _now(),
            "actor": by.ref,
            "actor_label": by.label,
            "organisation": by.organisation_id if organisation_id is None else organisation_id,
            "organisation_name": (
                by.organisation_name if organisation_name is None else organisation_name
            ),
            "subject_organisation": subject_organisation_id,
            "action": action,
            "target": target,
            "purpose": purpose,
            "outcome": str(outcome),
            "reason": reason,
            "details": _json_safe(details),
            "prev_hash": head.hash or GENESIS_HASH,
        }
        for name, value in fields.items():
            if isinstance(value, str):
                fields[name] = _text(value)
        fields["hash"] = event_hash(fields)
        event = AuditEvent.objects.create(**fields)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
        return event


def _now() -> datetime:
    # Microseconds survive both databases; the canonical form spells them out.
    return timezone.now()


def audited(action: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Run an action in one transaction; if it is refused, record the refusal and re-raise.

    The refusal is written after the action's own transaction has rolled back, so it survives.
    Call audited actions outside any other transaction (views do not wrap requests in one).
    """

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            by = kwargs.get("by")
            if not isinstance(by, Actor):
                raise TypeError(f"{fn.__qualname__} needs by=Actor(...)")
            try:
                with transaction.atomic():
                    return fn(*args, **kwargs)
            except Refused as refusal:
                record(
                    by=by,
                    action=action,
                    target=refusal.target,
                    outcome=Outcome.REFUSED,
                    reason=refusal.reason,
                )
                raise

        return wrapper

    return decorate

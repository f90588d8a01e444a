"""The retention task: crypto-shred every object past its retention deadline.

``run`` finds objects whose deadline has passed, that are not deleted and not under legal
hold, and shreds each with ``actions.crypto_shred`` in its own transaction, so one failure does
not stop the rest. The shred's audit event is the deletion certificate (what, when, under which
rule); the deletion reason, which reading the object gives back, names the deadline and rule.
Expired objects under legal hold are left alone and reported with their hold reason. A dry run
changes nothing and records nothing: it reports what would go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone
from django.utils.module_loading import import_string

from accord.audit.actor import Actor
from accord.audit.exceptions import Refused

from . import actions
from .copies import ReminderReport, send_reminders
from .deadlines import describe
from .models import VaultObject

ACTOR_NAME = "retention"


@dataclass(frozen=True)
class RetentionItem:
    """One expired object, as the report names it."""

    object_id: str
    name: str
    kind: str
    organisation_name: str
    deadline: datetime
    rule: str
    hold_reason: str = ""

    @classmethod
    def of(cls, obj: VaultObject) -> RetentionItem:
        assert obj.retention_deadline is not None
        return cls(
            object_id=str(obj.id),
            name=obj.name,
            kind=obj.kind,
            organisation_name=obj.organisation.name,
            deadline=obj.retention_deadline,
            rule=obj.retention_rule,
            hold_reason=obj.legal_hold_reason,
        )

    def __str__(self) -> str:
        return (
            f"“{self.name}” ({self.kind} {self.object_id}) of {self.organisation_name}, "
            f"due {describe(self.deadline)} under “{self.rule or 'no recorded rule'}”"
        )


@dataclass
class RetentionReport:
    now: datetime
    dry_run: bool
    deleted: list[RetentionItem] = field(default_factory=list)  # or, in a dry run, would be
    held: list[RetentionItem] = field(default_factory=list)
    failed: list[tuple[RetentionItem, str]] = field(default_factory=list)
    reminders: ReminderReport | None = None  # copies held outside Accord (not in a dry run)
    # Derived results destroyed because data they were made from has gone (not in a dry run).
    withdrawn: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


# Derived data goes when a source goes (DESIGN.md): after deleting what is past its deadline,
# each of these destroys the results made from data that is now deleted. Named by path, so the
# vault needs nothing of the apps that make derived data; each takes ``by=`` and returns a count.
DERIVED_SWEEPS = ("accord.linkage.actions.withdraw_stale",)


def deletion_reason(obj: VaultObject) -> str:
    """Why retention deleted ``obj``: its deadline and the rule that set it."""
    assert obj.retention_deadline is not None
    return (
        f"its retention deadline of {describe(obj.retention_deadline)} passed, under the rule "
        f"“{obj.retention_rule or 'no recorded rule'}”"
    )


def expired(now: datetime) -> list[VaultObject]:
    """Objects past their deadline and not yet deleted, held or not, soonest deadline first."""
    return list(
        VaultObject.objects.select_related("organisation")
        .filter(deleted_at__isnull=True, retention_deadline__lte=now)
        .order_by("retention_deadline", "id")
    )


def run(
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> RetentionReport:
    """Shred every expired, unheld object (or, with ``dry_run``, only say which would go)."""
    now = now or timezone.now()
    report = RetentionReport(now=now, dry_run=dry_run)
    actor = Actor.task(ACTOR_NAME)
    due = expired(now)
    total = len(due)
    if progress:
        progress(0, total)
    for done, obj in enumerate(due, start=1):
        item = RetentionItem.of(obj)
        if obj.is_held:
            report.held.append(item)
        elif dry_run:
            report.deleted.append(item)
        else:
            _shred(actor, obj, item, report)
        if progress:
            progress(done, total)
    if not dry_run:
        report.reminders = send_reminders(now=now)
        for path in DERIVED_SWEEPS:
            report.withdrawn += import_string(path)(by=actor)
    return report


def _shred(actor: Actor, obj: VaultObject, item: RetentionItem, report: RetentionReport) -> None:
    try:
        actions.crypto_shred(by=actor, obj=obj, reason=deletion_reason(obj))
    except Refused as refusal:
        # Held or deleted since the list was read: the refusal is already in the audit log.
        now = VaultObject.objects.select_related("organisation").get(pk=obj.pk)
        if now.is_held:
            report.held.append(RetentionItem.of(now))
        elif now.deleted_at is None:
            report.failed.append((item, refusal.reason))
    except Exception as exc:  # one object's failure must not stop the rest
        report.failed.append((item, f"{type(exc).__name__}: {exc}"))
    else:
        report.deleted.append(item)

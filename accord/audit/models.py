"""The audit log: append-only, hash-chained events.

Events hold references as text, never foreign keys. The database refuses UPDATE and DELETE on
the event table (triggers installed by migration 0002); the hash chain makes any change that
gets past the triggers detectable.
"""

from django.db import models

from .enums import Outcome


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField()
    actor = models.CharField(max_length=200)
    actor_label = models.CharField(max_length=300, blank=True)
    organisation = models.CharField(max_length=100, blank=True, db_index=True)
    organisation_name = models.CharField(max_length=300, blank=True)
    # The organisation whose records the event concerns, when not the actor's own.
    subject_organisation = models.CharField(max_length=100, blank=True, db_index=True)
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=300, blank=True)
    purpose = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_label or self.actor}"


class AuditHead(models.Model):
    """One row: the newest event's number and hash. Writers lock it, so the chain cannot fork."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A signed statement that the chain had this head at this time."""

    seq = models.BigIntegerField()
    head_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    key_id = models.CharField(max_length=64)
    signature = models.CharField(max_length=200)

    class Meta:
        ordering = ["-seq", "-signed_at"]

    def __str__(self) -> str:
        return f"checkpoint at #{self.seq}"

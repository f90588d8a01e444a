"""Breaches as stored: one suspected personal data breach under one agreement, with its
clocks (fixed when it is reported) and each step as it is recorded. People are stored as
labels (who did it, as the audit log names them); the audit log holds their references."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.organisations.models import Organisation

from .enums import Risk, Status


class Breach(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="breaches")
    reported_by_organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="breaches_reported"
    )
    reported_by = models.CharField(max_length=200)
    reported_by_label = models.CharField(max_length=300, blank=True)
    reported_at = models.DateTimeField(default=timezone.now)
    what_happened = models.TextField()
    discovered_at = models.DateTimeField()
    occurred_at = models.DateTimeField(null=True, blank=True)
    # Codes of the agreement's data: "dataset_id" (all of it) or "dataset_id.field".
    data = models.JSONField(default=list)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REPORTED)

    # The clocks, from discovery.
    partner_hours = models.PositiveIntegerField()
    partner_hours_from = models.CharField(
        max_length=20, help_text="agreement, framework or default"
    )
    partner_deadline = models.DateTimeField()
    ico_deadline = models.DateTimeField()
    partners_notified_at = models.DateTimeField(null=True, blank=True)

    # Containment.
    contained_at = models.DateTimeField(null=True, blank=True)
    contained_by_label = models.CharField(max_length=300, blank=True)
    containment = models.TextField(blank=True)

    # Assessment.
    risk = models.CharField(max_length=20, choices=Risk.choices, blank=True)
    risk_reasoning = models.TextField(blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    assessed_by_label = models.CharField(max_length=300, blank=True)

    # The ICO: told (when, its reference) or why not.
    ico_told = models.BooleanField(null=True, blank=True)
    ico_told_at = models.DateTimeField(null=True, blank=True)
    ico_reference = models.CharField(max_length=100, blank=True)
    ico_not_told_reason = models.TextField(blank=True)
    ico_decided_at = models.DateTimeField(null=True, blank=True)
    ico_decided_by_label = models.CharField(max_length=300, blank=True)

    # The people whose data it was: told (when, how) or why not.
    subjects_told = models.BooleanField(null=True, blank=True)
    subjects_told_at = models.DateTimeField(null=True, blank=True)
    subjects_how = models.TextField(blank=True)
    subjects_not_told_reason = models.TextField(blank=True)
    subjects_decided_at = models.DateTimeField(null=True, blank=True)
    subjects_decided_by_label = models.CharField(max_length=300, blank=True)

    # Closure.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by_label = models.CharField(max_length=300, blank=True)
    lessons = models.TextField(blank=True)

    # One-click suspension of the agreement from the breach.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspended_by_label = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-reported_at"]
        indexes = [models.Index(fields=["agreement", "-reported_at"], name="breach_agreement")]

    def __str__(self) -> str:
        return f"Breach under {self.agreement_id} reported {self.reported_at:%Y-%m-%d}"

    @property
    def reference(self) -> str:
        """A short reference people can quote: BR- and the first eight of the id."""
        return f"BR-{str(self.pk)[:8].upper()}"

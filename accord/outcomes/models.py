"""Outcome reports as stored: what a recipient reported back under one of an agreement's
report-back commitments, for one due date."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.organisations.models import Organisation


class OutcomeReport(models.Model):
    """A recipient's report of the outcomes it committed to in an agreement's ``report_back``.

    ``figures`` is a list of ``{"measure": str, "value": int, "note": str}``. ``due_on`` is the
    due date (of the commitment's schedule) that the report answers."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="outcome_reports"
    )
    commitment_index = models.PositiveIntegerField(help_text="Index in the report_back list")
    commitment = models.CharField(max_length=500, help_text="The commitment's 'what', copied")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="outcome_reports"
    )
    reported_to = models.ManyToManyField(Organisation, related_name="+")
    due_on = models.DateField()
    period_start = models.DateField()
    period_end = models.DateField()
    figures = models.JSONField(default=list)
    narrative = models.TextField(blank=True)
    submitted_by = models.CharField(max_length=200)
    submitted_by_label = models.CharField(max_length=300, blank=True)
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(
                fields=["agreement", "commitment_index", "organisation", "due_on"],
                name="outcome_report_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.commitment} ({self.organisation_id}, due {self.due_on})"

"""Notices to organisations: what happened to data they are party to, and what they must do.

A notice belongs to an organisation and is shown to its members on the notifications page;
members holding the roles it is addressed to also get it by email. Notices hold no shared data,
only descriptions and a link."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation


class Topic(models.TextChoices):
    DATA_DELETED = "data_deleted", "Data deleted"
    DATA_CORRECTED = "data_corrected", "Data corrected"
    DELETION_ATTESTATION_DUE = "attestation_due", "Deletion of a copy due"
    DELETION_ATTESTATION_OVERDUE = "attestation_overdue", "Deletion of a copy overdue"
    AGREEMENT_STEP = "agreement_step", "Agreement step"
    AGREEMENT_REVIEW_DUE = "agreement_review_due", "Agreement review due"
    AGREEMENT_REVIEW_OVERDUE = "agreement_review_overdue", "Agreement review overdue"
    AGREEMENT_EXPIRED = "agreement_expired", "Agreement expired"
    DATA_REQUEST = "data_request", "Data request"
    SUBMISSION = "submission", "Return checked"
    RETURN_DUE = "return_due", "Return due"
    RETURN_LATE = "return_late", "Return late"
    RELEASE_PUBLISHED = "release_published", "New data published to you"
    EXTRACT_READY = "extract_ready", "Extract ready"
    RELEASE_OVERDUE = "release_overdue", "Release overdue"
    OUTPUT_RETURNED = "output_returned", "Outputs returned to you"
    OUTPUT_OVERDUE = "output_overdue", "Outputs overdue"
    OUTCOMES_REPORTED = "outcomes_reported", "Outcomes reported to you"
    OUTCOMES_OVERDUE = "outcomes_overdue", "Outcome report overdue"
    BREACH_REPORTED = "breach_reported", "Suspected breach reported"
    BREACH_OVERDUE = "breach_overdue", "Breach step overdue"


class Notification(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="notifications"
    )
    topic = models.CharField(max_length=40, choices=Topic.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="A path on this site")
    created_at = models.DateTimeField(default=timezone.now)
    emailed_to = models.PositiveIntegerField(default=0, help_text="How many members were emailed")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="notice_org_new")]

    def __str__(self) -> str:
        return f"{self.subject} ({self.organisation_id})"


class SentReminder(models.Model):
    """A reminder that has been sent, under a key naming what it was about (for example an
    agreement, its review date and whether the review was due or overdue), so a sweep run every
    day sends each reminder once. The key holds references only, never personal data."""

    key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key

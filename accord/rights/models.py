"""What an erasure or a correction did, as evidence: the objects rewritten (old and new), those
destroyed, and each recipient told to erase or correct the person in its copy, with whether it
has confirmed. Never the person's identifiers or values."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation


class ChangeKind(models.TextChoices):
    ERASURE = "erasure", "Erasure"
    RECTIFICATION = "rectification", "Correction"
    REPLACEMENT = "replacement", "Correction by a new return"


class SubjectChange(models.Model):
    """One erasure or correction of one person's data, everywhere its controller holds it; or
    the records a new return corrected, where extracts had carried them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    made_by = models.CharField(max_length=200)  # actor reference, as in the audit log
    made_by_label = models.CharField(max_length=300)
    made_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField()
    method = models.CharField(max_length=100)  # how the person was found, not who
    rows = models.PositiveIntegerField(default=0)  # rows removed or corrected in all
    # For a correction: the fields changed (names only, never values).
    fields = models.JSONField(default=list, blank=True)
    # [{"what", "old", "new", "rows"}]: objects rewritten under new keys.
    rewritten = models.JSONField(default=list)
    # [{"what", "id"}]: objects destroyed whole (uploads, extract files, derived results).
    destroyed = models.JSONField(default=list)

    class Meta:
        ordering = ["-made_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} by {self.organisation}"


class SubjectChangeNotice(models.Model):
    """A recipient told to erase or correct the person in the copy it holds."""

    change = models.ForeignKey(SubjectChange, on_delete=models.CASCADE, related_name="notices")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    how = models.CharField(max_length=40)  # "Extract", "Linkage"
    reference = models.CharField(max_length=300)  # what it holds: the extract or the job
    notified_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["notified_at", "id"]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.reference}"

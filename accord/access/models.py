"""What active agreements grant, in a form the decision point can read in one indexed query.

A ``Grant`` is one recipient's share of one flow of an agreement, for one dataset: which fields,
for which purposes, by which actions, which rows. Grants are written from the agreement's signed
document when the agreement becomes active (``grants.write_grants``, in the same transaction)
and never edited. They carry no status of their own: the decision point reads the agreement's
status and dates live with every decision, so suspending, ending or superseding an agreement
takes effect on the next decision, with no cache to go stale.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accord.agreements.models import Agreement
from accord.organisations.models import Organisation


class Grant(models.Model):
    # Every grant of personal data comes from an agreement. The one exception, from issue 6 and
    # ADR 0010: a collection of non-personal data (care home status) whose contributor and
    # owner are members of the collection's framework; then ``framework`` is set instead.
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="grants", null=True, blank=True
    )
    framework = models.ForeignKey(
        "agreements.Framework",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    flow_id = models.CharField(max_length=100)
    dataset_id = models.CharField(max_length=100)
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    recipient = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    # The data standard's slug the dataset follows ("" when the dataset names no standard,
    # which no vault object matches).
    dataset = models.CharField(max_length=100)
    dataset_name = models.CharField(max_length=200, blank=True)
    # [{"name", "transformation", "data_type", "identifier_type", "personal"}, ...]
    fields = models.JSONField(default=list)
    # [[purpose id, title], ...]
    purposes = models.JSONField(default=list)
    # The flow's actions: "view", "extract", "aggregate_only", "link".
    actions = models.JSONField(default=list)
    # {"column": ..., "values": [...]} with the recipient's area already resolved, or null.
    row_filter = models.JSONField(null=True, blank=True)
    # The ids of the flow's purposes for which the National Data Opt-out (and objection lists)
    # apply: every purpose but individual (direct) care, when the agreement says the opt-out
    # applies (``rights_handling.national_data_opt_out_applied``); empty when it does not.
    opt_out_purposes = models.JSONField(default=list, blank=True)
    # [[code, label], ...]
    prohibited_uses = models.JSONField(default=list)
    frequency = models.CharField(max_length=40, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    review_on = models.DateField(null=True, blank=True)
    # The ISO 8601 retention period the agreement sets for the recipient's copy, if any.
    retention = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "flow_id", "dataset_id", "recipient"], name="grant_once"
            ),
            models.CheckConstraint(
                condition=models.Q(agreement__isnull=False) | models.Q(framework__isnull=False),
                name="grant_has_a_basis",
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "dataset", "provider"], name="grant_lookup"),
            models.Index(fields=["provider", "dataset"], name="grant_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset} from {self.provider_id} to {self.recipient_id} ({self.flow_id})"


class Release(models.Model):
    """One publication of a dataset by its provider to every recipient a flow names (a weekly
    file of test results to every council, say). The data is stored once, in the vault; each
    recipient reads only its own slice, as its grant's row filter says."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="releases")
    flow_id = models.CharField(max_length=100)
    dataset_id = models.CharField(max_length=100)
    dataset = models.CharField(max_length=100)  # the standard's slug
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(max_length=200)
    caveats = models.TextField(blank=True)
    data = models.ForeignKey(
        "vault.VaultObject", on_delete=models.PROTECT, related_name="+", null=True
    )
    rows = models.PositiveIntegerField(default=0)
    published_by = models.CharField(max_length=200)
    published_by_label = models.CharField(max_length=300, blank=True)
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["provider", "-published_at"], name="release_provider")]

    def __str__(self) -> str:
        return self.label


class ReleaseRecipient(models.Model):
    """A recipient of a release: told when it was published, and when it first downloaded its
    slice (its receipt)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="recipients")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    rows = models.PositiveIntegerField(default=0)  # the rows in its slice
    notified_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    received_by_label = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "organisation"], name="release_recipient_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id} receives {self.release_id}"


class ExtractState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    BUILDING = "building", "Being built"
    READY = "ready", "Ready to download"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class ExtractFormat(models.TextChoices):
    CSV = "csv", "CSV (zipped, with a data package description)"
    XLSX = "xlsx", "Excel workbook (XLSX)"
    PARQUET = "parquet", "Parquet"


class Extract(models.Model):
    """Record-level data released to a recipient for a purpose, with the obligations of the
    decision that permitted it applied. Built by a background task; kept in the vault (as the
    provider's data) until its retention deadline; its copies outside Accord are tracked from
    the first download (``vault.ExtractCopy``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_label = models.CharField(max_length=300, blank=True)
    provider = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey("vault.VaultObject", on_delete=models.PROTECT, related_name="+")
    collection = models.ForeignKey(
        "submissions.Collection",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    release = models.ForeignKey(
        Release, on_delete=models.PROTECT, related_name="extracts", null=True, blank=True
    )
    name = models.CharField(max_length=200)
    purpose = models.CharField(max_length=500)
    format = models.CharField(max_length=10, choices=ExtractFormat.choices)
    state = models.CharField(
        max_length=20, choices=ExtractState.choices, default=ExtractState.QUEUED
    )
    message = models.TextField(blank=True)
    progress = models.ForeignKey(
        "tasks.TaskProgress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    data = models.ForeignKey(
        "vault.VaultObject", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    rows = models.PositiveIntegerField(null=True, blank=True)
    fields = models.JSONField(default=list, blank=True)
    # What was done to it: {"pseudonymised": [...], "generalised": [[field, level]], ...}
    applied = models.JSONField(default=dict, blank=True)
    caveats = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    built_at = models.DateTimeField(null=True, blank=True)
    first_downloaded_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "-created_at"], name="extract_recipient")]

    def __str__(self) -> str:
        return self.name

    @property
    def filename(self) -> str:
        suffix = "zip" if self.format == ExtractFormat.CSV else self.format
        return f"extract-{self.id}.{suffix}"

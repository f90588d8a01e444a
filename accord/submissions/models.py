"""Collections and the submissions made to them.

A collection is run by one organisation, for one data standard, on a schedule, from the
organisations expected to contribute. A submission is one upload for a collection, organisation
and period; the upload itself and everything read from it live encrypted in the vault, so these
rows hold only references, counts and states. The compiled dataset is derived data in the
vault, recording every accepted submission it was made from.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import models

from accord.agreements.models import Agreement, Framework
from accord.organisations.models import Organisation
from accord.tasks.models import TaskProgress
from accord.vault.models import VaultObject


class Collection(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    standard_slug = models.CharField(max_length=80)
    standard_version = models.CharField(max_length=20)
    schedule = models.CharField(max_length=10)  # periods.Schedule
    deadline_days = models.PositiveSmallIntegerField(default=0)
    deadline_time = models.TimeField(default=dt.time(12, 0))
    # "reject": any invalid row rejects the file; "set_aside": valid rows are accepted and the
    # invalid ones are left out, listed in the report for correction.
    invalid_rows = models.CharField(max_length=10, default="reject")
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def standard_ref(self) -> str:
        return f"{self.standard_slug}@{self.standard_version}"


class Contributor(models.Model):
    """An organisation expected to send returns, and the agreement flow that covers them."""

    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="contributors"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flow_id = models.CharField(max_length=100, blank=True)
    added_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["collection", "organisation"], name="contributor_once")
        ]
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation_id} to {self.collection_id}"


class Submission(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    collection = models.ForeignKey(Collection, on_delete=models.PROTECT, related_name="submissions")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    period = models.DateField()
    state = models.CharField(max_length=12, default="received")  # transitions.State
    via = models.CharField(max_length=10, default="web")  # web, api, cli
    # The agreement flow that covered it when received (none: non-personal data under the
    # collection's framework).
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    flow_id = models.CharField(max_length=100, blank=True)
    filename = models.CharField(max_length=255)
    received_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.CharField(max_length=200)
    # The upload as received, and (once accepted) its rows as clean typed Parquet.
    upload = models.ForeignKey(VaultObject, on_delete=models.PROTECT, related_name="+")
    rows_object = models.ForeignKey(
        VaultObject, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    problems_object = models.ForeignKey(
        VaultObject, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(default=0)
    # The report without values from the file: counts by rule and column quality.
    summary = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)  # why it was rejected, in plain English
    caveats = models.TextField(blank=True)  # the submitter's own
    automatic_caveats = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The check's progress, shown on the page and the command line while it runs.
    progress = models.ForeignKey(
        TaskProgress, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["collection", "organisation", "period"], name="submission_slot")
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"


class CompiledDataset(models.Model):
    """One compilation of a collection: the latest accepted return of every contributor for
    every period, with row provenance. Only the newest is kept; older ones are destroyed."""

    collection = models.ForeignKey(
        Collection, on_delete=models.PROTECT, related_name="compilations"
    )
    number = models.PositiveIntegerField()
    data = models.ForeignKey(VaultObject, on_delete=models.PROTECT, related_name="+")
    rows = models.PositiveBigIntegerField(default=0)
    submissions = models.ManyToManyField(Submission, related_name="compilations")
    caveats = models.JSONField(default=list, blank=True)  # [{organisation, period, caveat}]
    built_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["collection", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "number"], name="compilation_once")
        ]

    def __str__(self) -> str:
        return f"{self.collection_id} #{self.number}"

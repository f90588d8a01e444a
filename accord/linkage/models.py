"""Linkage jobs: records matched across datasets into a linked dataset.

A ``LinkageJob`` names the datasets to link (collections the organisation may use), the entity
(person or property), the purpose it links them for, and the comparison model (a vetted
template, perhaps adjusted). Each run reads the sources through the decision point, links them
(``engine.link``), and stores the result in the vault as derived data of the sources: the
linked dataset (which record of which return formed each entity, by which stage, with what
probability), the borderline pairs for clerical review, and for the single view of
vulnerability the one-row-per-household view. The run's figures are kept on the job for the
quality report; no record value is ever kept in the database.

A ``ClericalDecision`` is an analyst's verdict on a pair: confirmed or rejected. Decisions are
kept on the job and feed every later run.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation


class Entity(models.TextChoices):
    PERSON = "person", "People"
    PROPERTY = "property", "Properties"


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Linked"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class LinkageJob(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="linkage_jobs"
    )
    name = models.CharField(max_length=200)
    entity = models.CharField(max_length=20, choices=Entity.choices)
    purpose = models.CharField(max_length=500)
    # The ready-made job this is, if any ("single-view"), which shapes the result.
    recipe = models.CharField(max_length=40, blank=True)
    # [{"ref": "collection:<uuid>", "name": ..., "standard": ...}, ...] in the order chosen.
    sources = models.JSONField(default=list)
    # The comparison model (engine.LinkModel.to_json()).
    model = models.JSONField(default=dict)
    # Link on keyed hashes of NHS numbers and UPRNs only: no raw identifier is compared.
    keyed = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_by_label = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    state = models.CharField(max_length=20, choices=JobState.choices, default=JobState.QUEUED)
    message = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)
    progress = models.ForeignKey(
        "tasks.TaskProgress", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The quality report's figures (engine.LinkResult.stats plus timings); no record values.
    stats = models.JSONField(default=dict, blank=True)
    # The agreements the last run read its sources under: [{"id": ..., "title": ...}].
    agreements = models.JSONField(default=list, blank=True)
    linked = models.ForeignKey(
        "vault.VaultObject", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    borderline = models.ForeignKey(
        "vault.VaultObject", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    view = models.ForeignKey(
        "vault.VaultObject", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.REFUSED, JobState.FAILED)


class ClericalDecision(models.Model):
    job = models.ForeignKey(LinkageJob, on_delete=models.CASCADE, related_name="decisions")
    # Records are named by source and "<submission>:<row>", never by their values.
    source_l = models.CharField(max_length=80)
    record_l = models.CharField(max_length=120)
    source_r = models.CharField(max_length=80)
    record_r = models.CharField(max_length=120)
    is_match = models.BooleanField()
    probability = models.FloatField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by_label = models.CharField(max_length=300)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "source_l", "record_l", "source_r", "record_r"],
                name="linkage_one_decision_per_pair",
            )
        ]

    def __str__(self) -> str:
        verdict = "match" if self.is_match else "not a match"
        return f"{self.record_l} and {self.record_r}: {verdict}"

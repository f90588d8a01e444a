"""Outputs: disclosure-controlled aggregates made from a collection, returned to everyone whose
data they were made from.

An ``OutputDefinition`` says which vetted recipe (``recipes``) makes the output from which
collection, under which disclosure control profile, and who besides the contributors sees it
(the combined authority's local authorities and ICB, say). Each compilation of the collection
makes a new ``Output``: the protected table, stored encrypted in the vault as the collection
owner's data, with the rules it was protected by, the caveats of the returns it was made from
and the organisations whose data it was made from. Reading one is a decision like any other
(``queries.decide_output``); each read and download is logged as a query (``OutputQuery``)
and limited per organisation per day.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation


class Profile(models.TextChoices):
    STANDARD = "standard", "Standard: counts of 1 to 7 people suppressed, others rounded to 5"
    STRICT = "strict", "Strict: counts under 10 suppressed (zeros too), masked across rows"
    CELL_KEY = "cell_key", "Cell key perturbation (record-level data only)"


class OutputDefinition(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    collection = models.ForeignKey(
        "submissions.Collection", on_delete=models.PROTECT, related_name="output_definitions"
    )
    recipe = models.CharField(max_length=80)
    profile = models.CharField(max_length=20, choices=Profile.choices, default=Profile.STANDARD)
    # Organisational measures (homes in outbreak, beds) are published unchanged unless this is
    # set, as an agreement may ask.
    control_organisational = models.BooleanField(default=False)
    # Who sees it besides the collection's owner and the organisations whose data it holds.
    audience = models.ManyToManyField(Organisation, related_name="+", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def dataset(self) -> str:
        """The dataset name its outputs carry in the vault and in grants."""
        return f"output:{self.slug}"


class OutputState(models.TextChoices):
    QUEUED = "queued", "Waiting to start"
    BUILDING = "building", "Being made"
    READY = "ready", "Ready"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class Output(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    definition = models.ForeignKey(
        OutputDefinition, on_delete=models.PROTECT, related_name="outputs"
    )
    number = models.PositiveIntegerField()
    compilation = models.ForeignKey(
        "submissions.CompiledDataset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    state = models.CharField(max_length=20, choices=OutputState.choices, default=OutputState.QUEUED)
    message = models.TextField(blank=True)
    progress = models.ForeignKey(
        "tasks.TaskProgress", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    data = models.ForeignKey(
        "vault.VaultObject", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # The organisations whose returns it was made from.
    contributors = models.ManyToManyField(Organisation, related_name="+", blank=True)
    # [{"organisation", "period", "caveat"}] from the returns it was made from.
    caveats = models.JSONField(default=list, blank=True)
    # The disclosure control rules and their parameters, as applied.
    rules = models.JSONField(default=dict, blank=True)
    # {"cells": n, "suppressed": n, "rounded": n, "perturbed": n}
    summary = models.JSONField(default=dict, blank=True)
    periods_from = models.DateField(null=True, blank=True)
    periods_to = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    made_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="output_number_once")
        ]

    def __str__(self) -> str:
        return f"{self.definition.name} ({self.number})"


class OutputQuery(models.Model):
    """One read of an output by an organisation (viewing a dashboard, downloading a table), or
    one flexible table asked of a collection (``collection`` and ``breakdowns``). Logged per
    recipient (issue 8) and counted against its daily limit."""

    output = models.ForeignKey(
        Output, on_delete=models.CASCADE, related_name="queries", null=True, blank=True
    )
    collection = models.ForeignKey(
        "submissions.Collection",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
    )
    breakdowns = models.JSONField(default=list, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    by_label = models.CharField(max_length=300)
    kind = models.CharField(max_length=20)  # view, csv, xlsx, api, returned, flexible
    cells = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["organisation", "-at"], name="output_query_by_org")]

    def __str__(self) -> str:
        return f"{self.kind} of {self.output_id or self.collection_id} by {self.organisation_id}"

"""Opt-out lists: the National Data Opt-out and organisations' own objection lists.

The NHS numbers themselves are never in the database: each version of a list is a vault object
(Parquet, one column ``nhs_number``, normalised and unique) owned by the list's organisation;
the database holds only its name, kind, owner, size and when it was last replaced.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from accord.organisations.models import Organisation

from .enums import ListKind


class OptOutList(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=40, choices=ListKind.choices)
    owner = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    description = models.TextField(blank=True)
    # The current version's vault object (None until the first upload; crypto-shredded when
    # replaced).
    data = models.ForeignKey(
        "vault.VaultObject", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    version = models.PositiveIntegerField(default=0)
    count = models.PositiveIntegerField(default=0)  # people on the current version
    updated_at = models.DateTimeField(null=True, blank=True)
    updated_by_label = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["kind", "owner"], name="optout_kind_owner")]

    def __str__(self) -> str:
        return self.name

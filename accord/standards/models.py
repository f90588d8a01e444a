"""Standard versions published by platform staff (bundled versions live in data files)."""

from __future__ import annotations

from django.db import models


class PublishedStandard(models.Model):
    """One version of a standard that platform staff published. Versions never change: a
    correction is a new version."""

    slug = models.SlugField(max_length=100)
    version = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    descriptor = models.JSONField()
    published_at = models.DateTimeField(auto_now_add=True)
    published_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="standard_version_once")
        ]
        ordering = ["slug", "published_at"]

    def __str__(self) -> str:
        return f"{self.slug}@{self.version}"

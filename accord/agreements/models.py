"""Agreements as stored: the canonical document on each version (ADR 0006), plus the rows that
are queried and enforced — status, parties as organisations, signatures."""

from __future__ import annotations

import uuid

from django.db import models

from accord.organisations.models import Organisation


class Framework(models.Model):
    """A pre-agreed framework (like the Wales Accord): member organisations, clauses common to
    every agreement under it, and the kinds of agreement it has templates for."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    # frameworks.Clauses as JSON: security, breach hours, default retention, review period...
    clauses = models.JSONField(default=dict)
    template_types = models.JSONField(default=list)  # agreement types it has templates for
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FrameworkMember(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="members")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "organisation"], name="framework_member_once"
            )
        ]
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation_id} in {self.framework_id}"


class Agreement(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=300)
    agreement_type = models.CharField(max_length=40)
    status = models.CharField(max_length=20, default="draft")  # lifecycle.Status
    drafted_by = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="agreements"
    )
    # An amendment is a new agreement record that supersedes the one it amends once in force.
    amends = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="amendments"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def days_to_active(self) -> int | None:
        """Whole days from the first draft to coming into force (None until active)."""
        if self.activated_at is None:
            return None
        return (self.activated_at - self.created_at).days

    @property
    def current(self) -> AgreementVersion:
        return self.versions.order_by("-number").first()  # type: ignore[return-value]


class AgreementVersion(models.Model):
    """One version's document. A draft's document changes until it is submitted; from then on
    only signatures are added to it, and an amendment is a new version."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    digest = models.CharField(max_length=64)  # SHA-256 of the canonical JSON
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "number"], name="agreement_version_once")
        ]
        ordering = ["agreement", "number"]

    def __str__(self) -> str:
        return f"{self.agreement_id} v{self.number}"


class AgreementParty(models.Model):
    """An organisation that is a party, under the id the document gives it."""

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="parties")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    party_id = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "organisation"], name="agreement_party_organisation_once"
            ),
            models.UniqueConstraint(
                fields=["agreement", "party_id"], name="agreement_party_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.party_id} in {self.agreement_id}"


class Signature(models.Model):
    version = models.ForeignKey(
        AgreementVersion, on_delete=models.CASCADE, related_name="signatures"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=40)
    signed_by = models.CharField(max_length=200)
    signed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "organisation", "role"], name="signature_once_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.organisation_id} on {self.version_id}"

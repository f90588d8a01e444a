"""Vault objects: metadata only. The data is in the blob store, the keys in the key store."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.utils import timezone

from accord.access.enums import ResourceKind
from accord.organisations.models import Organisation


class VaultObject(models.Model):
    """One encrypted object. Holds no data and no key: only what describes and checks them.

    The organisation is a foreign key with PROTECT (so ``organisation_id`` is the controller's
    id, and an organisation that holds data, or held data that was shredded, cannot be deleted
    out from under its records); the access layer uses it as text in ``Resource``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="vault_objects"
    )
    kind = models.CharField(max_length=40, choices=ResourceKind.choices)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    dataset = models.CharField(
        max_length=100,
        blank=True,
        help_text=(
            "The data standard (slug) its records follow, which agreements name to grant "
            "access; empty for objects no agreement shares (problem reports, files as sent)"
        ),
    )
    version = models.PositiveIntegerField(default=1)
    size = models.PositiveBigIntegerField(help_text="Plaintext size in bytes")
    chunk_size = models.PositiveIntegerField()
    sha256 = models.CharField("SHA-256 of the plaintext", max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    received_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "When the data was first received, if before it was stored here (existing holdings "
            "moved into Accord); retention counts from it. Empty means the same as created_at."
        ),
    )
    created_by = models.CharField(max_length=200, help_text="Actor reference, as in the audit log")
    retention_deadline = models.DateTimeField(null=True, blank=True)
    retention_rule = models.TextField(
        blank=True,
        help_text="The rule that set the deadline, e.g. “P1Y: standard default”",
    )
    legal_hold_reason = models.TextField(
        blank=True, help_text="Set while a legal hold blocks deletion; empty otherwise"
    )
    legal_hold_at = models.DateTimeField(null=True, blank=True)
    legal_hold_by = models.CharField(max_length=200, blank=True)
    sources = models.ManyToManyField(
        "self",
        through="VaultObjectSource",
        through_fields=("derived", "source"),
        symmetrical=False,
        related_name="derived_objects",
        blank=True,
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.CharField(max_length=200, blank=True)
    deletion_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["organisation", "kind"], name="vault_object_org_kind"),
            models.Index(fields=["retention_deadline"], name="vault_object_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"

    @property
    def blob_key(self) -> str:
        return f"{self.id}.v{self.version}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_held(self) -> bool:
        return self.legal_hold_at is not None


class VaultObjectSource(models.Model):
    """A derived object was made from this source object. Kept after either is shredded: the
    rows hold no data, and they show where a deadline came from."""

    derived = models.ForeignKey(VaultObject, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(VaultObject, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["derived", "source"], name="vault_source_once")
        ]

    def __str__(self) -> str:
        return f"{self.derived_id} from {self.source_id}"


class DeletionCertificate(models.Model):
    """Where to find the certificate of one crypto-shredding, and whom it concerns.

    The certificate itself is the ``vault.object.shredded`` audit event (hash-chained, covered
    by signed checkpoints); this row points at it by sequence number and lists the organisations
    concerned — the controller, and the controllers of every object it was derived from — so
    each can find it. It holds no data."""

    object = models.OneToOneField(
        VaultObject, on_delete=models.PROTECT, related_name="deletion_certificate"
    )
    audit_seq = models.BigIntegerField(unique=True)
    deleted_at = models.DateTimeField()
    organisations = models.ManyToManyField(Organisation, related_name="deletion_certificates")

    class Meta:
        ordering = ["-deleted_at"]

    def __str__(self) -> str:
        return f"Deletion certificate for {self.object_id} (audit event {self.audit_seq})"


class ExtractCopy(models.Model):
    """A copy of a vault object released outside Accord (an extract a recipient downloaded),
    which the recipient must delete by ``delete_by`` and say so (attest).

    Accord cannot reach into the recipient's systems, so deletion of the copy is recorded by the
    recipient's attestation in the audit chain; before the deadline the recipient is reminded,
    after it the copy is flagged overdue to both the recipient and the controller."""

    object = models.ForeignKey(VaultObject, on_delete=models.PROTECT, related_name="copies")
    recipient = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="extract_copies"
    )
    released_at = models.DateTimeField(default=timezone.now)
    released_by = models.CharField(max_length=200)
    delete_by = models.DateTimeField()
    attested_at = models.DateTimeField(null=True, blank=True)
    attested_by = models.CharField(max_length=200, blank=True)
    attested_by_label = models.CharField(max_length=300, blank=True)
    statement = models.TextField(blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["delete_by", "id"]
        indexes = [models.Index(fields=["recipient", "delete_by"], name="copy_recipient_due")]

    def __str__(self) -> str:
        return f"Copy of {self.object_id} held by {self.recipient_id}"

    @property
    def is_attested(self) -> bool:
        return self.attested_at is not None

    def is_overdue(self, now: datetime | None = None) -> bool:
        return not self.is_attested and self.delete_by <= (now or timezone.now())

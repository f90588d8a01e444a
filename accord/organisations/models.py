"""Organisations, the people who belong to them, their roles and invitations."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accord.standards.identifiers import (
    validate_gss_code,
    validate_ico_registration,
    validate_ods_code,
)

from .enums import PERSONAL_DATA_ROLES, Role, Sector


class User(AbstractUser):
    """A person. Signs in with their email address, which is also their username."""

    def requires_two_factor(self) -> bool:
        if self.is_staff or self.is_superuser:
            return True
        return any(
            set(m.roles) & PERSONAL_DATA_ROLES
            for m in self.memberships.filter(is_active=True, organisation__is_active=True)
        )

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.email or self.username


class Organisation(models.Model):
    name = models.CharField(max_length=200, unique=True)
    sector = models.CharField(max_length=40, choices=Sector.choices)
    gss_code = models.CharField("GSS code", max_length=9, blank=True)
    ods_code = models.CharField("ODS code", max_length=6, blank=True)
    ico_registration = models.CharField("ICO registration number", max_length=8, blank=True)
    is_active = models.BooleanField(default=True)
    is_demo = models.BooleanField(default=False, help_text="Synthetic organisation in the demo")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["gss_code"],
                condition=~models.Q(gss_code=""),
                name="organisation_gss_code_unique",
            ),
            models.UniqueConstraint(
                fields=["ods_code"],
                condition=~models.Q(ods_code=""),
                name="organisation_ods_code_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    IDENTIFIER_FIELDS = ("gss_code", "ods_code", "ico_registration")

    def clean_fields(self, exclude: Any = None) -> None:
        # Spaces and lower case are how people type codes; take them out before the column
        # length is checked, so 'E07 000 110' is accepted as E07000110.
        for field in self.IDENTIFIER_FIELDS:
            setattr(self, field, re.sub(r"\s+", "", getattr(self, field) or "").upper())
        super().clean_fields(exclude=exclude)

    def clean(self) -> None:
        errors: dict[str, ValidationError] = {}
        for field, check in (
            ("gss_code", lambda v: validate_gss_code(v, sector=self.sector)),
            ("ods_code", validate_ods_code),
            ("ico_registration", validate_ico_registration),
        ):
            value = getattr(self, field)
            if value:
                try:
                    setattr(self, field, check(value))
                except ValidationError as error:
                    errors[field] = error
        if errors:
            raise ValidationError(errors)


def role_labels(roles: list[str]) -> list[str]:
    """Plain-English role names, in the roles' usual order."""
    return [Role(r).label for r in Role.values if r in roles]


def validate_roles(value: object) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one role.")
    unknown = [r for r in value if r not in Role.values]
    if unknown:
        raise ValidationError(f"Unknown role: {', '.join(map(str, unknown))}.")


class Membership(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    roles = models.JSONField(default=list, validators=[validate_roles])
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["organisation__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_each")
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"

    def has_role(self, *roles: str) -> bool:
        return bool(set(self.roles) & set(roles))

    @property
    def role_labels(self) -> list[str]:
        return role_labels(self.roles)


class Invitation(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    roles = models.JSONField(default=list, validators=[validate_roles])
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organisation}"

    @property
    def role_labels(self) -> list[str]:
        return role_labels(self.roles)

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.revoked_at is None
            and self.expires_at > timezone.now()
        )


class ApiToken(models.Model):
    """A credential for the JSON API. It acts for one person in one organisation, with that
    membership's roles as they are at each request. Only the SHA-256 hash of the secret is
    kept; the short prefix is not secret and lets people tell their tokens apart."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Scope. A token may use shared data only under these agreements (none chosen: any the
    # organisation is party to) and only for these access actions (none chosen: any).
    agreements = models.ManyToManyField("agreements.Agreement", blank=True, related_name="+")
    actions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"API token {self.name} ({self.prefix})"

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"

"""Platform staff manage organisations in Django admin. Every change is audited in the same
transaction as the change (admin's change views run in one transaction)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Model
from django.http import HttpRequest

from accord.audit.actions import record

from .actors import actor_for
from .models import Invitation, Membership, Organisation, User


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        assert isinstance(request.user, User)
        record(
            by=actor_for(request.user),
            action=f"admin.{obj._meta.model_name}.{'changed' if change else 'created'}",
            target=f"{obj._meta.model_name}:{obj.pk}",
            details={"fields": sorted(form.changed_data)},
            subject_organisation_id=_organisation_of(obj),
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        assert isinstance(request.user, User)
        record(
            by=actor_for(request.user),
            action=f"admin.{obj._meta.model_name}.deleted",
            target=f"{obj._meta.model_name}:{obj.pk}",
            subject_organisation_id=_organisation_of(obj),
        )
        super().delete_model(request, obj)


def _organisation_of(obj: Model) -> str:
    if isinstance(obj, Organisation):
        return str(obj.pk)
    organisation_id = getattr(obj, "organisation_id", None)
    return str(organisation_id) if organisation_id else ""


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "roles", "is_active", "joined_at")
    autocomplete_fields = ("user",)


@admin.register(Organisation)
class OrganisationAdmin(AuditedAdmin):
    list_display = ("name", "sector", "gss_code", "ods_code", "is_active", "is_demo")
    list_filter = ("sector", "is_active", "is_demo")
    search_fields = ("name", "gss_code", "ods_code")
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin):
    list_display = ("user", "organisation", "roles", "is_active")
    list_filter = ("is_active", "organisation")
    search_fields = ("user__email", "organisation__name")
    autocomplete_fields = ("user", "organisation")


@admin.register(Invitation)
class InvitationAdmin(AuditedAdmin):
    list_display = ("email", "organisation", "created_at", "expires_at", "accepted_at")
    readonly_fields = ("token_hash",)
    search_fields = ("email", "organisation__name")


@admin.register(User)
class AccordUserAdmin(UserAdmin, AuditedAdmin):
    search_fields = ("email", "first_name", "last_name")

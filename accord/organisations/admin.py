"""Platform staff manage organisations in Django admin. Every change is audited in the same
transaction as the change (admin's change views run in one transaction)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

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
        _record_deleted(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # "Delete selected" on the list page.
        for obj in queryset:
            _record_deleted(request, obj)
        super().delete_queryset(request, queryset)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Rows added, changed or deleted in an inline (e.g. members on an organisation).
        super().save_formset(request, form, formset, change)
        assert isinstance(request.user, User)
        changes = [
            *((obj, "created", []) for obj in formset.new_objects),
            *((obj, "changed", fields) for obj, fields in formset.changed_objects),
        ]
        for obj, verb, fields in changes:
            record(
                by=actor_for(request.user),
                action=f"admin.{obj._meta.model_name}.{verb}",
                target=f"{obj._meta.model_name}:{obj.pk}",
                details={"fields": sorted(fields)},
                subject_organisation_id=_organisation_of(obj),
            )
        for obj in formset.deleted_objects:
            _record_deleted(request, obj)


def _record_deleted(request: HttpRequest, obj: Any) -> None:
    assert isinstance(request.user, User)
    record(
        by=actor_for(request.user),
        action=f"admin.{obj._meta.model_name}.deleted",
        target=f"{obj._meta.model_name}:{obj.pk}",
        subject_organisation_id=_organisation_of(obj),
    )


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

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        # Django's own password page saves without save_model; audit it in its transaction.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302:
                assert isinstance(request.user, User)
                record(
                    by=actor_for(request.user),
                    action="admin.user.password_set",
                    target=f"user:{id}",
                )
        return response

"""Read-only admin views of the audit log and its checkpoints.

Nobody adds, changes or deletes audit records through the admin, superusers included; the
database triggers refuse it anyway, and this keeps the buttons from being offered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .chain import HASHED_FIELDS
from .models import AuditCheckpoint, AuditEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "seq",
        "occurred_at",
        "actor_label",
        "organisation_name",
        "action",
        "target",
        "outcome",
    )
    list_filter = ("outcome",)
    search_fields = ("action", "actor_label", "actor", "target", "organisation", "reason")
    ordering = ("-seq",)
    show_full_result_count = False  # counting a large log on every page is slow
    readonly_fields = (*HASHED_FIELDS, "hash")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("seq", "signed_at", "head_hash", "key_id")
    ordering = ("-seq", "-signed_at")
    readonly_fields = ("seq", "head_hash", "signed_at", "key_id", "signature")

"""Opt-out lists as people see them: every organisation sees the national lists and its own
(names, sizes, when updated: never who is on them); a DPO of the organisation that owns a list
uploads its new version. The rules are ``accord.optouts``'s; a list of another organisation is
"page not found", the same as one that does not exist.
"""

from __future__ import annotations

import uuid
from typing import Any

from crispy_forms_gds.layout import Field
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from accord.audit.exceptions import Refused
from accord.optouts import actions, queries
from accord.optouts.enums import MANAGING_ROLES
from accord.optouts.models import OptOutList
from accord.vault.parquet import private_workspace

from ..forms import GDSForm
from .common import actor, current_membership, require_role

MAX_UPLOAD_BYTES = 256 * 1024 * 1024


def _managed(request: HttpRequest, list_id: uuid.UUID) -> OptOutList:
    membership = require_role(request, *MANAGING_ROLES)
    try:
        return queries.managed_list(membership.organisation_id, list_id)
    except queries.OptOutListNotFound:
        raise Http404("There is no such opt-out list managed by your organisation.") from None


@login_required
def optout_lists(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    lists = queries.lists_seen_by(membership.organisation_id)
    manager = membership.has_role(*MANAGING_ROLES)
    return render(
        request,
        "web/optouts/list.html",
        {
            "lists": lists,
            "organisation_id": membership.organisation_id,
            "manager": manager,
        },
    )


@login_required
def optout_list(request: HttpRequest, list_id: uuid.UUID) -> HttpResponse:
    opt_out_list = _managed(request, list_id)
    return render(request, "web/optouts/detail.html", {"list": opt_out_list})


class UploadForm(GDSForm):
    submit_label = "Replace the list"

    upload = forms.FileField(
        label="Upload the new list",
        help_text="CSV, Excel (XLSX) or OpenDocument (ODS) with one column headed “NHS number”. "
        "It replaces the whole list.",
        error_messages={"required": "Choose the file with the list"},
    )

    def clean_upload(self) -> Any:
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Remove any "
                "columns other than the NHS numbers, or ask the platform's operators to load it."
            )
        return upload

    def layout_fields(self) -> list[Any]:
        return [Field.text("upload")]


@require_http_methods(["GET", "POST"])
@login_required
def optout_upload(request: HttpRequest, list_id: uuid.UUID) -> HttpResponse:
    opt_out_list = _managed(request, list_id)
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    problems: list[str] = []
    if posted and form.is_valid():
        upload = form.cleaned_data["upload"]
        try:
            with private_workspace() as folder:
                path = folder / "upload"
                with path.open("wb") as handle:
                    for chunk in upload.chunks():
                        handle.write(chunk)
                loaded = actions.load_list(
                    by=actor(request), opt_out_list=opt_out_list, source=path
                )
        except actions.InvalidList as invalid:
            form.add_error(None, invalid.reason)
            problems = invalid.problems
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            messages.success(
                request,
                f"{loaded.name} now has {loaded.count:,} people (version {loaded.version}). "
                "The previous version was destroyed.",
            )
            return redirect("web:optout_list", list_id=loaded.pk)
    return render(
        request,
        "web/optouts/upload.html",
        {
            "form": form,
            "list": opt_out_list,
            "problems": problems,
            "heading": f"Upload a new version of {opt_out_list.name}",
        },
    )


urlpatterns: list[URLPattern] = [
    path("opt-outs/", optout_lists, name="optouts"),
    path("opt-outs/<uuid:list_id>/", optout_list, name="optout_list"),
    path("opt-outs/<uuid:list_id>/upload/", optout_upload, name="optout_upload"),
]

"""Data shared with an organisation, as people see it: what each agreement in force grants it
(fields and what is done to each, which rows, for which purposes, until when), asking for an
extract of a compiled collection or a release, following the extract while it is built, and
downloading it; and, for providers, publishing a release to every recipient at once and seeing
who has picked it up.

The views are thin: every rule is in ``accord.access`` (the decision point decides every request,
build and download). Sources, extracts and releases that are not the organisation's are "page
not found", the same as ones that do not exist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accord.access import extracts as extract_rules
from accord.access import releases as release_rules
from accord.access.decisions import FieldGrant, generalisation_level
from accord.access.exceptions import AccessDenied
from accord.access.extracts import Source, SourceNotFound
from accord.access.models import Extract, ExtractFormat, ExtractState, Grant, Release
from accord.access.queries import purposes_open_to
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.enums import DATA_READING_ROLES
from accord.organisations.models import Membership
from accord.vault.models import VaultObject
from accord.vault.queries import resource_for

from ..forms import GDSForm
from .common import actor, require_role

MAX_UPLOAD_BYTES = 256 * 1024 * 1024

PSEUDONYMISED = "Pseudonymised (each value replaced by a code only this agreement uses)"

# How far a generalised field is coarsened, in words.
LEVELS = {
    "postcode_sector": "postcode sector (like ME14 1)",
    "postcode_district": "postcode district (like ME14)",
    "age_band": "age band",
    "year": "year only",
}
ACTIONS = {
    "view": "View",
    "extract": "Take an extract",
    "aggregate_only": "Aggregates only",
    "link": "Link with other data",
}
STATE_TAGS = {
    ExtractState.QUEUED: "grey",
    ExtractState.BUILDING: "blue",
    ExtractState.READY: "green",
    ExtractState.REFUSED: "red",
    ExtractState.FAILED: "red",
}


def _reader(request: HttpRequest) -> Membership:
    return require_role(request, *DATA_READING_ROLES)


def level_label(level: str) -> str:
    return LEVELS.get(level, level.replace("_", " "))


@dataclass(frozen=True)
class FieldShown:
    name: str
    treatment: str
    withheld: bool


def _treatment(field: dict[str, Any]) -> FieldShown:
    name = str(field.get("name", ""))
    how = str(field.get("transformation") or "none")
    if how == "pseudonymise_keyed_hash":
        return FieldShown(
            name, "Pseudonymised (replaced by a code only this agreement uses)", False
        )
    if how in ("generalise", "truncate"):
        level = generalisation_level(
            FieldGrant(
                name=name,
                transformation=how,
                data_type=str(field.get("data_type") or "string"),
                identifier_type=str(field.get("identifier_type") or ""),
            )
        )
        if level:
            return FieldShown(name, f"Generalised to {level_label(level)}", False)
        return FieldShown(name, "Withheld (it cannot be safely generalised)", True)
    if how in ("suppress", "aggregate"):
        return FieldShown(name, "Withheld", True)
    return FieldShown(name, "Shared as it is", False)


def _row_limit(grant: Grant) -> str:
    row_filter = grant.row_filter
    if not row_filter:
        return "All rows"
    values = ", ".join(str(v) for v in row_filter.get("values", [])) or "none"
    return f"Only rows for your area: {values} (column {row_filter.get('column', '')})"


@dataclass(frozen=True)
class GrantShown:
    grant: Grant
    sources: list[Source]
    purposes: list[str]
    actions: list[str]
    fields: list[FieldShown]
    rows: str


def _shown(shared: extract_rules.Shared) -> GrantShown:
    grant = shared.grant
    return GrantShown(
        grant=grant,
        sources=shared.sources,
        purposes=[str(title) for _, title in grant.purposes],
        actions=[ACTIONS.get(a, a.replace("_", " ").capitalize()) for a in grant.actions],
        fields=[_treatment(f) for f in grant.fields],
        rows=_row_limit(grant),
    )


@login_required
def shared(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    items = [_shown(s) for s in extract_rules.shared_with(membership.organisation)]
    return render(request, "web/sharing/shared.html", {"items": items})


# Extracts ---------------------------------------------------------------------------------------


@login_required
def extract_list(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    rows = [
        {
            "extract": e,
            "tag": STATE_TAGS.get(ExtractState(e.state), "grey"),
            "delete_by": extract_rules.delete_by(e),
        }
        for e in extract_rules.extracts_of(membership.organisation)
    ]
    return render(request, "web/sharing/extracts.html", {"rows": rows})


class ExtractForm(GDSForm):
    submit_label = "Request the extract"

    purpose = forms.ChoiceField(
        label="What will you use the data for?",
        help_text="Only the purposes the agreement names. The data may be used for nothing else.",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the purpose you will use the data for"},
    )
    format = forms.ChoiceField(
        label="Which format?",
        choices=ExtractFormat.choices,
        initial=ExtractFormat.CSV,
        widget=forms.RadioSelect,
        error_messages={"required": "Select a format"},
    )

    def __init__(self, purposes: list[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["purpose"]
        choice.choices = [(p, p) for p in purposes]
        if len(purposes) == 1:
            self.initial.setdefault("purpose", purposes[0])

    def layout_fields(self) -> list[Any]:
        return [
            Field.radios("purpose", legend_size=Size.SMALL),
            Field.radios("format", legend_size=Size.SMALL, small=True),
        ]


class SliceForm(ExtractForm):
    submit_label = "Download your slice"


def _source(membership: Membership, ref: str) -> Source:
    try:
        return extract_rules.source_for(membership.organisation_id, ref)
    except SourceNotFound as exc:
        raise Http404("There is no such data for your organisation.") from exc


def _purposes(membership: Membership, source_data: Any) -> list[str]:
    return purposes_open_to(str(membership.organisation_id), resource_for(source_data))


@login_required
def extract_new(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    source = _source(membership, request.GET.get("source", ""))
    purposes = _purposes(membership, source.data)
    heading = f"Request an extract of {source.name}"
    if not purposes:
        return render(
            request,
            "web/sharing/no_purpose.html",
            {"source": source, "heading": heading},
        )
    form = ExtractForm(purposes, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        extract, status = _ask_for_extract(
            request, form, source.data, collection=source.collection, release=source.release
        )
        if extract is not None:
            return redirect("web:extract", extract_id=extract.pk)
    return render(
        request,
        "web/sharing/extract_new.html",
        {"form": form, "heading": heading, "source": source},
        status=status,
    )


def _ask_for_extract(
    request: HttpRequest,
    form: ExtractForm,
    data: VaultObject,
    *,
    collection: Any = None,
    release: Release | None = None,
) -> tuple[Extract | None, int]:
    """Ask for the extract the valid ``form`` describes: the extract, or None with the refusal
    on the form and the status to answer with (403 when the decision point said no)."""
    try:
        extract = extract_rules.request_extract(
            by=actor(request),
            source=data,
            purpose=form.cleaned_data["purpose"],
            fmt=form.cleaned_data["format"],
            collection=collection,
            release=release,
        )
    except AccessDenied as denial:
        form.add_error(None, denial.reason)
        return None, 403
    except Refused as refusal:
        form.add_error(None, refusal.reason)
        return None, 200
    return extract, 200


def _extract(membership: Membership, extract_id: uuid.UUID) -> Extract:
    try:
        return extract_rules.extract_for(membership.organisation_id, extract_id)
    except Extract.DoesNotExist as exc:
        raise Http404("There is no such extract for your organisation.") from exc


def _applied(extract: Extract) -> dict[str, Any]:
    applied = extract.applied or {}
    return {
        "pseudonymised": list(applied.get("pseudonymised", [])),
        "generalised": [(f, level_label(level)) for f, level in applied.get("generalised", [])],
        "rows_limited_to": [(c, ", ".join(v)) for c, v in applied.get("rows_limited_to", [])],
        "fields_withheld": list(applied.get("fields_withheld", [])),
    }


@login_required
def extract_detail(request: HttpRequest, extract_id: uuid.UUID) -> HttpResponse:
    membership = _reader(request)
    extract = _extract(membership, extract_id)
    state = ExtractState(extract.state)
    return render(
        request,
        "web/sharing/extract.html",
        {
            "extract": extract,
            "state_label": state.label,
            "tag": STATE_TAGS.get(state, "grey"),
            "building": state in (ExtractState.QUEUED, ExtractState.BUILDING),
            "progress": extract.progress,
            "applied": _applied(extract),
            "delete_by": extract_rules.delete_by(extract),
            "format_label": ExtractFormat(extract.format).label,
        },
    )


@never_cache
@require_GET
@login_required
def extract_download(request: HttpRequest, extract_id: uuid.UUID) -> HttpResponseBase:
    membership = _reader(request)
    extract = _extract(membership, extract_id)
    try:
        download = extract_rules.open_extract(extract, by=actor(request))
    except NotPermitted as refusal:
        raise PermissionDenied(refusal.reason) from refusal
    response = StreamingHttpResponse(iter(download.reader), content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


# Releases ---------------------------------------------------------------------------------------


@login_required
def release_list(request: HttpRequest) -> HttpResponse:
    membership = _reader(request)
    organisation = membership.organisation
    now = timezone.now()
    schedules = [
        {"schedule": s, "overdue": s.overdue(now)} for s in release_rules.schedules_of(organisation)
    ]
    published = [
        {
            "release": r,
            "picked_up": r.recipients.filter(received_at__isnull=False).count(),
            "recipients": r.recipients.count(),
        }
        for r in release_rules.releases_by(organisation)
    ]
    return render(
        request,
        "web/sharing/releases.html",
        {
            "schedules": schedules,
            "published": published,
            "received": list(release_rules.releases_to(organisation)),
            "can_publish": bool(schedules) and membership.has_role(*release_rules.PUBLISHING_ROLES),
        },
    )


class ReleaseForm(GDSForm):
    submit_label = "Publish"

    outlet = forms.ChoiceField(
        label="What are you publishing, under which agreement?",
        error_messages={"required": "Choose what you are publishing"},
    )
    label = forms.CharField(
        label="Name of the release",
        help_text="For example, Week ending 13 November 2026",
        max_length=200,
        error_messages={"required": "Enter a name for the release"},
    )
    upload = forms.FileField(
        label="Upload the file",
        help_text="CSV, Excel (XLSX) or OpenDocument (ODS), filled in to the data standard",
        error_messages={"required": "Choose the file to publish"},
    )
    caveats = forms.CharField(
        label="Anything the recipients should know? (optional)",
        help_text="For example, 'Figures for the last week are provisional'",
        widget=forms.Textarea,
        required=False,
        max_length=5000,
    )

    def __init__(self, outlets: list[release_rules.Outlet], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["outlet"]
        choice.choices = [(o.key, o.label) for o in outlets]

    def clean_upload(self) -> Any:
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Publish it "
                "through the API instead."
            )
        return upload

    def layout_fields(self) -> list[Any]:
        return [
            Field.select("outlet"),
            Field.text("label"),
            Field("upload"),
            Field.textarea("caveats", rows=3),
        ]


@login_required
def release_new(request: HttpRequest) -> HttpResponse:
    membership = require_role(request, *release_rules.PUBLISHING_ROLES)
    outlets = release_rules.outlets_of(membership.organisation)
    if not outlets:
        raise PermissionDenied(
            "No agreement in force names your organisation as the provider of a dataset, so "
            "there is nothing it can publish."
        )
    form = ReleaseForm(outlets, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        outlet = release_rules.outlet_for(membership.organisation, data["outlet"])
        upload = data["upload"]
        try:
            if outlet is None:
                raise Refused("Choose what you are publishing from the list.")
            frame = release_rules.frame_from_file(
                release_rules.standard_of(outlet), upload.name, upload.read()
            )
            release = release_rules.publish(
                by=actor(request),
                agreement=outlet.agreement,
                flow_id=outlet.flow_id,
                dataset_id=outlet.dataset_id,
                label=data["label"],
                frame=frame,
                caveats=data["caveats"],
            )
        except Refused as refusal:  # NotPermitted is a Refused
            form.add_error(None, refusal.reason)
        else:
            return redirect("web:release", release_id=release.pk)
    return render(
        request,
        "web/sharing/release_new.html",
        {"form": form, "heading": "Publish data"},
    )


@login_required
def release_detail(request: HttpRequest, release_id: uuid.UUID) -> HttpResponse:
    membership = _reader(request)
    try:
        release = release_rules.release_for(membership.organisation_id, release_id)
    except Release.DoesNotExist as exc:
        raise Http404("There is no such release for your organisation.") from exc
    provider = release.provider_id == membership.organisation_id
    recipients = list(release.recipients.select_related("organisation")) if provider else []
    picked_up = sum(1 for r in recipients if r.received_at is not None)
    own = (
        None
        if provider
        else release.recipients.filter(organisation=membership.organisation).first()
    )
    form = None
    status = 200
    if not provider and release.data is not None:
        purposes = _purposes(membership, release.data)
        form = SliceForm(purposes, request.POST or None) if purposes else None
        if form is not None and request.method == "POST" and form.is_valid():
            extract, status = _ask_for_extract(request, form, release.data, release=release)
            if extract is not None:
                return redirect("web:extract", extract_id=extract.pk)
    return render(
        request,
        "web/sharing/release.html",
        {
            "release": release,
            "provider": provider,
            "recipients": recipients,
            "picked_up": picked_up,
            "not_picked_up": len(recipients) - picked_up,
            "percent": round(100 * picked_up / len(recipients)) if recipients else 0,
            "own": own,
            "form": form,
            "extracts": list(
                release.extracts.filter(organisation=membership.organisation).order_by(
                    "-created_at"
                )
            )
            if not provider
            else [],
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("shared/", shared, name="shared"),
    path("extracts/", extract_list, name="extracts"),
    path("extracts/new/", extract_new, name="extract_new"),
    path("extracts/<uuid:extract_id>/", extract_detail, name="extract"),
    path("extracts/<uuid:extract_id>/download/", extract_download, name="extract_download"),
    path("releases/", release_list, name="releases"),
    path("releases/new/", release_new, name="release_new"),
    path("releases/<uuid:release_id>/", release_detail, name="release"),
]

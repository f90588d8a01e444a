"""Collections and submissions as people see them: what is due, sending a return (with a
progress indicator while it is checked), the report, and — for the organisation that runs the
collection — who has sent what for each period, and the compiled dataset with its provenance
and caveats. Every read of shared data (problems, compiled rows) goes through the decision point.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.access.decisions import decide
from accord.access.enums import Action
from accord.access.extracts import as_permitted
from accord.agreements.models import Framework
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.models import Membership, Organisation
from accord.standards.queries import get_standard, latest_versions
from accord.submissions import actions, periods, queries, transitions
from accord.submissions.models import Collection, CompiledDataset, Submission
from accord.vault.exceptions import ObjectDeleted
from accord.vault.parquet import read_frame
from accord.vault.queries import resource_for

from ..drafting import DayField
from ..forms import GDSForm
from .common import actor, current_membership, require_role

MAX_UPLOAD_BYTES = 256 * 1024 * 1024
PREVIEW_ROWS = 20
PROBLEMS_SHOWN = 200
TIMES = [(dt.time(h, 0), f"{h:02d}:00") for h in range(0, 24)]


def _owner(membership: Membership, collection: Collection) -> bool:
    return membership.organisation_id == collection.owner_id


@login_required
def collection_list(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    collections = list(queries.collections_for(membership.organisation_id))
    return render(
        request,
        "web/collections/list.html",
        {
            "running": [c for c in collections if c.owner_id == membership.organisation_id],
            "sending": [c for c in collections if c.owner_id != membership.organisation_id],
            "due": queries.due_next(membership.organisation_id),
            "can_run": membership.has_role(*actions.RUNNING_ROLES),
            "can_send": membership.has_role(*actions.SUBMITTING_ROLES),
        },
    )


class CollectionForm(GDSForm):
    submit_label = "Set up the collection"

    name = forms.CharField(label="What is the collection called?", max_length=200)
    slug = forms.SlugField(
        label="A short name for links",
        help_text="Lower-case letters, numbers and hyphens, for example care-home-status-gm",
        max_length=80,
    )
    standard = forms.ChoiceField(label="Which data standard do returns follow?")
    schedule = forms.ChoiceField(
        label="How often are returns due?",
        choices=list(periods.SCHEDULES.items()),
        widget=forms.RadioSelect,
    )
    starts_on = DayField(label="From which date?", required=True)
    deadline_days = forms.IntegerField(
        label="How many days after each period ends is the return due?",
        min_value=0,
        max_value=90,
        initial=0,
    )
    deadline_time = forms.TypedChoiceField(
        label="By what time that day?",
        choices=[(t.isoformat(), label) for t, label in TIMES],
        coerce=dt.time.fromisoformat,
        initial="12:00:00",
    )
    invalid_rows = forms.ChoiceField(
        label="What happens to a file with some invalid rows?",
        choices=[
            ("reject", "The whole file is rejected until it is corrected"),
            ("set_aside", "Valid rows are accepted; invalid rows are set aside for correction"),
        ],
        widget=forms.RadioSelect,
        initial="reject",
    )
    framework = forms.ModelChoiceField(
        queryset=Framework.objects.all(),
        label="Under which framework? (non-personal data may come under it without an agreement)",
        required=False,
        empty_label="None",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["standard"]
        choice.choices = [(s.slug, s.title) for s in latest_versions()]

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("name"),
            Field.text("slug"),
            Field.select("standard"),
            Field.radios("schedule", legend_size=Size.SMALL, small=True),
            Field.text("starts_on", field_width=10),
            Field.text("deadline_days", field_width=3),
            Field.select("deadline_time"),
            Field.radios("invalid_rows", legend_size=Size.SMALL, small=True),
            Field.select("framework"),
        ]


@login_required
def new_collection(request: HttpRequest) -> HttpResponse:
    require_role(request, *actions.RUNNING_ROLES)
    form = CollectionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            collection = actions.create_collection(
                by=actor(request),
                slug=data["slug"],
                name=data["name"],
                standard=get_standard(data["standard"]),
                schedule=data["schedule"],
                starts_on=data["starts_on"],
                deadline_days=data["deadline_days"],
                deadline_time=data["deadline_time"],
                invalid_rows=data["invalid_rows"],
                framework=data["framework"],
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            return redirect("web:collection", collection_id=collection.pk)
    return render(request, "web/form_page.html", {"form": form, "heading": "Set up a collection"})


def _compiled_preview(
    request: HttpRequest, compilation: CompiledDataset
) -> tuple[list[str], list[list[Any]]]:
    """The first rows of the compiled dataset, read through the decision point."""
    by = actor(request)
    resource = resource_for(compilation.data)
    decision = decide(
        actor=by,
        action=Action.VIEW,
        resource=resource,
        purpose=queries.reading_purpose(
            by, resource, "Looking at the compiled collection my organisation runs"
        ),
    )
    if decision.denied:
        return [], []
    try:
        rows = read_frame(compilation.data_id, by=by, decision=decision).head(PREVIEW_ROWS)
    except ObjectDeleted:
        return [], []  # the page says the compiled dataset is gone; nothing to show
    frame = as_permitted(rows, decision, keep_columns=queries.PROVENANCE_COLUMNS)
    return frame.columns, [list(row) for row in frame.iter_rows()]


@login_required
def collection_detail(request: HttpRequest, collection_id: str) -> HttpResponse:
    membership = current_membership(request)
    collection = queries.collection_for(membership.organisation_id, collection_id)
    owner = _owner(membership, collection)
    standard = actions.standard_of(collection)
    now = timezone.now()
    statuses = (
        [queries.period_status(collection, p, now) for p in queries.recent_periods(collection)]
        if owner
        else []
    )
    compilation = collection.compilations.order_by("-number").first() if owner else None
    columns, rows = _compiled_preview(request, compilation) if compilation else ([], [])
    contributors = list(
        collection.contributors.filter(is_active=True).select_related("organisation")
    )
    candidates = Organisation.objects.filter(is_active=True).exclude(
        pk__in=[c.organisation_id for c in contributors] + [collection.owner_id]
    )
    own = queries.history(collection, membership.organisation_id).select_related()
    return render(
        request,
        "web/collections/detail.html",
        {
            "collection": collection,
            "standard": standard,
            "owner": owner,
            "schedule": periods.SCHEDULES[collection.schedule],
            "statuses": statuses,
            "contributors": contributors,
            "candidates": candidates if owner else [],
            "compilation": compilation,
            "columns": columns,
            "rows": rows,
            "history": [
                {
                    "submission": s,
                    "label": transitions.LABELS[s.state],
                    "tag": transitions.TAGS[s.state],
                    "period": periods.label(collection.schedule, s.period),  # type: ignore[arg-type]
                }
                for s in own
            ],
            "is_contributor": any(
                c.organisation_id == membership.organisation_id for c in contributors
            ),
            "can_run": owner and membership.has_role(*actions.RUNNING_ROLES),
            "can_send": membership.has_role(*actions.SUBMITTING_ROLES),
        },
    )


@login_required
@require_POST
def add_contributor(request: HttpRequest, collection_id: str) -> HttpResponse:
    membership = current_membership(request)
    collection = queries.collection_for(membership.organisation_id, collection_id)
    chosen = request.POST.get("organisation", "")
    organisation = (
        Organisation.objects.filter(pk=int(chosen), is_active=True).first()
        if chosen.isdigit()
        else None
    )
    if organisation is None:
        messages.error(request, "Choose an organisation to add.")
    else:
        try:
            actions.add_contributor(
                by=actor(request), collection=collection, organisation=organisation
            )
        except Refused as refusal:
            messages.error(request, refusal.reason)
        else:
            messages.success(request, f"{organisation.name} is now expected to send returns.")
    return redirect("web:collection", collection_id=collection.pk)


class SubmitForm(GDSForm):
    submit_label = "Send the return"

    period = forms.ChoiceField(label="Which period is it for?")
    upload = forms.FileField(
        label="Upload the file",
        help_text="CSV, Excel (XLSX) or OpenDocument (ODS), filled in to the standard",
        error_messages={"required": "Choose the file to send"},
    )
    caveats = forms.CharField(
        label="Anything the people using this data should know? (optional)",
        help_text="For example, 'Beds figures exclude the closed wing'",
        widget=forms.Textarea,
        required=False,
        max_length=actions.MAX_CAVEATS,
    )

    def __init__(self, collection: Collection, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice: Any = self.fields["period"]
        choice.choices = [
            (p.isoformat(), periods.label(collection.schedule, p))  # type: ignore[arg-type]
            for p in queries.recent_periods(collection)
        ]

    def clean_upload(self) -> Any:
        upload = self.cleaned_data["upload"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Split it by "
                "period, or send it through the API."
            )
        return upload

    def layout_fields(self) -> list[Any]:
        return [Field.select("period"), Field.text("upload"), Field.textarea("caveats", rows=3)]


@login_required
def submit(request: HttpRequest, collection_id: str) -> HttpResponse:
    membership = require_role(request, *actions.SUBMITTING_ROLES)
    collection = queries.collection_for(membership.organisation_id, collection_id)
    form = SubmitForm(collection, request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["upload"]
        try:
            submission = actions.receive(
                by=actor(request),
                collection=collection,
                period=dt.date.fromisoformat(form.cleaned_data["period"]),
                filename=upload.name,
                source=upload.chunks(),
                caveats=form.cleaned_data["caveats"],
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            return redirect("web:submission", submission_id=submission.pk)
    return render(
        request,
        "web/collections/submit.html",
        {"form": form, "collection": collection, "heading": f"Send a return to {collection.name}"},
    )


def _problems(request: HttpRequest, submission: Submission) -> pl.DataFrame | None:
    """The problems the check found, read from the vault through the decision point."""
    try:
        return queries.problems_of(submission, by=actor(request))
    except NotPermitted:
        return None


@login_required
def submission_detail(request: HttpRequest, submission_id: str) -> HttpResponse:
    membership = current_membership(request)
    submission = queries.submission_for(membership.organisation_id, submission_id)
    collection = submission.collection
    sender = submission.organisation_id == membership.organisation_id
    problems = _problems(request, submission) if sender else None
    return render(
        request,
        "web/collections/submission.html",
        {
            "submission": submission,
            "collection": collection,
            "period": periods.label(collection.schedule, submission.period),  # type: ignore[arg-type]
            "label": transitions.LABELS[submission.state],
            "tag": transitions.TAGS[submission.state],
            "checking": submission.state in ("received", "validating"),
            "progress": submission.progress,
            "sender": sender,
            "problems": problems.head(PROBLEMS_SHOWN).to_dicts() if problems is not None else [],
            "problem_count": problems.height if problems is not None else 0,
            "rules": submission.summary.get("rules", []),
            "set_aside": submission.rows - submission.valid_rows
            if submission.state == "accepted"
            else 0,
        },
    )


@login_required
def problems_download(request: HttpRequest, submission_id: str) -> HttpResponse:
    membership = current_membership(request)
    submission = queries.submission_for(membership.organisation_id, submission_id)
    problems = (
        _problems(request, submission)
        if submission.organisation_id == membership.organisation_id
        else None
    )
    if problems is None:
        messages.error(request, "There is no problem report for this return.")
        return redirect("web:submission", submission_id=submission.pk)
    response = HttpResponse(problems.write_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="problems-{submission.pk}.csv"'
    return response


@login_required
def compiled_download(request: HttpRequest, collection_id: str) -> HttpResponse:
    membership = current_membership(request)
    collection = queries.collection_for(membership.organisation_id, collection_id)
    try:
        found = queries.compiled_rows(collection, by=actor(request))
    except NotPermitted as refusal:
        messages.error(request, refusal.reason)
        return redirect("web:collection", collection_id=collection.pk)
    if found is None:
        messages.error(request, "There is no compiled dataset for you to download yet.")
        return redirect("web:collection", collection_id=collection.pk)
    compilation, frame = found
    response = HttpResponse(frame.write_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{collection.slug}-compiled-{compilation.number}.csv"'
    )
    return response


urlpatterns: list[URLPattern] = [
    path("collections/", collection_list, name="collections"),
    path("collections/new/", new_collection, name="new_collection"),
    path("collections/<uuid:collection_id>/", collection_detail, name="collection"),
    path(
        "collections/<uuid:collection_id>/contributors/",
        add_contributor,
        name="add_contributor",
    ),
    path("collections/<uuid:collection_id>/submit/", submit, name="submit_return"),
    path(
        "collections/<uuid:collection_id>/compiled.csv",
        compiled_download,
        name="compiled_download",
    ),
    path("submissions/<uuid:submission_id>/", submission_detail, name="submission"),
    path(
        "submissions/<uuid:submission_id>/problems.csv",
        problems_download,
        name="problems_download",
    ),
]

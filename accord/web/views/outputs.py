"""Outputs as people see them: the dashboards made from a collection (the combined authority's
care home dashboard), each contributor's "Returned to you" page with its own area highlighted
and benchmarked, downloads as CSV and XLSX with the GSS markers, and defining an output over a
collection.

The views are thin: which outputs an organisation may see, and whether it may read one now, is
for ``accord.outputs.queries`` and the decision point. An output the organisation could not see
is "page not found", the same as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from crispy_forms_gds.layout import Field, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accord.access import extracts as extract_rules
from accord.access.exceptions import AccessDenied
from accord.access.extracts import SourceNotFound
from accord.access.queries import purposes_open_to
from accord.access.transform import write_extract
from accord.audit.exceptions import NotPermitted, Refused
from accord.organisations.enums import DATA_READING_ROLES
from accord.organisations.models import Membership, Organisation
from accord.outputs import actions as output_actions
from accord.outputs import flexible as flexible_rules
from accord.outputs import queries as output_queries
from accord.outputs import recipes
from accord.outputs.models import OutputDefinition, Profile
from accord.outputs.queries import OutputNotFound
from accord.submissions.models import Collection
from accord.vault.parquet import private_workspace
from accord.vault.queries import resource_for

from ..forms import GDSForm
from .common import actor, require_role

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _reader(request: HttpRequest) -> Membership:
    return require_role(request, *DATA_READING_ROLES)


def _definition(membership: Membership, definition_id: uuid.UUID) -> OutputDefinition:
    try:
        return output_queries.definition_for(membership.organisation_id, definition_id)
    except OutputNotFound as exc:
        raise Http404("There is no such output for your organisation.") from exc


def _summaries(organisation: Organisation, definitions: list[OutputDefinition]) -> list[Any]:
    return [
        {
            "definition": d,
            "latest": output_queries.latest_output(d),
            "making": output_queries.in_progress(d),
            "own": d.collection.owner_id == organisation.pk,
        }
        for d in definitions
    ]


@login_required
def output_list(request: HttpRequest) -> HttpResponse:
    """Outputs of the organisation's own collections, and those returned to it."""
    membership = _reader(request)
    organisation = membership.organisation
    definitions = list(output_queries.definitions_for(organisation))
    own = [d for d in definitions if d.collection.owner_id == organisation.pk]
    collections = Collection.objects.filter(owner=organisation).order_by("name")
    return render(
        request,
        "web/outputs/list.html",
        {
            "own": _summaries(organisation, own),
            "returned": _summaries(organisation, output_queries.returned_to(organisation)),
            "collections": collections,
        },
    )


@login_required
def returned(request: HttpRequest) -> HttpResponse:
    """Returned to you: every output made from the organisation's data (or shared with it),
    with its own area's latest figures beside everyone's."""
    membership = _reader(request)
    organisation = membership.organisation
    items = []
    for definition in output_queries.returned_to(organisation):
        latest = output_queries.latest_output(definition)
        board = None
        refusal = ""
        if latest is not None:
            try:
                table = output_queries.read_output(latest, by=actor(request), kind="returned")
            except NotPermitted as denial:
                refusal = denial.reason
            else:
                level, own = output_queries.own_place(organisation, table)
                board = output_queries.dashboard(
                    latest, table, own_area=own, area_level=level or "area", charts=False
                )
        contributed = latest is not None and latest.contributors.filter(pk=organisation.pk).exists()
        items.append(
            {
                "definition": definition,
                "latest": latest,
                "board": board,
                "refusal": refusal,
                "contributed": contributed,
            }
        )
    return render(request, "web/outputs/returned.html", {"items": items})


@login_required
def output_dashboard(request: HttpRequest, definition_id: uuid.UUID) -> HttpResponse:
    membership = _reader(request)
    organisation = membership.organisation
    definition = _definition(membership, definition_id)
    latest = output_queries.latest_output(definition)
    making = output_queries.in_progress(definition)
    context: dict[str, Any] = {
        "definition": definition,
        "latest": latest,
        "making": making,
        "own": definition.collection.owner_id == organisation.pk,
    }
    if latest is None:
        return render(request, "web/outputs/dashboard.html", context)
    try:
        table = output_queries.read_output(latest, by=actor(request))
    except NotPermitted as denial:
        raise PermissionDenied(denial.reason) from denial
    own_level, own_code = output_queries.own_place(organisation, table)
    level = request.GET.get("level", own_level or "area")
    recipe = recipes.recipe_for(definition.recipe)
    levels = [lv for lv in recipe.levels if lv.column]
    if level not in {lv.name for lv in levels}:
        level = "area"
    own_area = own_code if level == own_level else ""
    try:
        day = dt.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = None
    board = output_queries.dashboard(latest, table, own_area=own_area, area_level=level, day=day)
    context.update(
        {
            "board": board,
            "levels": levels,
            "level": level,
            "rules": output_queries.rules_text(latest),
            "queries": output_queries.recent_queries(definition) if context["own"] else [],
        }
    )
    return render(request, "web/outputs/dashboard.html", context)


@never_cache
@require_GET
@login_required
def output_download(request: HttpRequest, definition_id: uuid.UUID, fmt: str) -> HttpResponse:
    membership = _reader(request)
    definition = _definition(membership, definition_id)
    if fmt not in FORMATS:
        raise Http404("Outputs download as CSV or XLSX.")
    latest = output_queries.latest_output(definition)
    if latest is None:
        raise Http404("This output has not been made yet.")
    try:
        table = output_queries.read_output(latest, by=actor(request), kind=fmt)
    except NotPermitted as denial:
        raise PermissionDenied(denial.reason) from denial
    shown = output_queries.download_table(latest, table)
    name = f"{definition.slug}-{latest.periods_to or 'output'}"
    if fmt == "csv":
        buffer = io.BytesIO()
        buffer.write("\ufeff".encode())
        shown.write_csv(buffer)
        body = buffer.getvalue()
    else:
        metadata = {
            "title": definition.name,
            "made_from": definition.collection.name,
            "owner": definition.collection.owner.name,
            "output_number": str(latest.number),
            "made_at": latest.made_at.isoformat() if latest.made_at else "",
            "disclosure_control": " ".join(output_queries.rules_text(latest)),
            "symbols": "[c] confidential: suppressed to protect people; [x] not available",
            "caveats": "; ".join(
                f"{c.get('organisation')} ({c.get('period')}): {c.get('caveat')}"
                for c in latest.caveats
            )
            or "None",
        }
        with private_workspace() as folder:
            written = write_extract(shown, folder / "output.xlsx", fmt="xlsx", metadata=metadata)
            body = written.read_bytes()
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


class DefineOutputForm(GDSForm):
    submit_label = "Define the output"

    name = forms.CharField(
        label="Name",
        max_length=200,
        error_messages={"required": "Enter a name for the output"},
    )
    slug = forms.SlugField(
        label="Short name",
        help_text="Lower-case letters, numbers and hyphens, used in links and downloads.",
        max_length=80,
        error_messages={
            "required": "Enter a short name",
            "invalid": "Use only lower-case letters, numbers and hyphens in the short name",
        },
    )
    recipe = forms.ChoiceField(
        label="What to make",
        widget=forms.RadioSelect,
        error_messages={"required": "Select what to make"},
    )
    profile = forms.ChoiceField(
        label="Disclosure control",
        choices=[(p.value, p.label) for p in Profile if p != Profile.CELL_KEY],
        initial=Profile.STANDARD,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the disclosure control rules"},
    )
    control_organisational = forms.BooleanField(
        label="Also protect figures about organisations (homes in outbreak, vacant beds)",
        help_text="Only when an agreement asks for it: counts of homes are then treated like "
        "counts of people, and totals such as beds need enough contributors, none dominant.",
        required=False,
    )
    audience = forms.ModelMultipleChoiceField(
        label="Who else sees it",
        help_text="Every organisation whose returns it is made from sees it already.",
        queryset=Organisation.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, collection: Collection, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        recipe_field: Any = self.fields["recipe"]
        recipe_field.choices = [
            (r.slug, r.title)
            for r in recipes.RECIPES.values()
            if r.standard == collection.standard_slug
        ]
        audience: Any = self.fields["audience"]
        audience.queryset = (
            Organisation.objects.filter(is_active=True)
            .exclude(pk=collection.owner_id)
            .order_by("name")
        )

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("name"),
            Field.text("slug", field_width=20),
            Field.radios("recipe", legend_size=Size.SMALL),
            Field.radios("profile", legend_size=Size.SMALL),
            Field.checkbox("control_organisational", small=True),
            Field.checkboxes("audience", legend_size=Size.SMALL, small=True),
        ]


@login_required
def output_new(request: HttpRequest, collection_id: uuid.UUID) -> HttpResponse:
    membership = require_role(request, *output_actions.DEFINING_ROLES)
    collection = Collection.objects.filter(pk=collection_id, owner=membership.organisation).first()
    if collection is None:
        raise Http404("There is no such collection run by your organisation.")
    form = DefineOutputForm(collection, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            definition = output_actions.define_output(
                by=actor(request),
                collection=collection,
                slug=form.cleaned_data["slug"],
                name=form.cleaned_data["name"],
                recipe=form.cleaned_data["recipe"],
                profile=form.cleaned_data["profile"],
                audience=form.cleaned_data["audience"],
                control_organisational=form.cleaned_data["control_organisational"],
            )
        except Refused as refusal:
            form.add_error(None, refusal.reason)
        else:
            return redirect("web:output_dashboard", definition_id=definition.pk)
    return render(request, "web/outputs/new.html", {"form": form, "collection": collection})


urlpatterns: list[URLPattern] = [
    path("outputs/", output_list, name="outputs"),
    path("returned/", returned, name="returned"),
    path("outputs/<uuid:definition_id>/", output_dashboard, name="output_dashboard"),
    path(
        "outputs/<uuid:definition_id>/download.<str:fmt>",
        output_download,
        name="output_download",
    ),
    path("collections/<uuid:collection_id>/outputs/new/", output_new, name="output_new"),
]


# Flexible tables -------------------------------------------------------------------------------


class FlexibleForm(GDSForm):
    submit_label = "Make the table"

    by = forms.MultipleChoiceField(
        label="Count people by",
        help_text="Choose one or two. Counts are perturbed: a small, consistent adjustment so "
        "nobody can be picked out; the same question always gets the same answer.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one way to break the table down"},
    )
    purpose = forms.ChoiceField(
        label="What will you use the table for?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the purpose you will use the table for"},
    )

    def __init__(self, choices: list[tuple[str, str]], purposes: list[str], *args: Any,
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        by: Any = self.fields["by"]
        by.choices = choices
        purpose: Any = self.fields["purpose"]
        purpose.choices = [(p, p) for p in purposes]
        if len(purposes) == 1:
            self.initial.setdefault("purpose", purposes[0])

    def clean_by(self) -> list[str]:
        chosen = list(self.cleaned_data["by"])
        if len(chosen) > flexible_rules.MAX_DIMENSIONS:
            raise forms.ValidationError(
                f"Choose at most {flexible_rules.MAX_DIMENSIONS} ways to break the table down"
            )
        return chosen

    def layout_fields(self) -> list[Any]:
        return [
            Field.checkboxes("by", legend_size=Size.SMALL, small=True),
            Field.radios("purpose", legend_size=Size.SMALL, small=True),
        ]


@never_cache
@login_required
def flexible_table(request: HttpRequest, collection_id: uuid.UUID) -> HttpResponse:
    membership = _reader(request)
    try:
        source = extract_rules.source_for(membership.organisation_id, f"collection:{collection_id}")
    except SourceNotFound as exc:
        raise Http404("There is no such collection for your organisation.") from exc
    collection = source.collection
    rules = flexible_rules.flexible_for(collection) if collection is not None else None
    if collection is None or rules is None:
        raise Http404("This collection has no records of people to tabulate.")
    own = collection.owner_id == membership.organisation_id
    purposes = (
        [flexible_rules.OWN_PURPOSE]
        if own
        else purposes_open_to(str(membership.organisation_id), resource_for(source.data))
    )
    form = FlexibleForm(
        list(rules.classifications.items()), purposes, request.GET if "by" in request.GET else None
    )
    result = None
    status = 200
    if form.is_bound and form.is_valid():
        try:
            result = flexible_rules.flexible_table(
                by=actor(request),
                collection=collection,
                breakdowns=tuple(form.cleaned_data["by"]),
                purpose=form.cleaned_data["purpose"],
            )
        except AccessDenied as denial:
            form.add_error(None, denial.reason)
            status = 403
        except Refused as refusal:
            form.add_error(None, refusal.reason)
    return render(
        request,
        "web/outputs/flexible.html",
        {
            "form": form,
            "collection": collection,
            "result": result,
            "grid": flexible_rules.as_grid(result) if result is not None else None,
        },
        status=status,
    )


urlpatterns.append(
    path("collections/<uuid:collection_id>/table/", flexible_table, name="flexible_table")
)

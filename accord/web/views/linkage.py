"""Record linkage as an analyst meets it: the jobs of their organisation, a new job (datasets,
people or properties, purpose, the proposed comparisons), the ready-made single view of
vulnerability, a job's progress and quality report, the clerical review of borderline pairs,
and downloads of the linked dataset and the household view.

Thin views: which datasets may be linked, for what, is the decision point's (through
``accord.linkage.actions`` and ``queries``). Another organisation's job is "page not found".
"""

from __future__ import annotations

import uuid
from typing import Any

from crispy_forms_gds.layout import Button, Field, Layout, Size
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accord.access.exceptions import AccessDenied
from accord.access.transform import csv_bytes
from accord.audit.exceptions import NotPermitted, Refused
from accord.linkage import actions as linkage
from accord.linkage import engine, queries, single_view
from accord.linkage.models import Entity, JobState, LinkageJob
from accord.organisations.models import Membership

from ..forms import GDSForm
from .common import actor, require_role

# Borderline pairs shown on one review page.
REVIEW_PAGE = 25
DOWNLOADS = {"linked": "linked records", "view": "households"}


def _linker(request: HttpRequest) -> Membership:
    return require_role(request, *linkage.LINKING_ROLES)


def _job(membership: Membership, job_id: uuid.UUID) -> LinkageJob:
    try:
        return queries.job_for(membership.organisation_id, job_id)
    except queries.JobNotFound as exc:
        raise Http404("There is no such linkage job for your organisation.") from exc


@login_required
def linkage_jobs(request: HttpRequest) -> HttpResponse:
    membership = _linker(request)
    sources = queries.linkable_sources(membership.organisation)
    return render(
        request,
        "web/linkage/list.html",
        {
            "jobs": list(queries.jobs_for(membership.organisation)),
            "sources": sources,
            "single_view": queries.single_view_sources(sources),
            "single_view_name": single_view.NAME,
        },
    )


class NewJobForm(GDSForm):
    submit_label = "Link the datasets"

    name = forms.CharField(
        label="Name the job",
        max_length=200,
        error_messages={"required": "Enter a name for the job"},
    )
    entity = forms.ChoiceField(
        label="What are you linking?",
        choices=[
            (Entity.PERSON, "People: the same person in different datasets"),
            (Entity.PROPERTY, "Properties: the same home or building in different datasets"),
        ],
        widget=forms.RadioSelect,
        error_messages={"required": "Select people or properties"},
    )
    sources = forms.MultipleChoiceField(
        label="Which datasets?",
        help_text="Choose two or more.",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least two datasets to link"},
    )
    purpose = forms.CharField(
        label="What are you linking them for?",
        help_text="Shared data may be linked only for a purpose its agreement names.",
        max_length=500,
        error_messages={"required": "Enter or choose the purpose"},
    )
    comparisons = forms.MultipleChoiceField(
        label="Compare records on",
        help_text="The proposed comparisons suit most data: untick one only if it is wrong in "
        "your data. Strong identifiers (NHS number, UPRN) are matched exactly first.",
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    match_threshold = forms.TypedChoiceField(
        label="How sure must Accord be before it links two records?",
        choices=[
            ("0.7", "70% (recommended): more than 99 in 100 links right on realistic data"),
            ("0.9", "90%"),
            ("0.95", "95%"),
            ("0.99", "99%: fewest wrong links, more left for you to review"),
        ],
        coerce=float,
        initial="0.7",
        widget=forms.RadioSelect,
        error_messages={"required": "Select how sure Accord must be"},
    )
    keyed = forms.BooleanField(
        label="Link on keyed hashes of NHS numbers and UPRNs only (no names or addresses)",
        required=False,
    )

    def __init__(self, sources: list[queries.LinkableSource], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field: Any = self.fields["sources"]
        field.choices = [
            (s.ref, f"{s.name} ({'yours' if s.own else 'from ' + s.provider})") for s in sources
        ]
        purposes = queries.link_purposes(sources)
        if purposes:
            self.fields["purpose"] = forms.ChoiceField(
                label="What are you linking them for?",
                help_text="The purposes the agreements sharing these datasets allow linkage for.",
                choices=[(p, p) for p in purposes],
                widget=forms.RadioSelect,
                error_messages={"required": "Select the purpose"},
            )
            if len(purposes) == 1:
                self.initial.setdefault("purpose", purposes[0])
        person = engine.template("person")
        comparisons: Any = self.fields["comparisons"]
        comparisons.choices = [(c.key, c.label) for c in person.comparisons]
        self.initial.setdefault("comparisons", [c.key for c in person.comparisons])
        self.initial.setdefault("entity", Entity.PERSON)
        self.helper.layout = self._layout()

    def _layout(self) -> Any:
        purpose = (
            Field.radios("purpose", legend_size=Size.SMALL, small=True)
            if isinstance(self.fields["purpose"], forms.ChoiceField)
            else Field.text("purpose")
        )
        return Layout(
            Field.text("name"),
            Field.radios("entity", legend_size=Size.SMALL, small=True),
            Field.checkboxes("sources", legend_size=Size.SMALL, small=True),
            purpose,
            Field.checkboxes("comparisons", legend_size=Size.SMALL, small=True),
            Field.radios("match_threshold", legend_size=Size.SMALL, small=True),
            Field.checkbox("keyed", small=True),
            Button("submit", self.submit_label),
        )

    def layout_fields(self) -> list[Any]:
        return []


@login_required
def linkage_new(request: HttpRequest) -> HttpResponse:
    membership = _linker(request)
    sources = queries.linkable_sources(membership.organisation)
    form = NewJobForm(sources, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        template = engine.template(data["entity"])
        chosen = set(data["comparisons"]) if data["entity"] == Entity.PERSON else None
        disabled = (
            [c.key for c in template.comparisons if c.key not in chosen]
            if chosen is not None
            else []
        )
        try:
            job = linkage.create_job(
                by=actor(request),
                name=data["name"],
                entity=data["entity"],
                refs=data["sources"],
                purpose=data["purpose"],
                disabled=disabled,
                match_threshold=data["match_threshold"],
                keyed=data["keyed"],
            )
        except (Refused, AccessDenied) as refusal:
            form.add_error(None, _reason(refusal))
        else:
            return redirect("web:linkage_job", job_id=job.pk)
    return render(request, "web/linkage/new.html", {"form": form, "has_sources": len(sources) >= 2})


def _reason(error: Refused | AccessDenied) -> str:
    return error.reason if isinstance(error, Refused) else str(error)


@require_POST
@login_required
def linkage_single_view(request: HttpRequest) -> HttpResponse:
    """Make and run the ready-made single view of vulnerability over what is available."""
    membership = _linker(request)
    sources = queries.single_view_sources(queries.linkable_sources(membership.organisation))
    if not sources:
        raise Http404("The datasets for the single view of vulnerability are not available.")
    purposes = queries.link_purposes(sources)
    try:
        job = linkage.create_job(
            by=actor(request),
            name=single_view.NAME,
            entity=Entity.PERSON,
            refs=[s.ref for s in sources],
            purpose=purposes[0] if purposes else single_view.NAME,
            recipe=single_view.RECIPE,
        )
    except (Refused, AccessDenied) as refusal:
        return render(
            request,
            "web/linkage/refused.html",
            {"reason": _reason(refusal)},
            status=403 if isinstance(refusal, AccessDenied) else 409,
        )
    return redirect("web:linkage_job", job_id=job.pk)


@never_cache
@login_required
def linkage_job(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    membership = _linker(request)
    job = _job(membership, job_id)
    quality = queries.quality(job) if job.state == JobState.DONE else None
    households: dict[str, Any] | None = None
    if job.view_id and job.state == JobState.DONE:
        try:
            view = queries.read_result(job, "view", by=actor(request))
        except AccessDenied as denied:
            households = {"denied": str(denied)}
        else:
            households = {
                "rows": view.head(20).to_dicts(),
                "total": view.height,
                "by_category": dict(view.group_by("risk_category").len().iter_rows()),
            }
    model = engine.LinkModel.from_json(job.model) if job.model else None
    return render(
        request,
        "web/linkage/job.html",
        {
            "job": job,
            "quality": quality,
            "households": households,
            "model": model,
            "decisions": job.decisions.count(),
            "categories": ["critical", "high", "medium", "low"],
            # People removed under the National Data Opt-out, by dataset (counts only).
            "opted_out": [
                (source["name"], (job.stats or {}).get("opted_out", {}).get(source["ref"]))
                for source in job.sources
                if source["ref"] in (job.stats or {}).get("opted_out", {})
            ],
        },
    )


@require_POST
@login_required
def linkage_run(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    membership = _linker(request)
    job = _job(membership, job_id)
    try:
        linkage.run_again(by=actor(request), job=job)
    except NotPermitted as exc:
        raise PermissionDenied(exc.reason) from exc
    except Refused as refusal:
        return render(request, "web/linkage/refused.html", {"reason": refusal.reason}, status=409)
    return redirect("web:linkage_job", job_id=job.pk)


def _pair_rows(job: LinkageJob, pairs: Any, first: int = 0) -> list[dict[str, Any]]:
    decided = queries.decisions_on(job)
    names = {s["ref"]: s["name"] for s in job.sources}
    model = engine.LinkModel.from_json(job.model)
    keys = [c.key for c in model.comparisons]
    rows = []
    for row in pairs.slice(first, REVIEW_PAGE).to_dicts():
        key = (row["source_l"], row["record_l"], row["source_r"], row["record_r"])
        rows.append(
            {
                "id": "|".join(key),
                "left": names.get(row["source_l"], row["source_l"]),
                "right": names.get(row["source_r"], row["source_r"]),
                "probability": row["probability"],
                "values": [
                    (k, row.get(f"{k}_l"), row.get(f"{k}_r"))
                    for k in keys
                    if row.get(f"{k}_l") is not None or row.get(f"{k}_r") is not None
                ],
                "decided": decided.get(key),
            }
        )
    return rows


@never_cache
@login_required
def linkage_review(request: HttpRequest, job_id: uuid.UUID) -> HttpResponse:
    """Borderline pairs side by side: confirm or reject each. Seeing them is a decision."""
    membership = _linker(request)
    job = _job(membership, job_id)
    if request.method == "POST":
        pair = str(request.POST.get("pair", "")).split("|")
        verdict = request.POST.get("verdict")
        if len(pair) != 4 or verdict not in ("match", "not_match"):
            return render(
                request,
                "web/linkage/refused.html",
                {"reason": "Choose whether the pair is the same or not, then save."},
                status=400,
            )
        probability = request.POST.get("probability")
        try:
            linkage.decide_pair(
                by=actor(request),
                job=job,
                source_l=pair[0],
                record_l=pair[1],
                source_r=pair[2],
                record_r=pair[3],
                is_match=verdict == "match",
                probability=float(probability) if probability else None,
            )
        except NotPermitted as exc:
            raise PermissionDenied(exc.reason) from exc
        except (Refused, ValueError) as refusal:
            reason = refusal.reason if isinstance(refusal, Refused) else "That pair is not valid."
            return render(request, "web/linkage/refused.html", {"reason": reason}, status=400)
        index = str(request.POST.get("index", ""))
        shown = str(request.POST.get("page", ""))
        back = f"{request.path}?page={shown}" if shown.isdigit() else request.path
        return redirect(f"{back}#pair-{index}" if index.isdigit() else back)
    if job.borderline_id is None or job.state != JobState.DONE:
        raise Http404("This job has no pairs to review yet.")
    try:
        pairs = queries.read_result(job, "borderline", by=actor(request))
    except AccessDenied as denied:
        return render(request, "web/linkage/refused.html", {"reason": str(denied)}, status=403)
    except queries.JobNotFound as exc:
        raise Http404("This job's pairs have been destroyed.") from exc
    pages = max(1, -(-pairs.height // REVIEW_PAGE))
    page = int(request.GET["page"]) if str(request.GET.get("page", "")).isdigit() else 1
    if not 1 <= page <= pages:
        raise Http404("There is no such page of pairs.")
    return render(
        request,
        "web/linkage/review.html",
        {
            "job": job,
            "pairs": _pair_rows(job, pairs, (page - 1) * REVIEW_PAGE),
            "total": pairs.height,
            "page": page,
            "pages": pages,
            "first": (page - 1) * REVIEW_PAGE,
        },
    )


@require_GET
@login_required
def linkage_download(request: HttpRequest, job_id: uuid.UUID, which: str) -> HttpResponse:
    membership = _linker(request)
    job = _job(membership, job_id)
    if which not in DOWNLOADS:
        raise Http404("There is no such download.")
    try:
        frame = queries.read_result(job, which, by=actor(request))
    except AccessDenied as denied:
        return render(request, "web/linkage/refused.html", {"reason": str(denied)}, status=403)
    except queries.JobNotFound as exc:
        raise Http404("This job has no such result.") from exc
    try:
        body = csv_bytes(frame)
    except ValueError:  # a list column: joined for the spreadsheet
        body = csv_bytes(_flattened(frame))
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="linkage-{job.pk}-{which}.csv"'
    return response


def _flattened(frame: Any) -> Any:
    import polars as pl

    return frame.with_columns(
        pl.col(name).cast(pl.List(pl.String)).list.join("; ")
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    )


urlpatterns: list[URLPattern] = [
    path("linkage/", linkage_jobs, name="linkage_jobs"),
    path("linkage/new/", linkage_new, name="linkage_new"),
    path("linkage/single-view/", linkage_single_view, name="linkage_single_view"),
    path("linkage/<uuid:job_id>/", linkage_job, name="linkage_job"),
    path("linkage/<uuid:job_id>/run/", linkage_run, name="linkage_run"),
    path("linkage/<uuid:job_id>/review/", linkage_review, name="linkage_review"),
    path(
        "linkage/<uuid:job_id>/download/<str:which>.csv",
        linkage_download,
        name="linkage_download",
    ),
]
